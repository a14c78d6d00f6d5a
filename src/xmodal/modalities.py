"""The modalities xmodal knows, in one table read by sources, decoding, uploads, queries, the store,
the searcher and the web UI. A new modality (video) is one more entry here, plus its loader and an
`_encode_<name>` tower method on the encoders that support it.

Importing this module is cheap: loaders import their decoders (PIL, soundfile) when first called.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, BinaryIO, Callable, Union

from xmodal.errors import Invalid

MediaSource = Union[str, PurePath, BinaryIO]  # a file path, or bytes wrapped in a file object


@dataclass(frozen=True)
class Limits:
    """How much of a file decoding may take in (decompression bombs, endless streams, huge texts)."""

    max_image_pixels: int
    max_image_side: int | None  # images are shrunk to fit; None keeps their size
    max_audio_seconds: float
    max_text_chars: int
    refuse_longer_audio: bool = False  # uploads: a longer sound is refused rather than cut
    max_decoded_pixels: int | None = None  # uploads: what an image may cost decoded, after reduced-size decoding
    video_frames: int = 8  # frames sampled from a video
    max_video_seconds: float = 4 * 3600.0
    max_video_pixels: int = 4096 * 2160  # a video frame's width x height
    # indexing: the shorter side the encoder resizes images to; JPEGs decode no larger than covers it
    min_image_side: int | None = None

    @classmethod
    def for_indexing(cls, settings: Any, min_image_side: int | None = None) -> "Limits":
        return cls(
            settings.max_image_pixels,
            settings.decode_max_side,
            settings.max_audio_seconds,
            settings.max_text_chars,
            video_frames=settings.video_frames,
            max_video_seconds=settings.max_video_seconds,
            max_video_pixels=settings.max_video_pixels,
            min_image_side=min_image_side,
        )

    @classmethod
    def for_queries(cls, settings: Any, upload: bool = False, min_image_side: int | None = None) -> "Limits":
        if not upload:
            return cls(settings.max_image_pixels, None, settings.max_audio_seconds, settings.max_text_chars)
        # An upload is decoded no larger than indexed images are (JPEGs at reduced scale), within a budget.
        return cls(
            settings.max_image_pixels,
            settings.decode_max_side,
            settings.max_audio_seconds,
            settings.max_text_chars,
            refuse_longer_audio=True,
            max_decoded_pixels=settings.max_upload_pixels,
            min_image_side=min_image_side,  # decoded as an indexed image is, so its vector is the same
        )


@dataclass(frozen=True)
class Modality:
    name: str  # what stores, queries and the API call it
    label: str  # one of them, as the UI says it
    plural: str
    extensions: frozenset[str]  # lower case, with the dot
    formats: str  # the file formats, as error messages and the UI list them
    # a path, an open file (indexing: `.name` is its path) or bytes in a file object -> decoded media;
    # raises MediaError or OSError
    load: Callable[[MediaSource, Limits], Any]
    sniff: Callable[[bytes], bool] | None = None  # recognise the bytes alone; None: never guessed
    mime_prefixes: tuple[str, ...] = ()  # upload content types that mean it; none: not a query upload
    encoder_method: str = ""  # the Encoder method that embeds a batch of it
    # a file of this kind and a piece name ("frame 3", "soundtrack") -> that piece's decoded media, for
    # files indexed as items made of pieces of them (videos); raises MediaError or OSError
    load_piece: Callable[[MediaSource, str, Limits], Any] | None = None

    @property
    def uploadable(self) -> bool:
        return bool(self.mime_prefixes)

    def describe(self) -> dict[str, Any]:
        """What the web UI and `GET /modalities` show."""
        return {
            "name": self.name,
            "label": self.label,
            "plural": self.plural,
            "extensions": sorted(self.extensions),
            "formats": self.formats,
            "mime_prefixes": list(self.mime_prefixes),
            "uploadable": self.uploadable,
        }


def _load_text(source: MediaSource, limits: Limits) -> str:
    from xmodal.encoders.media import load_text

    return load_text(source, limits.max_text_chars)


def _load_image(source: MediaSource, limits: Limits) -> Any:
    from xmodal.encoders.media import load_image

    return load_image(
        source, limits.max_image_pixels, limits.max_image_side, limits.max_decoded_pixels, limits.min_image_side
    )


def _load_audio(source: MediaSource, limits: Limits) -> Any:
    from xmodal.encoders.media import MediaError, load_audio

    if (
        limits.refuse_longer_audio
        and (seconds := _audio_seconds(source)) is not None
        and seconds > limits.max_audio_seconds
    ):
        raise MediaError(
            f"the sound is {seconds:.1f} s long; query sounds may be at most {limits.max_audio_seconds:g} s "
            "(XMODAL_MAX_AUDIO_SECONDS): trim it"
        )
    return load_audio(source, limits.max_audio_seconds)


def video_caps(limits: Limits) -> Any:
    from xmodal.encoders.video import VideoCaps

    return VideoCaps(
        limits.video_frames,
        limits.max_video_seconds,
        limits.max_video_pixels,
        limits.max_image_side,
        limits.max_audio_seconds,
    )


def load_video(source: MediaSource, limits: Limits) -> Any:
    """Frames and soundtrack (`xmodal.encoders.video.Video`)."""
    from xmodal.encoders.video import load_video

    return load_video(source, video_caps(limits))


def _load_video_piece(source: MediaSource, piece: str, limits: Limits) -> Any:
    from xmodal.encoders.video import load_video_piece

    return load_video_piece(source, piece, video_caps(limits))


def _audio_seconds(source: MediaSource) -> float | None:
    import soundfile

    try:
        info = soundfile.info(source)
    except Exception:  # noqa: BLE001 - unreadable: the loader gives the reason
        return None
    finally:
        if hasattr(source, "seek"):
            source.seek(0)  # type: ignore[union-attr]
    return info.duration if info.frames > 0 and info.samplerate > 0 else None


def _is_image(data: bytes) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(io.BytesIO(data)).close()
        return True
    except Image.DecompressionBombError:
        return True
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False


def _is_audio(data: bytes) -> bool:
    import soundfile

    try:
        soundfile.info(io.BytesIO(data))
        return True
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
        return False


TEXT = Modality(
    "text", "text", "texts", frozenset({".txt", ".md"}), "UTF-8 .txt and .md", _load_text, encoder_method="_encode_text"
)
IMAGE = Modality(
    "image",
    "image",
    "images",
    frozenset({".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}),
    "JPEG, PNG, GIF, BMP, WebP, TIFF",
    _load_image,
    _is_image,
    ("image/",),
    "_encode_image",
)
AUDIO = Modality(
    "audio",
    "sound",
    "sounds",
    frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff"}),
    "WAV, FLAC, Ogg Vorbis, Opus, MP3, AIFF",
    _load_audio,
    _is_audio,
    ("audio/",),
    "_encode_audio",
)
# A video is not embedded itself: it is indexed as an item whose parts are pieces of it, frames (images)
# and its soundtrack (audio), each read by `load_piece` (xmodal.indexer.video makes the item).
VIDEO = Modality(
    "video",
    "video",
    "videos",
    frozenset({".mp4", ".mov", ".mkv", ".webm"}),
    "MP4, QuickTime, Matroska, WebM",
    load_video,
    load_piece=_load_video_piece,
)
CONTAINERS: tuple[Modality, ...] = (VIDEO,)  # files made of pieces of other modalities
REGISTRY: dict[str, Modality] = {modality.name: modality for modality in (IMAGE, AUDIO, TEXT)}
NAMES: tuple[str, ...] = tuple(REGISTRY)  # in this order wherever all are listed (the UI's sections too)


def get(name: str) -> Modality:
    try:
        return REGISTRY[name]
    except KeyError:
        raise Invalid(f"unknown modality {name!r}; choose one of: {', '.join(NAMES)}") from None


def for_path(path: PurePath | str) -> Modality | None:
    """By file extension (any case), a container (a video: `load_piece` set) too; None for a file xmodal
    does not read."""
    suffix = PurePath(path).suffix.lower()
    kinds = (*REGISTRY.values(), *CONTAINERS)
    return next((modality for modality in kinds if suffix in modality.extensions), None)


def sniff(data: bytes) -> Modality | None:
    """By the bytes' header alone, trying each modality that can tell, in table order."""
    return next(
        (modality for modality in REGISTRY.values() if modality.sniff is not None and modality.sniff(data)), None
    )


def uploadable() -> list[Modality]:
    return [modality for modality in REGISTRY.values() if modality.uploadable]


def upload_formats() -> str:
    """'images (JPEG, ...) or sounds (WAV, ...)': what an upload may be."""
    return " or ".join(f"{modality.plural} ({modality.formats})" for modality in uploadable())
