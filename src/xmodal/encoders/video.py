"""Video files (.mp4 .mov .mkv .webm) as the media the encoders take: a few frames spread evenly over the
duration (images) and the soundtrack (mono audio, as `load_audio` gives it), decoded with PyAV (FFmpeg).

A video's header may claim any size or length, and a decoder allocates what it is told. So the frame size
is checked before decoding and the decoder itself is told the cap (FFmpeg's `max_pixels`: a frame that
grows mid-stream is refused too); the duration is checked against a cap; frames are reached by seeking,
never by decoding the whole file; and the packets read for each frame and for the soundtrack are bounded.
Only the MP4/QuickTime and Matroska/WebM demuxers are used: FFmpeg's probing could otherwise pick a
playlist demuxer (HLS, concat) that opens other files named inside the "video".
"""

from __future__ import annotations

import dataclasses
import re
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import PurePath
from typing import Iterable, Iterator

import av
import numpy as np
from PIL import Image

from xmodal.encoders.media import Audio, MediaError, Source, _opened
from xmodal.encoders.resample import MAX_RATE, MIN_RATE

# The demuxer each extension names is tried first, then the other (a .mov that is really Matroska).
DEMUXERS = {".mp4": "mov", ".mov": "mov", ".mkv": "matroska", ".webm": "matroska"}
FORMATS = "MP4/QuickTime or Matroska/WebM"
SOUNDTRACK = "soundtrack"  # the name of a video's soundtrack part; its frames are "frame N/COUNT"
_FRAME = re.compile(r"frame (\d+)/(\d+)")
FORWARD_PACKETS = 120  # packets decoded past a seek to reach a frame's time (a long GOP), at most
SCAN_PACKETS = 20_000  # a video without a duration is read from the start: this many packets at most
AUDIO_PACKETS_PER_SECOND = 200  # real codecs need ~50 (AAC at 48 kHz: 47); beyond is a broken stream


@dataclass(frozen=True)
class VideoCaps:
    frames: int  # frames sampled, at most
    seconds: float  # a longer video is refused
    pixels: int  # a frame (width x height) larger than this is refused, before it is decoded
    side: int | None  # frames are shrunk to fit a square of this side; None keeps their size
    audio_seconds: float  # the soundtrack past this is not read


@dataclass(frozen=True)
class Video:
    frames: tuple[Image.Image, ...]  # RGB, in time order
    times: tuple[float, ...]  # seconds from the start, one per frame
    audio: Audio | None  # None when the video has no soundtrack (or an empty one)
    seconds: float  # the duration (as far as it was read, for a video whose header does not say)


def load_video(source: Source, caps: VideoCaps) -> Video:
    """Frames and soundtrack of a video, or MediaError saying why it cannot be used."""
    with _opened(source) as handle, _open_container(handle) as container, _decoding():
        stream = _video_stream(container, caps.pixels)
        audio = _soundtrack(container, caps.audio_seconds)
        duration = _checked_duration(container, stream, caps.seconds)
        if duration is None:
            sampled, duration = _sample_by_scanning(container, stream, caps)
        else:
            sampled = _sample_by_seeking(container, stream, duration, caps, range(caps.frames))
    if not sampled:
        raise MediaError("video has no decodable frames (corrupt, truncated or empty)")
    times, frames = zip(*sampled)
    return Video(tuple(frames), tuple(times), audio, duration)


@dataclass(frozen=True)
class VideoLayout:
    """What a video's header says it holds, read without decoding: the parts it will give."""

    frames: int  # frames to sample (fewer than asked when the video has fewer)
    soundtrack: bool
    seconds: float | None  # None: the header does not say


def probe_video(source: Source, caps: VideoCaps) -> VideoLayout:
    """The header's claims, checked against the caps like `load_video` checks them (MediaError if not)."""
    with _opened(source) as handle, _open_container(handle) as container, _decoding():
        stream = _video_stream(container, caps.pixels)
        duration = _checked_duration(container, stream, caps.seconds)
        soundtrack = bool(container.streams.audio) and container.streams.audio[0].codec_context.sample_rate > 0
        frames = caps.frames
        rate = stream.average_rate or stream.guessed_rate
        if duration is not None and rate:
            frames = max(1, min(frames, int(duration * float(rate))))
        return VideoLayout(frames, soundtrack, duration)


