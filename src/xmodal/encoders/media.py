"""Decoding files (or uploaded bytes) into the media the encoders take, with clear failures.

Which files are which modality is `xmodal.modalities`' table; its loaders call these."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Union

import numpy as np
import soundfile
from PIL import Image, ImageOps, UnidentifiedImageError

from xmodal.encoders.resample import MAX_RATE, MIN_RATE
from xmodal.errors import Invalid
from xmodal.files import open_regular

Source = Union[str, Path, BinaryIO]

BACKGROUND = (255, 255, 255)


class MediaError(Invalid):
    """A file that cannot be used, with a reason a person can act on."""


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32 mono
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


@contextmanager
def _opened(source: Source) -> Iterator[BinaryIO]:
    """Open paths here, so that a missing or unreadable file is an OSError, not a 'corrupt file', and a
    FIFO or device is refused (UnsafeFile, an OSError) instead of blocking or never ending."""
    if isinstance(source, (str, Path)):
        with open_regular(source) as handle:
            yield handle
    else:
        yield source


def load_image(
    source: Source,
    max_pixels: int,
    max_side: int | None = None,
    max_decoded_pixels: int | None = None,
    min_side: int | None = None,
) -> Image.Image:
    """RGB image, EXIF-rotated, transparency composited on white, first frame if animated;
    with `max_side`, shrunk to fit (JPEGs decode at reduced scale, which is much faster). With
    `min_side` (the shorter side an encoder resizes to), JPEGs decode at the smallest scale whose
    shorter side still covers it (1/2, 1/4 or 1/8: 5x faster for a 1024x768 photo than decoding it
    whole). With `max_decoded_pixels`, an image that would decode to more pixels (after any
    reduced-scale decoding) is refused before it is decoded: a few KB of lossless WebP can hold 49 MP."""
    with _opened(source) as handle:
        return _decode_image(handle, max_pixels, max_side, max_decoded_pixels, min_side)


def _decode_image(
    handle: BinaryIO,
    max_pixels: int,
    max_side: int | None,
    max_decoded_pixels: int | None = None,
    min_side: int | None = None,
) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(handle)
            width, height = image.size
            if width * height > max_pixels:
                raise MediaError(
                    f"image is {width}x{height} ({width * height / 1e6:.0f} MP), over the "
                    f"{max_pixels / 1e6:.0f} MP decompression-bomb limit; raise XMODAL_MAX_IMAGE_PIXELS to allow it"
                )
            image.seek(0)
            if sides := [side for side in (min_side, max_side) if side is not None]:
                image.draft("RGB", (min(sides), min(sides)))  # JPEG only: both sides stay >= the size asked
            _check_decoded_size(image, max_decoded_pixels)
            image.load()
            image = ImageOps.exif_transpose(image)
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise MediaError(f"image rejected as a decompression bomb: {error}") from error
    except UnidentifiedImageError:
        raise MediaError("not a readable image (unknown or corrupt format)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise MediaError(f"corrupt or truncated image: {error}") from error
    image = _to_rgb(image)
    if max_side is not None:
        image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    return image


def _check_decoded_size(image: Image.Image, max_decoded_pixels: int | None) -> None:
    """`image.size` is what decoding will produce (a JPEG's draft already reduced it)."""
    width, height = image.size
    if max_decoded_pixels is not None and width * height > max_decoded_pixels:
        raise MediaError(
            f"image decodes to {width}x{height} ({width * height / 1e6:.0f} MP), over the "
            f"{max_decoded_pixels / 1e6:g} MP limit for uploaded images: send a smaller image "
            "(or raise XMODAL_MAX_UPLOAD_PIXELS)"
        )


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, BACKGROUND)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def load_audio(source: Source, max_seconds: float) -> Audio:
    """Mono float32 samples at the file's own rate; anything past `max_seconds` is not read.

    Read in blocks and mixed down as it goes, so a header claiming hundreds of channels costs no
    more memory than a mono file; rates no real recording uses are refused before reading."""
    try:
        with _opened(source) as handle, soundfile.SoundFile(handle) as sound:
            rate, channels = sound.samplerate, sound.channels
            if not MIN_RATE <= rate <= MAX_RATE:
                raise MediaError(f"sample rate {rate} Hz is outside what xmodal reads ({MIN_RATE:,}-{MAX_RATE:,} Hz)")
            frames = int(max_seconds * rate)
            block = max(1024, (1 << 20) // max(1, channels))  # ~4 MB of interleaved samples per read
            mono = np.concatenate(
                [chunk.mean(axis=1) for chunk in _blocks(sound, frames, block)] or [np.zeros(0, np.float32)]
            )
    except MediaError:
        raise
    except soundfile.LibsndfileError as error:
        raise MediaError(f"not a readable audio file: {error.error_string.rstrip('.').lower()}") from None
    except (RuntimeError, TypeError, ValueError) as error:
        raise MediaError(f"not a readable audio file: {error}") from None
    if mono.shape[0] == 0:
        raise MediaError("audio file has no samples")
    mono = np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
    return Audio(samples=mono.astype(np.float32), sample_rate=rate)


def _blocks(sound: soundfile.SoundFile, frames: int, block: int) -> Iterator[np.ndarray]:
    while frames > 0:
        chunk = sound.read(frames=min(block, frames), dtype="float32", always_2d=True)
        if chunk.shape[0] == 0:
            return
        frames -= chunk.shape[0]
        yield chunk


def load_text(source: Source, max_chars: int) -> str:
    """UTF-8 text (a BOM is fine), cut to `max_chars`; empty or binary files are refused."""
    with _opened(source) as handle:
        raw = handle.read(max_chars * 4)
    if b"\x00" in raw:
        raise MediaError("binary data, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start < len(raw) - 3:  # not just a multi-byte character cut at the read limit
            raise MediaError(f"not UTF-8 text (bad byte at offset {error.start})") from None
        text = raw[: error.start].decode("utf-8-sig")
    text = text[:max_chars].strip()
    if not text:
        raise MediaError("empty text")
    return text
