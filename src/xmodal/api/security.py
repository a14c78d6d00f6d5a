"""The API key that mutating endpoints require. With no key configured the server is read-only."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the server's API key (XMODAL_API_KEY)")
bearer = HTTPBearer(auto_error=False, description="the server's API key as a bearer token")


def require_api_key(
    request: Request,
    key: str | None = Security(api_key_header),
    credentials: HTTPAuthorizationCredentials | None = Security(bearer),
) -> None:
    configured = request.app.state.settings.api_key
    if configured is None:
        raise HTTPException(
            403,
            "this server is read-only: set XMODAL_API_KEY (or api_key in the config file) to allow jobs and deletes",
        )
    given = key or (credentials.credentials if credentials else None)
    if given is None or not hmac.compare_digest(given.encode(), configured.get_secret_value().encode()):
        raise HTTPException(
            401, "missing or wrong API key: send it as the X-API-Key header", headers={"WWW-Authenticate": "Bearer"}
        )
