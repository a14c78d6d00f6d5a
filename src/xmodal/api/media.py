"""Serving stored items' files and image thumbnails.

Only a file registered in the store is ever served: the request names an item id, and the path
comes from the item's row, never from the request. The file is opened without following any link
and must still be the regular file of the record (size and mtime): an indexed folder is hostile
ground, where a file may be swapped for a link to /etc/shadow after it was indexed.
"""

from __future__ import annotations

import dataclasses
import io
import mimetypes
import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from xmodal import modalities
from xmodal.api.paths import PublicPaths, public_paths
from xmodal.api.schemas import ErrorResponse
from xmodal.encoders import MediaError, load_image
from xmodal.files import UnsafeFile, atomic_write, open_without_links
from xmodal.modalities import Limits
from xmodal.search import display_path
from xmodal.store import Item
from xmodal.store.schema import ITEM

router = APIRouter(tags=["media"])
ItemId = Annotated[int, PathParam(ge=0, le=2**63 - 1, description="an item's id")]
THUMBNAIL_SIDE = 320
EXTRA_TYPES = {
    ".flac": "audio/flac",
    ".opus": "audio/ogg",
    ".oga": "audio/ogg",
    ".ogg": "audio/ogg",
    ".aif": "audio/aiff",
    ".aiff": "audio/aiff",
    ".md": "text/markdown",
    ".mp4": "video/mp4",  # a video item's file is its clip
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
}
ERRORS = {code: {"model": ErrorResponse} for code in (404, 409, 422)}


def registered_item(request: Request, item_id: int) -> Item:
    item = request.app.state.engine.item(item_id, indexed=True)  # NotFound: 404
    if item.path is None:
        raise HTTPException(404, f"item {item_id} is an inline text with no file; its text is in GET /items/{item_id}")
    return item


def open_registered(item: Item, paths: PublicPaths) -> tuple[int, os.stat_result]:
    """The item's file, opened without following any link and checked against its record: a file
    swapped, replaced by a link or special file, or changed since it was indexed is not served.
    The caller closes the descriptor."""
    where = paths.show(item.path)
    try:
        descriptor, info = open_without_links(item.path)  # type: ignore[arg-type]
    except FileNotFoundError:
        raise HTTPException(404, f"the file of item {item.id} is no longer at {where}") from None
    except UnsafeFile:
        raise HTTPException(
            409, f"the file of item {item.id} at {where} is now a link or not a regular file: not served"
        ) from None
    except OSError as error:
        raise HTTPException(404, f"the file of item {item.id} cannot be read: {error.strerror or error}") from None
    if (info.st_size, info.st_mtime) != (item.size, item.mtime):
        os.close(descriptor)
        raise HTTPException(
            409, f"the file of item {item.id} at {where} changed since it was indexed: index it again to serve it"
        )
    return descriptor, info


class OpenedFileResponse(FileResponse):
    """Starlette's FileResponse (Range, HEAD, ETag) over a file opened and checked already: it reads
    /proc/self/fd/N, which is that very file even if its path is swapped after the check."""

    def __init__(self, descriptor: int, info: os.stat_result, **options: Any) -> None:
        super().__init__(f"/proc/self/fd/{descriptor}", stat_result=info, **options)
        self.descriptor = descriptor

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            os.close(self.descriptor)


def media_type(path: str, modality: str) -> str:
    suffix = Path(path).suffix.lower()
    guessed = EXTRA_TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0]
    if modality == "text":
        return f"{guessed or 'text/plain'}; charset=utf-8"
    return guessed or "application/octet-stream"


@router.get(
    "/items/{item_id}/media",
    response_class=FileResponse,
    responses={**ERRORS, 206: {"description": "a byte range (Range requests)"}},
    summary="The item's original file (supports Range requests)",
)
def item_media(
    item_id: ItemId,
    request: Request,
    download: Annotated[bool, Query(description="send it as an attachment (save, not show)")] = False,
) -> FileResponse:
    item = registered_item(request, item_id)
    descriptor, info = open_registered(item, public_paths(request))
    name = display_path(os.path.basename(item.path))  # type: ignore[arg-type]
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    return OpenedFileResponse(
        descriptor,
        info,
        media_type=media_type(item.path, item.modality),
        headers=headers,  # type: ignore[arg-type]
        filename=name,
        content_disposition_type="attachment" if download else "inline",
    )