def load_video_frame(source: Source, caps: VideoCaps, index: int) -> tuple[float, Image.Image]:
    """Frame `index` of the `caps.frames` that `load_video` samples (time, picture), decoded alone: a
    video's frames can be read as separate parts, each costing one seek."""
    with _opened(source) as handle, _open_container(handle) as container, _decoding():
        stream = _video_stream(container, caps.pixels)
        duration = _checked_duration(container, stream, caps.seconds)
        if duration is None:
            sampled, _ = _sample_by_scanning(container, stream, caps)
            sampled = sampled[index : index + 1]
        else:
            sampled = _sample_by_seeking(container, stream, duration, caps, [index])
    if not sampled:
        raise MediaError(f"video has no decodable frame in part {index + 1} of {caps.frames} of its duration")
    return sampled[0]


def load_soundtrack(source: Source, caps: VideoCaps) -> Audio:
    """A video's soundtrack alone, as `load_video` reads it."""
    with _opened(source) as handle, _open_container(handle) as container, _decoding():
        audio = _soundtrack(container, caps.audio_seconds)
    if audio is None:
        raise MediaError("video has no soundtrack")
    return audio


def load_video_piece(source: Source, piece: str, caps: VideoCaps) -> object:
    """A part of a video by name: "frame N/COUNT" (the frame of span N of COUNT, as `load_video_frame`) or
    "soundtrack"."""
    if piece == SOUNDTRACK:
        return load_soundtrack(source, caps)
    frame = frame_number(piece)
    if frame is None:
        raise MediaError(f"not a part of a video: {piece!r} (expected 'frame N/COUNT' or {SOUNDTRACK!r})")
    number, count = frame
    return load_video_frame(source, dataclasses.replace(caps, frames=count), number - 1)[1]


def frame_name(number: int, count: int) -> str:
    return f"frame {number}/{count}"


def frame_number(piece: str | None) -> tuple[int, int] | None:
    """(number, count) of a frame's name ("frame 3/8": the 3rd of 8 spans); None for anything else."""
    found = _FRAME.fullmatch(piece or "")
    if found is None or not 1 <= int(found[1]) <= int(found[2]) <= 1000:
        return None
    return int(found[1]), int(found[2])


@contextmanager
def _decoding() -> Iterator[None]:
    try:
        yield
    except av.FFmpegError as error:
        raise MediaError(f"corrupt or truncated video: {_reason(error)}") from None


def _checked_duration(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, cap: float
) -> float | None:
    """The declared duration, refused over `cap`; None when the header does not say."""
    duration = _declared_seconds(container, stream)
    if duration is not None and duration > cap:
        raise MediaError(_too_long(f"{duration:,.0f} s long", cap))
    return duration


def _open_container(handle) -> av.container.InputContainer:  # noqa: ANN001 - a binary file object
    name = getattr(handle, "name", None)  # a path; an int for a file opened from a descriptor
    suffix = PurePath(name).suffix.lower() if isinstance(name, str) else ""
    first = DEMUXERS.get(suffix, "mov")
    if handle.seek(0, 2) == 0:
        raise MediaError("empty file, not a video")
    problem = ""
    for demuxer in dict.fromkeys((first, *DEMUXERS.values())):
        handle.seek(0)
        try:
            return av.open(handle, format=demuxer)
        except av.FFmpegError as error:
            problem = problem or _reason(error)
    raise MediaError(f"not a readable video ({FORMATS}): {problem}")


def _video_stream(container: av.container.InputContainer, max_pixels: int) -> av.video.stream.VideoStream:
    if not container.streams:
        raise MediaError("corrupt or truncated video: no streams found")
    if not container.streams.video:
        raise MediaError("the file has no video stream (only sound?)")
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise MediaError(f"video frames are {width}x{height}: corrupt header")
    if width * height > max_pixels:
        raise MediaError(
            f"video frames are {width}x{height} ({width * height / 1e6:.0f} MP), over the "
            f"{max_pixels / 1e6:g} MP limit; raise XMODAL_MAX_VIDEO_PIXELS to allow it"
        )
    stream.codec_context.options = {"max_pixels": str(max_pixels)}  # refused in the decoder too, before allocating
    return stream


