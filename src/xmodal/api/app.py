"""`create_app(settings)`: the API's composition root; the lifespan opens the store and the model."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from xmodal import __version__
from xmodal.api.routes import router
from xmodal.config import Settings
from xmodal.encoders import MediaError, UnsupportedModality
from xmodal.search import ItemNotFound, Searcher
from xmodal.store import Store


def create_app(settings: Settings, searcher: Searcher | None = None) -> FastAPI:
    """Pass a ready `searcher` to skip loading one (tests); otherwise the store at settings.store is opened."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.searcher = searcher or Searcher.open(settings)
        yield

    if searcher is None:
        Store.open(settings.store)  # a missing store is a clear error now, not a traceback in the lifespan
    app = FastAPI(title="xmodal", version=__version__, lifespan=lifespan, description="Any-to-any search over images, sounds and texts.")
    app.state.settings = settings
    app.include_router(router)
    _add_error_handlers(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    def reply(status: int):
        async def handler(_request: Request, error: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(error)}, status_code=status)

        return handler

    app.add_exception_handler(ItemNotFound, reply(404))
    app.add_exception_handler(MediaError, reply(422))
    app.add_exception_handler(UnsupportedModality, reply(422))

    async def validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        return JSONResponse({"detail": problems}, status_code=422)

    app.add_exception_handler(RequestValidationError, validation)
