"""HTTP routes: search (JSON or an uploaded file), items, health."""

from __future__ import annotations

import io
from pathlib import PurePath

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from xmodal.api.schemas import ErrorResponse, HealthResponse, ItemResponse, SearchRequest, SearchResponse
from xmodal.config import Settings
from xmodal.encoders import MediaError, load_audio, load_image, modality_for_path
from xmodal.encoders.media import sniff_modality
from xmodal.search import QueryOptions, Searcher, display_path

router = APIRouter()
ERRORS = {code: {"model": ErrorResponse} for code in (400, 404, 413, 415, 422)}
MULTIPART_DOC = {
    "requestBody": {
        "content": {
            "application/json": {"schema": SearchRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "an image or audio file"},
                        "modality": {"type": "array", "items": {"type": "string", "enum": ["text", "image", "audio"]}},
                        "k": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
                    },
                }
            },
        },
        "required": True,
    }
}


def _searcher(request: Request) -> Searcher:
    return request.app.state.searcher


def _settings(request: Request) -> Settings:
    return request.app.state.settings


@router.post("/search", response_model=SearchResponse, responses=ERRORS, openapi_extra=MULTIPART_DOC)
async def search(request: Request) -> SearchResponse:
    """Search by text or item id (JSON), or by an uploaded image or audio file (multipart)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return await _search_json(request)
    if content_type.startswith("multipart/form-data"):
        return await _search_upload(request)
    raise HTTPException(415, "send application/json ({'text': ...} or {'item': ...}) or multipart/form-data with a file")


async def _search_json(request: Request) -> SearchResponse:
    try:
        query = SearchRequest.model_validate_json(await request.body())
    except ValidationError as error:
        raise HTTPException(422, _problems(error)) from None
    searcher = _searcher(request)
    if query.text is not None:
        hits = await run_in_threadpool(searcher.search_text, query.text, query.modality, query.k)
    else:
        hits = await run_in_threadpool(searcher.search_item, query.item, query.modality, query.k)
    return SearchResponse(results=[hit.to_dict() for hit in hits])


async def _search_upload(request: Request) -> SearchResponse:
    settings = _settings(request)
    if int(request.headers.get("content-length") or 0) > settings.max_upload_bytes + 64 * 1024:
        raise HTTPException(413, f"upload larger than the {settings.max_upload_bytes} byte limit")
    async with request.form(max_files=1, max_fields=16) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, "multipart search needs a 'file' field holding an image or audio file")
        try:
            options = QueryOptions(modality=form.getlist("modality") or None, k=form.get("k") or 10)
        except ValidationError as error:
            raise HTTPException(422, _problems(error)) from None
        data = await upload.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"upload larger than the {settings.max_upload_bytes} byte limit")
    searcher = _searcher(request)
    kind = _upload_modality(upload, data)
    if kind == "image":
        image = load_image(io.BytesIO(data), settings.max_image_pixels)
        hits = await run_in_threadpool(searcher.search_image, image, options.modality, options.k)
    else:
        audio = load_audio(io.BytesIO(data), settings.max_audio_seconds)
        hits = await run_in_threadpool(searcher.search_audio, audio, options.modality, options.k)
    return SearchResponse(results=[hit.to_dict() for hit in hits])


def _upload_modality(upload: UploadFile, data: bytes) -> str:
    """Trust the declared type or extension when there is one, else sniff: image first, then audio."""
    declared = (upload.content_type or "").split("/")[0]
    if declared in ("image", "audio"):
        return declared
    by_name = modality_for_path(PurePath(upload.filename or ""))
    if by_name in ("image", "audio"):
        return by_name
    sniffed = sniff_modality(data)
    if sniffed is None:
        raise MediaError("the upload is neither an image nor an audio file in a format xmodal reads")
    return sniffed


@router.get("/items/{item_id}", response_model=ItemResponse, responses=ERRORS)
def get_item(item_id: int, request: Request) -> ItemResponse:
    item = _searcher(request).store.get([item_id]).get(item_id)
    if item is None:
        raise HTTPException(404, f"no item with id {item_id}")
    return ItemResponse(
        id=item.id, external_id=item.external_id, modality=item.modality, path=display_path(item.path), text=item.text,
        metadata=item.meta or {}, status=item.status, error=item.error, size=item.size, mtime=item.mtime,
    )


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/docs")  # the interactive API page, until a web UI lands


@router.get("/health", response_model=HealthResponse)
def health(request: Request) -> HealthResponse:
    store = _searcher(request).store
    return HealthResponse(status="ok", model=store.model, items=store.counts())


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors())