@router.get(
    "/items/{item_id}/thumbnail",
    response_class=FileResponse,
    responses=ERRORS,
    summary="A JPEG thumbnail of an image item",
)
async def item_thumbnail(item_id: ItemId, request: Request) -> Response:
    from xmodal.encoders.video import frame_number  # PyAV loads with the first thumbnail, not with the app

    engine, settings = request.app.state.engine, request.app.state.settings
    item = engine.item(item_id, indexed=True)  # NotFound: 404
    frame = frame_number(item.piece) if item.modality == "image" and item.parent_id is not None else None
    shown = engine.item(item.parent_id, indexed=True) if frame is not None else item  # a frame: its video's file
    if shown.path is None:
        registered_item(request, item_id)  # the 404 saying why
    video = shown.modality == ITEM and modalities.for_path(shown.path) is modalities.VIDEO  # type: ignore[arg-type]
    if item.modality != "image" and not video:
        raise HTTPException(404, f"item {item_id} is {item.modality}; only images and videos have thumbnails")
    if video and frame is None:  # a video's poster: the frame in its middle (a first frame is often black)
        frame = (settings.video_frames // 2 + 1, settings.video_frames)
    descriptor, info = await run_in_threadpool(open_registered, shown, public_paths(request))
    headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    try:
        cache = thumbnail_path(engine.directory, item, info)
        if not cache.exists():
            try:
                if frame is not None:
                    data = await run_in_threadpool(frame_bytes, descriptor, Limits.for_indexing(settings), frame)
                else:
                    data = await run_in_threadpool(thumbnail_bytes, descriptor, settings.max_image_pixels)
            except MediaError as error:
                raise HTTPException(422, f"cannot make a thumbnail of item {item_id}: {error}") from None
            try:
                await run_in_threadpool(write_thumbnail, data, cache)
            except OSError:  # a read-only store: send it without caching
                return Response(data, media_type="image/jpeg", headers=headers)
    finally:
        os.close(descriptor)
    return FileResponse(cache, media_type="image/jpeg", headers=headers)


def thumbnail_path(store_directory: Path, item: Item, info: os.stat_result) -> Path:
    """Cached under the store, named after the item's content and the file's inode and change time,
    so a file replaced or rewritten in any way (which moves its ctime) never gets an old thumbnail."""
    return (
        Path(store_directory)
        / "thumbnails"
        / f"{item.id}-{(item.content_hash or 'none')[:16]}-{info.st_ino}-{info.st_ctime_ns}.jpg"
    )


def remove_thumbnails(store_directory: Path, item_id: int) -> None:
    for path in (Path(store_directory) / "thumbnails").glob(f"{item_id}-*.jpg"):
        path.unlink(missing_ok=True)


def thumbnail_bytes(descriptor: int, max_pixels: int) -> bytes:
    with os.fdopen(descriptor, "rb", closefd=False) as handle:
        image = load_image(handle, max_pixels, max_side=THUMBNAIL_SIDE)  # JPEGs decode at reduced scale: fast
    return _jpeg(image)


def frame_bytes(descriptor: int, limits: Limits, frame: tuple[int, int]) -> bytes:
    """Frame `number` of `count` of a video, as the video's frame parts are read."""
    from xmodal.encoders.video import load_video_frame

    number, count = frame
    caps = dataclasses.replace(modalities.video_caps(limits), frames=count, side=THUMBNAIL_SIDE)
    with os.fdopen(descriptor, "rb", closefd=False) as handle:
        return _jpeg(load_video_frame(handle, caps, number - 1)[1])


def _jpeg(image) -> bytes:  # noqa: ANN001 - a PIL image
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def write_thumbnail(data: bytes, cache: Path) -> None:
    """Replaces the item's older thumbnails; concurrent requests for one thumbnail each write whole files."""
    atomic_write(cache, lambda temporary: temporary.write_bytes(data))
    item_id = cache.name.split("-", 1)[0]
    for older in cache.parent.glob(f"{item_id}-*.jpg"):
        if older != cache:
            older.unlink(missing_ok=True)
