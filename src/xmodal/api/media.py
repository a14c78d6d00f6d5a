"""Serving stored items' files and image thumbnails.

Only a file registered in the store is ever served: the request names an item id, and the path
comes from the item's row, never from the request.
"""

from __future__ import annotations

import io
import mimetypes
import os
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path as PathParam, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from xmodal.api.schemas import ErrorResponse
from xmodal.encoders import MediaError, load_image
from xmodal.search import display_path
from xmodal.store import Item

router = APIRouter(tags=["media"])
ItemId = Annotated[int, PathParam(ge=0, le=2**63 - 1, description="an item's id")]
THUMBNAIL_SIDE = 320
EXTRA_TYPES = {".flac": "audio/flac", ".opus": "audio/ogg", ".oga": "audio/ogg", ".ogg": "audio/ogg", ".aif": "audio/aiff", ".aiff": "audio/aiff", ".md": "text/markdown"}
ERRORS = {code: {"model": ErrorResponse} for code in (404, 422)}


def registered_file(request: Request, item_id: int) -> Item:
    item = request.app.state.searcher.store.get([item_id]).get(item_id)
    if item is None or item.status != "indexed":
        raise HTTPException(404, f"no indexed item with id {item_id}")
    if item.path is None:
        raise HTTPException(404, f"item {item_id} is an inline text with no file; its text is in GET /items/{item_id}")
    if not os.path.isfile(item.path):
        raise HTTPException(404, f"the file of item {item_id} is no longer at {display_path(item.path)}")
    return item


def media_type(path: str, modality: str) -> str:
    suffix = Path(path).suffix.lower()
    guessed = EXTRA_TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0]
    if modality == "text":
        return f"{guessed or 'text/plain'}; charset=utf-8"
    return guessed or "application/octet-stream"


@router.get(
    "/items/{item_id}/media", response_class=FileResponse, responses={**ERRORS, 206: {"description": "a byte range (Range requests)"}},
    summary="The item's original file (supports Range requests)",
)
def item_media(item_id: ItemId, request: Request) -> FileResponse:
    item = registered_file(request, item_id)
    name = display_path(os.path.basename(item.path))  # type: ignore[arg-type]
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    return FileResponse(item.path, media_type=media_type(item.path, item.modality), headers=headers,  # type: ignore[arg-type]
                        filename=name, content_disposition_type="inline")


@router.get("/items/{item_id}/thumbnail", response_class=FileResponse, responses=ERRORS, summary="A JPEG thumbnail of an image item")
async def item_thumbnail(item_id: ItemId, request: Request) -> Response:
    item = registered_file(request, item_id)
    if item.modality != "image":
        raise HTTPException(404, f"item {item_id} is {item.modality}; only images have thumbnails")
    cache = thumbnail_path(request.app.state.searcher.store.directory, item)
    headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    if not cache.exists():
        limit = request.app.state.settings.max_image_pixels
        try:
            await run_in_threadpool(write_thumbnail, item.path, cache, limit)
        except MediaError as error:
            raise HTTPException(422, f"cannot make a thumbnail of item {item_id}: {error}") from None
        except OSError:  # a read-only store: make it and send it without caching
            return Response(await run_in_threadpool(thumbnail_bytes, item.path, limit), media_type="image/jpeg", headers=headers)
    return FileResponse(cache, media_type="image/jpeg", headers=headers)


def thumbnail_path(store_directory: Path, item: Item) -> Path:
    """Cached under the store; the content hash in the name retires a thumbnail when its file changes."""
    return Path(store_directory) / "thumbnails" / f"{item.id}-{(item.content_hash or 'none')[:16]}.jpg"


def remove_thumbnails(store_directory: Path, item_id: int) -> None:
    for path in (Path(store_directory) / "thumbnails").glob(f"{item_id}-*.jpg"):
        path.unlink(missing_ok=True)


def thumbnail_bytes(path: str, max_pixels: int) -> bytes:
    image = load_image(path, max_pixels, max_side=THUMBNAIL_SIDE)  # JPEGs decode at reduced scale: fast
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def write_thumbnail(path: str, cache: Path, max_pixels: int) -> None:
    data = thumbnail_bytes(path, max_pixels)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache.parent, suffix=".tmp", delete=False) as temporary:
        temporary.write(data)
    os.replace(temporary.name, cache)  # concurrent requests for one thumbnail each write whole files
