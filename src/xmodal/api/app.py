"""`create_app(settings)`: the API's composition root. One Engine per app (opened here, its model loaded
by the lifespan); routes, jobs and metrics reach the store and the model only through it."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from xmodal import __version__
from xmodal.api import docs, jobs, media, routes, ui, waveform
from xmodal.api.limits import BodyLimit, BodyTooLarge, too_large_response
from xmodal.api.observability import Metrics, ObservabilityMiddleware, StoreCollector, configure_logging
from xmodal.config import Settings
from xmodal.engine import Engine
from xmodal.errors import XmodalError, validation_message


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """Pass a ready `engine` (tests); otherwise one opens over the store at settings.store (a missing
    store is a clear error now, not a traceback in the lifespan)."""
    owned = engine is None
    engine = Engine.open(settings) if engine is None else engine
    engine.batch_queries = True  # requests run in threads: their query encodes are gathered into batches

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine.load()  # the model, before the first request
        try:
            yield
        finally:
            app.state.jobs.shutdown()
            if owned:
                engine.close()

    configure_logging(settings.log_format)
    app = FastAPI(
        title="xmodal",
        version=__version__,
        lifespan=lifespan,
        description="Any-to-any search over images, sounds and texts.",
        docs_url=None,
        redoc_url=None,  # served from installed assets by docs.add_offline_docs: no CDN
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.jobs = jobs.JobRunner(settings, engine)
    app.state.metrics = Metrics()
    app.state.metrics.registry.register(StoreCollector(engine.stats, app.state.jobs.counts))
    for module in (routes, media, waveform, jobs, ui):
        app.include_router(module.router)
    docs.add_offline_docs(app)
    routes.document_search_body(app)
    app.mount("/static", StaticFiles(packages=[("xmodal.api", "static")]), name="static")
    _add_middleware(app, settings)
    _add_error_handlers(app)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """Added innermost first: the body limit sits inside CORS, and timing wraps everything."""
    json_limit = min(settings.max_json_bytes, settings.max_upload_bytes)
    app.add_middleware(BodyLimit, upload_limit=settings.max_upload_bytes, json_limit=json_limit)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "X-API-Key", "Authorization", "Range", "X-Request-ID"],
            expose_headers=["Content-Range", "Accept-Ranges", "Content-Length", "X-Request-ID", "Location"],
        )
    if settings.trusted_hosts:  # a DNS-rebinding page reaches a loopback server under its own name
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)


def _add_error_handlers(app: FastAPI) -> None:
    async def known(_request: Request, error: XmodalError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=error.status)

    app.add_exception_handler(XmodalError, known)  # type: ignore[arg-type]

    async def too_large(_request: Request, error: BodyTooLarge) -> JSONResponse:
        return too_large_response(error)

    app.add_exception_handler(BodyTooLarge, too_large)  # type: ignore[arg-type]

    async def validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(error.errors())}, status_code=422)

    app.add_exception_handler(RequestValidationError, validation)
