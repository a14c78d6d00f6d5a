"""Small videos written with PyAV for tests and benches: no media is committed."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0))
# Codecs by container, as such files usually carry them.
CODECS = {
    ".mp4": ("libx264", "aac"),
    ".mov": ("libx264", "aac"),
    ".mkv": ("libx264", "libopus"),
    ".webm": ("libvpx", "libopus"),
}


def write_video(
    path: Path,
    seconds: float = 2.0,
    size: tuple[int, int] = (64, 48),
    fps: int = 10,
    colours: tuple[tuple[int, int, int], ...] = COLOURS,
    tone_hz: float | None = 440.0,
    frames: bool = True,
    codec: str | None = None,
    rotation: int = 0,
    left: tuple[int, int, int] | None = None,
) -> Path:
    """`seconds` of video in equal spans of solid `colours` (in order), with a sine soundtrack of
    `tone_hz` (None: no audio stream); `frames=False` writes no video stream. `rotation`: the display
    rotation (counter-clockwise degrees) phones record; `left`: the left half of every frame in this colour."""
    video_codec, audio_codec = CODECS[path.suffix.lower()]
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec or video_codec, rate=fps) if frames else None
        if video is not None:
            video.width, video.height = size
            video.pix_fmt = "yuvj420p" if (codec or video_codec) == "mjpeg" else "yuv420p"
            if rotation:
                video.set_display_rotation(rotation)
        audio = out.add_stream(audio_codec, rate=48000 if audio_codec == "libopus" else 44100) if tone_hz else None
        if audio is not None:
            audio.layout = "mono"
        if video is not None:
            _write_frames(out, video, int(seconds * fps), size, colours, left)
        if audio is not None:
            _write_tone(out, audio, seconds, tone_hz)
    return path


def _write_frames(out, stream, count: int, size: tuple[int, int], colours, left) -> None:  # noqa: ANN001
    for index in range(count):
        pixels = np.empty((size[1], size[0], 3), np.uint8)
        pixels[:] = colours[index * len(colours) // count]
        if left is not None:
            pixels[:, : size[0] // 2] = left
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        frame.pts = index
        out.mux(stream.encode(frame))
    out.mux(stream.encode())


def _write_tone(out, stream, seconds: float, hz: float) -> None:  # noqa: ANN001
    rate = stream.rate
    samples = (0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)).astype(np.float32)
    step = stream.frame_size or 1024
    for start in range(0, len(samples), step):
        frame = av.AudioFrame.from_ndarray(samples[None, start : start + step], format="flt", layout="mono")
        frame.sample_rate, frame.pts = rate, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode())
