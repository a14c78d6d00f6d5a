"""HTTP routes: search (JSON or an uploaded file), items, health, metrics and the web UI page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from xmodal import modalities
from xmodal.api.media import remove_thumbnails
from xmodal.api.paths import public_paths
from xmodal.api.schemas import (
    DeletedResponse,
    ErrorResponse,
    HealthResponse,
    ItemResponse,
    JobRequest,
    SearchOptions,
    SearchRequest,
    SearchResponse,
)
from xmodal.api.security import require_api_key
from xmodal.api.uploads import read_multipart
from xmodal.api.waveform import remove_waveforms
from xmodal.engine import Engine
from xmodal.errors import validation_message
from xmodal.search import Part, Query
from xmodal.search.results import PartHit
from xmodal.store.schema import ITEM

router = APIRouter()
ItemId = Annotated[int, PathParam(ge=0, le=2**63 - 1, description="an item's id")]
ERRORS = {code: {"model": ErrorResponse} for code in (400, 404, 413, 415, 422, 503)}
FORM_FIELDS = {
    "file": {"type": "string", "format": "binary", "description": "an image or audio file"},
    "weight": {
        "type": "number",
        "default": 1,
        "description": "the file's weight in a composite query (negative: unlike it)",
    },
    "modality": {"type": "array", "items": {"type": "string", "enum": list(modalities.NAMES)}},
    "k": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
    "offset": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0},
    "min_score": {"type": "number"},
    "mode": {"type": "string", "enum": ["vector", "keyword", "hybrid"], "default": "vector"},
    "fusion": {"type": "string", "enum": ["late", "early"], "default": "late"},
    "combine": {"type": "string", "enum": ["sum", "max"], "default": "sum"},
    "query": {
        "type": "string",
        "description": "a JSON object of more inputs and options, as in the JSON body (text, item, parts, filters)",
    },
}
SEARCH_DOC = {
    "requestBody": {
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SearchRequest"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": FORM_FIELDS}},
        },
        "required": True,
    }
}


def document_search_body(app: FastAPI) -> None:
    """/search and /jobs read their bodies themselves (after the key, under the JSON limit), so put
    SearchRequest, JobRequest and the models inside them into the schema's components by hand."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (SearchRequest, JobRequest):
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update({**body.pop("$defs", {}), model.__name__: body})
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _engine(request: Request) -> Engine:
    return request.app.state.engine


@router.post("/search", response_model=SearchResponse, responses=ERRORS, openapi_extra=SEARCH_DOC, tags=["search"])
async def search(request: Request) -> SearchResponse:
    """Search by text, item id or weighted parts (JSON), or by an uploaded image or audio file (multipart).

    Results can be filtered (path prefix, extensions, size and mtime ranges, metadata values), paged
    with `offset`, cut at `min_score`, and ranked by vector similarity, keywords (BM25 over text
    items) or both (hybrid, by reciprocal rank fusion)."""
    content_type = request.headers.get("content-type", "")
    upload: Part | None = None
    if content_type.startswith("application/json"):
        try:
            options: SearchOptions = SearchRequest.model_validate_json(await request.body())
        except ValidationError as error:
            raise HTTPException(422, validation_message(error.errors())) from None
    elif content_type.startswith("multipart/form-data"):
        options, upload = await read_multipart(request, request.app.state.settings)
    else:
        raise HTTPException(
            415, "send application/json ({'text': ...} or {'item': ...}) or multipart/form-data with a file"
        )
    query = Query(
        _parts(options, upload),
        options.modality,
        options.k,
        options.offset,
        options.min_score,
        public_paths(request).filters(options.filters),
        options.mode,
        **options.fusion_options(),
    )
    page = await run_in_threadpool(_engine(request).search, query)
    shown = [public_paths(request).hit(hit) for hit in page.hits]
    return SearchResponse(results=shown, offset=page.offset, next_offset=page.next_offset, mode=page.mode)


def _parts(options: SearchOptions, upload: Part | None) -> list[Part]:
    parts = [Part(text=part.text, item=part.item, weight=part.weight) for part in options.parts or []]
    if options.text is not None:
        parts.append(Part(text=options.text))
    if options.item is not None:
        parts.append(Part(item=options.item))
    return parts + ([upload] if upload is not None else [])


@router.get("/items/{item_id}", response_model=ItemResponse, responses=ERRORS, tags=["items"])
def get_item(item_id: ItemId, request: Request) -> ItemResponse:
    engine = _engine(request)
    item = engine.item(item_id)
    parts = engine.parts(item.id) if item.modality == ITEM else None
    return ItemResponse(
        id=item.id,
        external_id=item.external_id,
        modality=item.modality,
        path=public_paths(request).show(item.path),
        text=item.text,
        metadata=item.meta or {},
        status=item.status,
        error=item.error,
        size=item.size,
        mtime=item.mtime,
        parent_id=item.parent_id,
        parts=None
        if parts is None
        else [PartHit(p.id, p.modality, public_paths(request).show(p.path), p.text, piece=p.piece) for p in parts],
    )


@router.delete(
    "/items/{item_id}",
    response_model=DeletedResponse,
    tags=["items"],
    dependencies=[Depends(require_api_key)],
    responses={code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422)},
    summary="Remove an item (API key)",
)
def delete_item(item_id: ItemId, request: Request) -> DeletedResponse:
    """Removes the item's row and vector (its file stays where it is); an item with parts, its parts too."""
    engine = _engine(request)
    parts = [part.id for part in engine.parts(item_id)]  # an item's parts go with it
    engine.delete(item_id)  # 404 for an unknown item, 409 while a job writes the store
    for gone in (item_id, *parts):
        remove_thumbnails(engine.directory, gone)
        remove_waveforms(engine.directory, gone)
    return DeletedResponse(deleted=item_id)


@router.get("/health", response_model=HealthResponse, tags=["operations"], responses={503: {"model": HealthResponse}})
def health(request: Request, response: Response) -> HealthResponse:
    report = HealthResponse(**_engine(request).health(), read_only=request.app.state.settings.api_key is None)
    if report.problems:
        response.status_code = 503  # load balancers and probes take this store out of service
    return report


@router.get("/metrics", response_class=PlainTextResponse, tags=["operations"], summary="Prometheus metrics")
def metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
