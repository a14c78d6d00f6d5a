"""Uploaded query files: a bounded request body, multipart parsing, and decoding into a query part."""

from __future__ import annotations

import io
import json
from pathlib import PurePath
from typing import Any

import soundfile
from fastapi import HTTPException, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse

from xmodal.api.schemas import SearchOptions
from xmodal.config import Settings
from xmodal.encoders import MediaError, load_audio, load_image, modality_for_path
from xmodal.encoders.media import sniff_modality
from xmodal.errors import validation_message
from xmodal.search import Part

FORMATS = "images (JPEG, PNG, GIF, BMP, WebP, TIFF) or sounds (WAV, FLAC, Ogg Vorbis, Opus, MP3, AIFF)"
BODY_SLACK = 64 * 1024  # multipart boundaries and the other form fields
SIMPLE_FIELDS = ("k", "offset", "min_score", "mode")


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over the upload limit, by Content-Length or by counting what arrives."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await too_large_response(self.limit)(scope, receive, send)
                return
        received = 0

        async def counted() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


def too_large_response(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body larger than the upload limit ({limit - BODY_SLACK} bytes)"}, status_code=413)


def declared_length(request: Request) -> int:
    try:
        return int(request.headers.get("content-length") or 0)
    except ValueError:
        raise HTTPException(400, "Content-Length is not a number") from None


async def read_multipart(request: Request, settings: Settings) -> tuple[SearchOptions, Part | None]:
    """Form fields: `file` (image or audio), `weight` (the file's weight), `modality` (repeatable), `k`,
    `offset`, `min_score`, `mode`, and `query`: a JSON object with any other inputs and options."""
    if declared_length(request) > settings.max_upload_bytes + BODY_SLACK:
        raise BodyTooLarge()
    async with request.form(max_files=1, max_fields=32, max_part_size=1024 * 1024) as form:
        upload = form.get("file")
        if upload is not None and not isinstance(upload, UploadFile):
            raise HTTPException(422, "'file' must be a file upload (an image or a sound), not a text field")
        raw = _json_object(form.get("query"))
        if form.getlist("modality"):
            raw["modality"] = form.getlist("modality")
        raw.update({name: form[name] for name in SIMPLE_FIELDS if isinstance(form.get(name), str) and form[name] != ""})
        try:
            options = SearchOptions.model_validate(raw)
        except ValidationError as error:
            raise HTTPException(422, validation_message(error.errors())) from None
        weight = _weight(form.get("weight"))
        data = None if upload is None else await upload.read(settings.max_upload_bytes + 1)
    if upload is None:
        if not options.given_inputs():
            raise HTTPException(422, "multipart search needs a 'file' field holding an image or audio file")
        return options, None
    if len(data or b"") > settings.max_upload_bytes:  # type: ignore[arg-type]
        raise BodyTooLarge()
    return options, decode_upload(upload, data or b"", settings, weight)


def _json_object(value: object) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, str):
        raise HTTPException(422, "'query' must be a text field holding a JSON object")
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise HTTPException(422, f"'query' is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise HTTPException(422, "'query' must be a JSON object")
    return parsed


def _weight(value: object) -> float:
    if value is None or value == "":
        return 1.0
    try:
        weight = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise HTTPException(422, "weight: the file's weight must be a number") from None
    if not (-10 <= weight <= 10) or weight == 0:
        raise HTTPException(422, "weight: the file's weight must be non-zero, between -10 and 10")
    return weight


def decode_upload(upload: UploadFile, data: bytes, settings: Settings, weight: float = 1.0) -> Part:
    if not data:
        raise MediaError("the uploaded file is empty")
    if upload_modality(upload, data) == "image":
        return Part(image=load_image(io.BytesIO(data), settings.max_image_pixels), weight=weight)
    seconds = _duration(data)
    if seconds is not None and seconds > settings.max_audio_seconds:
        raise MediaError(
            f"the sound is {seconds:.1f} s long; query sounds may be at most {settings.max_audio_seconds:g} s "
            "(XMODAL_MAX_AUDIO_SECONDS): trim it"
        )
    return Part(audio=load_audio(io.BytesIO(data), settings.max_audio_seconds), weight=weight)


def upload_modality(upload: UploadFile, data: bytes) -> str:
    """Trust the declared type or extension when there is one, else sniff: image first, then audio."""
    declared = (upload.content_type or "").split("/")[0]
    if declared in ("image", "audio"):
        return declared
    by_name = modality_for_path(PurePath(upload.filename or ""))
    if by_name in ("image", "audio"):
        return by_name
    sniffed = sniff_modality(data)
    if sniffed is None:
        raise MediaError(f"the upload is neither an image nor an audio file in a format xmodal reads: send {FORMATS}")
    return sniffed


def _duration(data: bytes) -> float | None:
    try:
        info = soundfile.info(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - unreadable: load_audio gives the reason
        return None
    return info.duration if info.frames > 0 and info.samplerate > 0 else None
