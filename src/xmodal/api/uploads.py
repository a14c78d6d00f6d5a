"""Uploaded query files: a bounded request body, multipart parsing, and decoding into a query part."""

from __future__ import annotations

import functools
import io
import json
from typing import Any

import anyio.to_thread
from fastapi import HTTPException, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from xmodal import modalities
from xmodal.api.limits import BODY_SLACK, BodyTooLarge
from xmodal.api.schemas import SearchOptions
from xmodal.config import Settings
from xmodal.encoders import MediaError
from xmodal.errors import validation_message
from xmodal.modalities import Limits, Modality
from xmodal.search import Part

SIMPLE_FIELDS = ("k", "offset", "min_score", "mode", "fusion", "combine")


def declared_length(request: Request) -> int:
    try:
        return int(request.headers.get("content-length") or 0)
    except ValueError:
        raise HTTPException(400, "Content-Length is not a number") from None


async def read_multipart(request: Request, settings: Settings) -> tuple[SearchOptions, Part | None]:
    """Form fields: `file` (image or audio), `weight` (the file's weight), `modality` (repeatable), `k`,
    `offset`, `min_score`, `mode`, and `query`: a JSON object with any other inputs and options."""
    if declared_length(request) > settings.max_upload_bytes + BODY_SLACK:
        raise _too_large(settings)
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
        raise _too_large(settings)
    # Off the event loop, a few at a time: a decode may take seconds and hundreds of MB.
    side = request.app.state.engine.image_input_side
    decode = functools.partial(decode_upload, upload, data or b"", settings, weight, side)
    return options, await anyio.to_thread.run_sync(decode, limiter=_decoders(request, settings))


def _decoders(request: Request, settings: Settings) -> anyio.CapacityLimiter:
    """One limiter per app, made in its event loop (anyio's limiters belong to one)."""
    state = request.app.state
    if getattr(state, "upload_decoders", None) is None:
        state.upload_decoders = anyio.CapacityLimiter(settings.upload_decoders)
    return state.upload_decoders


def _too_large(settings: Settings) -> BodyTooLarge:
    return BodyTooLarge(f"request body larger than the upload limit ({settings.max_upload_bytes} bytes)")


def _json_object(value: object) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, str):
        raise HTTPException(422, "'query' must be a text field holding a JSON object")
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise HTTPException(422, f"'query' is not valid JSON: {error}") from None
    except RecursionError:  # thousands of nested brackets
        raise HTTPException(422, "'query' is nested too deeply") from None
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


def decode_upload(
    upload: UploadFile, data: bytes, settings: Settings, weight: float = 1.0, image_side: int | None = None
) -> Part:
    if not data:
        raise MediaError("the uploaded file is empty")
    modality = upload_modality(upload, data)
    limits = Limits.for_queries(settings, upload=True, min_image_side=image_side)
    media = modality.load(io.BytesIO(data), limits)  # a long sound is refused, not cut
    return Part(media=media, modality=modality.name, weight=weight)


def upload_modality(upload: UploadFile, data: bytes) -> Modality:
    """Trust the declared type or extension when there is one, else sniff the bytes (in table order)."""
    choices = modalities.uploadable()
    declared = upload.content_type or ""
    by_type = next((modality for modality in choices if declared.startswith(modality.mime_prefixes)), None)
    by_name = modalities.for_path(upload.filename or "")
    chosen = by_type or (by_name if by_name in choices else None) or modalities.sniff(data)
    if chosen is None or chosen not in choices:
        kinds = " nor ".join(
            ("an " if m.name[0] in "aeiou" else "a ") + m.name for m in choices
        )  # an image nor an audio
        raise MediaError(
            f"the upload is neither {kinds} file in a format xmodal reads: send {modalities.upload_formats()}"
        )
    return chosen
