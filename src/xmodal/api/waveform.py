"""`GET /items/{id}/waveform`: a sound item's duration and ~100 peak levels, for the UI to draw.

Computed on first request from the registered file (opened as media.py opens it: no links, same
size and mtime as recorded), decoding at most `max_audio_seconds` as indexing does, and cached
under `<store>/waveforms/` with a name that changes whenever the file does (as thumbnails are).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from xmodal.api.media import ERRORS, ItemId, open_registered, registered_item
from xmodal.api.paths import public_paths
from xmodal.encoders import MediaError, load_audio
from xmodal.files import atomic_write
from xmodal.store import Item

router = APIRouter(tags=["media"])
PEAKS = 100
FOLDER = "waveforms"


class WaveformResponse(BaseModel):
    duration: float = Field(description="the whole sound's length in seconds")
    peaks: list[float] = Field(
        description="peak absolute levels (0-1 of full scale) of equal slices of the decoded span, in order"
    )
    peaks_seconds: float = Field(
        description="the span the peaks cover: the whole sound, or its first max_audio_seconds"
    )


@router.get(
    "/items/{item_id}/waveform",
    response_model=WaveformResponse,
    responses=ERRORS,
    summary="A sound item's duration and peak levels",
)
async def item_waveform(item_id: ItemId, request: Request) -> WaveformResponse:
    item = registered_item(request, item_id)
    if item.modality != "audio":
        raise HTTPException(404, f"item {item_id} is {item.modality}; only sounds have waveforms")
    max_seconds = request.app.state.settings.max_audio_seconds
    descriptor, info = await run_in_threadpool(open_registered, item, public_paths(request))
    try:
        cache = waveform_path(request.app.state.engine.directory, item, info, max_seconds)
        if cache.exists():
            return WaveformResponse.model_validate_json(cache.read_bytes())
        try:
            waveform = await run_in_threadpool(measure, descriptor, max_seconds)
        except MediaError as error:
            raise HTTPException(422, f"cannot draw the waveform of item {item_id}: {error}") from None
    finally:
        os.close(descriptor)
    try:
        await run_in_threadpool(write_waveform, waveform, cache)
    except OSError:  # a read-only store: answer without caching
        pass
    return waveform


def measure(descriptor: int, max_seconds: float) -> WaveformResponse:
    with os.fdopen(descriptor, "rb", closefd=False) as handle:
        audio = load_audio(handle, max_seconds)
        handle.seek(0)
        duration = header_seconds(handle) or audio.seconds
    return WaveformResponse(
        duration=round(max(duration, audio.seconds), 3),
        peaks=peaks(audio.samples),
        peaks_seconds=round(audio.seconds, 3),
    )


def header_seconds(handle: BinaryIO) -> float | None:
    """The length the file's header gives, so sounds longer than what is decoded show their real
    duration; None where the format does not say (frames unknown)."""
    try:
        with soundfile.SoundFile(handle) as sound:
            if sound.frames <= 0 or sound.frames >= 2**62 or sound.samplerate <= 0:
                return None
            return sound.frames / sound.samplerate
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None


def peaks(samples: np.ndarray, count: int = PEAKS) -> list[float]:
    """The largest absolute sample in each of `count` equal slices (fewer for very short sounds)."""
    slices = np.array_split(np.abs(samples), min(count, len(samples)))
    return [round(float(np.clip(part.max(), 0.0, 1.0)), 4) for part in slices]


def waveform_path(store_directory: Path, item: Item, info: os.stat_result, max_seconds: float) -> Path:
    """Named like thumbnails (content, inode, change time) plus the decoding limit it was made under."""
    key = f"{item.id}-{(item.content_hash or 'none')[:16]}-{info.st_ino}-{info.st_ctime_ns}-{max_seconds:g}s"
    return Path(store_directory) / FOLDER / f"{key}.json"


def write_waveform(waveform: WaveformResponse, cache: Path) -> None:
    """Written whole (temporary file, then rename), replacing the item's older waveforms."""
    atomic_write(cache, lambda temporary: temporary.write_text(waveform.model_dump_json()))
    for older in cache.parent.glob(f"{cache.name.split('-', 1)[0]}-*.json"):
        if older != cache:
            older.unlink(missing_ok=True)


def remove_waveforms(store_directory: Path, item_id: int) -> None:
    for path in (Path(store_directory) / FOLDER).glob(f"{item_id}-*.json"):
        path.unlink(missing_ok=True)
