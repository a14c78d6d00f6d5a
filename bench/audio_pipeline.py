"""Indexing 4 s sound clips end to end: the code before issue 10 (torch towers) against now, same run.

    python bench/audio_pipeline.py [-n 128] [--threads 2] [--repeats 1] [--format wav]

Makes n clips of 4 s from samples/corpus/sounds (cut or looped, 44.1 kHz mono, written as --format),
then runs `IndexJob` (what `xmodal index` runs) into a fresh store with XMODAL_RUNTIME=torch (before:
both audio networks in torch) and with the default runtime (now: ONNX Runtime), in rotation, and
prints clips/s, the ratio (target >= 3) and the cosine between before's and now's vectors. Then it
takes the CPU time of now's stages on the decoded clips (resampling, each tower's frontend and network) to show
where the time goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
import torch
from indexing import end_to_end  # bench/indexing.py (the script's folder is on sys.path)

from xmodal.config import Settings
from xmodal.encoders import aisfx, load_model, yamnet
from xmodal.encoders.media import load_audio
from xmodal.encoders.resample import resample

SOUNDS = Path(__file__).resolve().parents[1] / "samples" / "corpus" / "sounds"
RATE = 44100


def make_clips(folder: Path, n: int, suffix: str) -> None:
    sounds = []
    for path in sorted(SOUNDS.glob("*.ogg")):
        clip = load_audio(path, 4.0)
        samples = torch.from_numpy(clip.samples)
        sounds.append(resample(samples, clip.sample_rate, RATE).numpy())
    for number in range(n):
        sound = sounds[number % len(sounds)]
        # a different gain each round so that no two files have the same content
        looped = np.resize(sound, 4 * RATE) * (0.5 + 0.5 * (number // len(sounds) + 1) / (n // len(sounds) + 1))
        soundfile.write(folder / f"{number:05d}.{suffix}", looped.astype(np.float32), RATE)


def stages(encoder, folder: Path) -> dict[str, float]:
    """CPU seconds per clip in each stage of now's audio encode, on clips decoded beforehand."""
    clips = [load_audio(path, 30.0) for path in sorted(folder.iterdir())]
    towers = encoder.audio_towers
    seconds: dict[str, float] = {}

    def timed(name: str, work):
        started = time.process_time()  # CPU seconds of this process: steadier than wall time on a busy machine
        result = work()
        seconds[name] = (time.process_time() - started) / len(clips)
        return result

    with torch.inference_mode():
        waves = timed("resample to 16 kHz (YAMNet)", lambda: [
            resample(torch.from_numpy(c.samples), c.sample_rate, yamnet.SAMPLE_RATE) for c in clips])
        patches = timed("YAMNet patches + log-mel frontend", lambda: torch.cat(
            [towers.yamnet.frames(w) for w in waves]))
        timed("YAMNet network", lambda: [towers.yamnet(chunk) for chunk in patches.split(64)])
        waves = timed("resample to 44.1 kHz (aiSFX)", lambda: [
            resample(torch.from_numpy(c.samples), c.sample_rate, aisfx.SAMPLE_RATE) for c in clips])
        blocks = timed("aiSFX log-mel frontend", lambda: torch.cat([towers.aisfx_frontend(w) for w in waves]))
        timed("aiSFX network", lambda: [towers.aisfx(chunk) for chunk in blocks.split(64)])
        timed("whole encode (heads included)", lambda: encoder.encode("audio", clips))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--format", default="wav", choices=["wav", "flac", "ogg"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp())
    folder = root / "clips"
    folder.mkdir()
    make_clips(folder, args.n, args.format)
    settings = Settings(store=root / "unused")
    encoders = {}
    for name in ("now", "before"):
        os.environ["XMODAL_RUNTIME"] = "" if name == "now" else "torch"
        encoders[name] = load_model("xmodal-base", torch.device("cpu"))
        encoders[name].encode("audio", [load_audio(next(folder.iterdir()), 30.0)])  # loads the towers, untimed
    rates: dict[str, list[float]] = {}
    vectors = {}
    for repeat in range(args.repeats):
        for name, encoder in encoders.items():
            run = settings.with_overrides(store=root / f"store-{name}-{repeat}")
            rate, vectors[name] = end_to_end(encoder, folder, run, "audio", inline=name == "before")
            rates.setdefault(name, []).append(rate)
    before, now = (statistics.median(rates[name]) for name in ("before", "now"))
    print(f"{args.n} clips of 4 s, 44.1 kHz mono {args.format}, {args.threads} threads, median of {args.repeats}")
    print(f"end to end: before (torch) {before:.1f} clips/s, now {now:.1f} clips/s: {now / before:.2f}x (target >= 3)")
    cosines = (vectors["now"] * vectors["before"]).sum(axis=1)
    print(f"cosine of now's vectors to before's: min {cosines.min():.6f}, mean {cosines.mean():.6f}")
    for stage, seconds in stages(encoders["now"], folder).items():
        print(f"now, {stage:34s} {1000 * seconds:7.1f} CPU ms/clip")


if __name__ == "__main__":
    main()