def _declared_seconds(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration is not None and stream.duration > 0 and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def _sample_by_seeking(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    duration: float,
    caps: VideoCaps,
    indices: Iterable[int],
) -> list[tuple[float, Image.Image]]:
    """For each index, the first frame of that one of `caps.frames` equal spans of the duration. A seek to
    the span's middle lands on the keyframe before it, taken if it is in the span (one frame decoded);
    otherwise decoding goes on to the span's start, at most FORWARD_PACKETS packets. A span without a
    frame (a video with fewer frames than spans) gives none. Each span is found on its own, so a frame
    is the same whether the whole video is read or only that frame."""
    start = _start_seconds(stream)
    sampled: list[tuple[float, Image.Image]] = []
    for index in indices:
        low, high = (start + duration * edge / caps.frames for edge in (index, index + 1))
        container.seek(int((low + high) / 2 / stream.time_base), stream=stream, backward=True, any_frame=False)
        for frame in _decoded(container, stream, FORWARD_PACKETS):
            if frame.time is None or frame.time < low - 1e-6:
                continue
            if frame.time < high:
                sampled.append((frame.time - start, _to_image(frame, caps.side)))
            break
    return sampled


def _sample_by_scanning(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, caps: VideoCaps
) -> tuple[list[tuple[float, Image.Image]], float]:
    """No duration in the header (a browser recording, a stream dump): keyframes only, read from the start,
    keeping at most `caps.frames` evenly spread: one per `step` seconds, the step doubling when full."""
    stream.codec_context.skip_frame = "NONKEY"
    start = _start_seconds(stream)
    kept: dict[int, tuple[float, Image.Image]] = {}
    step, seconds = 1.0, 0.0
    for count, packet in enumerate(container.demux(stream)):
        if packet.pts is not None and packet.time_base:  # where this packet's frame ends
            seconds = max(seconds, float((packet.pts + (packet.duration or 0)) * packet.time_base) - start)
        if seconds > caps.seconds or count >= SCAN_PACKETS:
            raise MediaError(_too_long(f"longer than {caps.seconds:,.0f} s (its header does not say)", caps.seconds))
        for frame in _decode(packet):
            at = max(0.0, (frame.time or 0.0) - start)
            kept.setdefault(int(at // step), (at, _to_image(frame, caps.side)))
        while len(kept) > caps.frames:
            step *= 2
            kept = {slot // 2: value for slot, value in sorted(kept.items(), reverse=True)}  # each pair's first
    return [kept[slot] for slot in sorted(kept)], seconds


def _decoded(
    container: av.container.InputContainer, stream: av.stream.Stream, packets: int
) -> Iterator[av.frame.Frame]:
    """Frames from the current position, reading at most `packets` packets."""
    for count, packet in enumerate(container.demux(stream)):
        if count >= packets:
            return
        yield from _decode(packet)


def _decode(packet: av.Packet) -> list[av.frame.Frame]:
    """A packet the decoder refuses is skipped: one broken packet must not lose the whole video (a frame
    larger than the pixel cap is such a packet)."""
    try:
        return packet.decode()
    except av.InvalidDataError:
        return []


def _to_image(frame: av.VideoFrame, side: int | None) -> Image.Image:
    """RGB at most `side` on its longer edge (scaled by FFmpeg, before conversion), turned upright when
    the video says it is shown rotated (phones record sideways)."""
    width, height = frame.width, frame.height
    if side is not None and max(width, height) > side:
        scale = side / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
    image = frame.to_image(width=width, height=height)
    rotation = round(frame.rotation or 0) % 360
    return image.rotate(rotation, expand=True) if rotation in (90, 180, 270) else image


def _soundtrack(container: av.container.InputContainer, max_seconds: float) -> Audio | None:
    """The first audio stream, mono float32 at its own rate, up to `max_seconds`."""
    if not container.streams.audio:
        return None
    stream = container.streams.audio[0]
    rate = stream.codec_context.sample_rate
    if not MIN_RATE <= rate <= MAX_RATE:
        raise MediaError(
            f"soundtrack sample rate {rate} Hz is outside what xmodal reads ({MIN_RATE:,}-{MAX_RATE:,} Hz)"
        )
    wanted = int(max_seconds * rate)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    chunks: list[np.ndarray] = []
    count = 0
    packets = int(AUDIO_PACKETS_PER_SECOND * max_seconds) + 100
    for frame in chain(_decoded(container, stream, packets), [None]):  # None: flush the resampler
        if count >= wanted:
            break
        for mono in resampler.resample(frame):
            chunks.append(mono.to_ndarray().reshape(-1))
            count += chunks[-1].shape[0]
    container.seek(0)
    if count == 0:
        return None
    samples = np.nan_to_num(np.concatenate(chunks)[:wanted], nan=0.0, posinf=0.0, neginf=0.0)
    return Audio(samples=samples.astype(np.float32), sample_rate=rate)


def _start_seconds(stream: av.stream.Stream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else 0.0


def _too_long(what: str, cap: float) -> str:
    return f"video is {what}, over the {cap:,.0f} s limit; raise XMODAL_MAX_VIDEO_SECONDS to allow it"


def _reason(error: av.FFmpegError) -> str:
    return (error.strerror or str(error)).rstrip(".").lower()
