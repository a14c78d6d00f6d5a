"""The audio towers on torch and on ONNX Runtime, side by side in one run, on 4 s clips.

    OMP_NUM_THREADS=2 python bench/audio_runtimes.py [--threads 2] [--clips 32] [--repeats 3]

Clips are the sample corpus's sounds cut or looped to 4 s. Each round encodes all clips through
`xmodal_base.audio_features` (resampling, frontend, network, pooling: what indexing runs) with torch
towers and with the ONNX Runtime ones (encoders/audio_runtime.py), in rotating order. Prints median
clips/s per tower and runtime, the ratio, and the worst cosine against torch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from xmodal.encoders import aisfx, yamnet
from xmodal.encoders.media import Audio, load_audio
from xmodal.encoders.xmodal_base import AudioTowers, audio_features

SOUNDS = Path(__file__).resolve().parents[1] / "samples" / "corpus" / "sounds"
CPU = torch.device("cpu")


def four_second_clips(n: int) -> list[Audio]:
    clips = [load_audio(path, 4.0) for path in sorted(SOUNDS.glob("*.ogg"))]
    out = []
    for number in range(n):
        clip = clips[number % len(clips)]
        frames = 4 * clip.sample_rate
        out.append(Audio(np.resize(clip.samples, frames).astype(np.float32), clip.sample_rate))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clips = four_second_clips(args.clips)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XMODAL_CACHE"] = cache
        fast = AudioTowers(CPU)
        reference = AudioTowers(CPU)
        reference.__dict__.update(yamnet=yamnet.load_yamnet().eval(), aisfx=aisfx.load_aisfx())
        towers = {"onnxruntime": fast, "torch": reference}
        rates: dict[tuple[str, str], list[float]] = {}
        outputs: dict[tuple[str, str], torch.Tensor] = {}
        for tower in ("yamnet", "aisfx"):
            for name, loaded in towers.items():
                audio_features([tower], loaded, clips[:2], "meanmax", CPU)  # exports once, untimed
            for round_number in range(args.repeats):
                order = list(towers) if round_number % 2 == 0 else list(towers)[::-1]
                for name in order:
                    started = time.perf_counter()
                    outputs[tower, name] = audio_features([tower], towers[name], clips, "meanmax", CPU)
                    rates.setdefault((tower, name), []).append(len(clips) / (time.perf_counter() - started))
    print(f"{args.clips} clips of 4 s, {args.threads} threads, median of {args.repeats}")
    for tower in ("yamnet", "aisfx"):
        fast_rate, torch_rate = (statistics.median(rates[tower, name]) for name in ("onnxruntime", "torch"))
        cosine = torch.nn.functional.cosine_similarity(outputs[tower, "onnxruntime"], outputs[tower, "torch"]).min()
        print(f"{tower:7s} torch {torch_rate:6.1f} clips/s  onnxruntime {fast_rate:6.1f} clips/s  "
              f"{fast_rate / torch_rate:.2f}x  min cosine {cosine:.6f}")


if __name__ == "__main__":
    main()
