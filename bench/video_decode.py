"""Video frames against images, decode + embed, same run, same machine.

    OMP_NUM_THREADS=2 python bench/video_decode.py [--videos 8] [--seconds 20] [--size 1280x720] [--gop 2]
                                                 [--frames 8] [--threads 2] [--repeats 3]

Writes `--videos` H.264/AAC MP4s (the sample photos panning across the frame, a keyframe every `--gop`
seconds as phones and streaming sites write them, a tone as soundtrack), and as many JPEGs (quality 90,
the same size) as the videos give frames: the frames themselves. Then, each `--repeats` times in rotation
(medians printed), with the default model's image tower (xmodal-base):
- video decode: `load_video` (seek to `--frames` frames per video + the soundtrack, as indexing does);
- video decode + embed frames: the same, plus the frames through `Encoder.encode("image", ...)`;
- video decode + embed frames + soundtrack: what a video item costs in all;
- image decode / decode + embed: `load_image` + `Encoder.encode` on the JPEGs.
Prints frames/s (images/s) for each and the video/image ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

from xmodal.config import Settings
from xmodal.encoders import load_model
from xmodal.modalities import Limits, load_video

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/videos.py writes the soundtrack
from tests.videos import _write_tone  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "corpus" / "images"


def make_videos(folder: Path, count: int, seconds: float, size: tuple[int, int], gop: float) -> list[Path]:
    """Each video pans slowly across a strip of sample photos (a still picture would cost nothing to decode)."""
    photos = [Image.open(path).convert("RGB") for path in sorted(SAMPLES.glob("*.jpg"))]
    width, height = size
    fps = 25
    paths = []
    for number in range(count):
        strip = Image.new("RGB", (width * 3, height))
        for slot in range(3):
            strip.paste(photos[(number * 3 + slot) % len(photos)].resize((width, height)), (slot * width, 0))
        pixels = np.asarray(strip)
        path = folder / f"{number:03d}.mp4"
        with av.open(str(path), "w") as out:
            video = out.add_stream("libx264", rate=fps, options={"preset": "veryfast", "g": str(int(gop * fps))})
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            audio = out.add_stream("aac", rate=44100)
            audio.layout = "mono"
            frames = int(seconds * fps)
            for index in range(frames):
                left = int(index * (2 * width) / frames)
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels[:, left : left + width]), format="rgb24")
                frame.pts = index
                out.mux(video.encode(frame))
            out.mux(video.encode())
            _write_tone(out, audio, seconds, 440.0 + 20 * number)
        paths.append(path)
    return paths


def make_images(folder: Path, videos: list[Path], limits: Limits) -> list[Path]:
    """The videos' own frames at full size, as JPEGs: the same pictures, the same number."""
    full = Limits(
        limits.max_image_pixels, None, limits.max_audio_seconds, limits.max_text_chars, video_frames=limits.video_frames
    )
    paths = []
    for video in videos:
        for index, frame in enumerate(load_video(video, full).frames):
            path = folder / f"{video.stem}-{index}.jpg"
            frame.save(path, quality=90)
            paths.append(path)
    return paths


def video_run(encoder, videos: list[Path], limits: Limits, batch: int, embed: str) -> float:
    """Frames are embedded in batches across videos, as the index job batches images across files."""
    started = time.perf_counter()
    frames = 0
    pending: list[Image.Image] = []
    for path in videos:
        decoded = load_video(path, limits)
        frames += len(decoded.frames)
        pending.extend(decoded.frames)
        if embed in ("frames", "all") and len(pending) >= batch:
            encoder.encode("image", pending)
            pending = []
        if embed == "all" and decoded.audio is not None:
            encoder.encode("audio", [decoded.audio])
    if embed in ("frames", "all") and pending:
        encoder.encode("image", pending)
    return frames / (time.perf_counter() - started)


def image_run(encoder, images: list[Path], limits: Limits, batch: int, embed: bool) -> float:
    from xmodal.modalities import IMAGE

    started = time.perf_counter()
    for start in range(0, len(images), batch):
        decoded = [IMAGE.load(path, limits) for path in images[start : start + batch]]
        if embed:
            encoder.encode("image", decoded)
    return len(images) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--gop", type=float, default=2.0, help="seconds between keyframes")
    parser.add_argument("--frames", type=int, default=8, help="frames sampled per video (XMODAL_VIDEO_FRAMES)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = tuple(int(side) for side in args.size.split("x"))
    settings = Settings(store=Path(tempfile.mkdtemp()) / "unused", video_frames=args.frames)
    limits = Limits.for_indexing(settings)
    root = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    videos = make_videos(root, args.videos, args.seconds, size, args.gop)  # type: ignore[arg-type]
    images = make_images(root, videos, limits)
    print(f"wrote {len(videos)} videos and {len(images)} JPEGs in {time.perf_counter() - started:.0f} s")
    encoder = load_model("xmodal-base", torch.device("cpu"))
    video_run(encoder, videos[:1], limits, 32, "all")  # loads (and exports) the towers, untimed
    runs = {
        "video decode (frames + soundtrack)": lambda: video_run(encoder, videos, limits, settings.batch_size, "none"),
        "video decode + embed frames": lambda: video_run(encoder, videos, limits, settings.batch_size, "frames"),
        "video decode + embed frames + soundtrack": lambda: video_run(
            encoder, videos, limits, settings.batch_size, "all"
        ),
        "image decode (JPEG)": lambda: image_run(encoder, images, limits, settings.batch_size, False),
        "image decode + embed": lambda: image_run(encoder, images, limits, settings.batch_size, True),
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for round_number in range(args.repeats):
        for name in names[round_number % len(names) :] + names[: round_number % len(names)]:
            rates[name].append(runs[name]())
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(
        f"{len(videos)} videos {args.size}, {args.seconds:g} s, keyframe every {args.gop:g} s, {args.frames} frames "
        f"each ({len(images)} frames); {args.threads} threads; median of {args.repeats}"
    )
    for name, rate in medians.items():
        print(f"{name:44s} {rate:7.1f} frames/s")
    print(
        f"decode: video frames at {medians[names[0]] / medians[names[3]]:.2f}x the JPEG rate; "
        f"decode + embed: {medians[names[1]] / medians[names[4]]:.2f}x "
        f"(with the soundtrack: {medians[names[2]] / medians[names[4]]:.2f}x)"
    )


if __name__ == "__main__":
    main()
