"""EfficientNet-Lite0 `features()` on each runtime, side by side in one run, on the sample images.

    OMP_NUM_THREADS=2 python bench/image_runtimes.py [--threads 2] [--batch 32] [--repeats 5] [--compile]

Each candidate gets the same [batch, 3, 224, 224] tensor built from samples/corpus/images (repeated to
fill the batch); the order of candidates rotates every round so that a busy machine hurts them alike.
Prints the median images/s per candidate, its ratio to the torch NCHW reference and the worst cosine
of its features against the reference's (the runtime is taken only at >= 0.9999).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

from xmodal.encoders import efficientnet_lite
from xmodal.encoders.runtime import FastTower, fold_batchnorm

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "corpus" / "images"


def sample_batch(size: int) -> torch.Tensor:
    pixels = [efficientnet_lite.preprocess(Image.open(path)) for path in sorted(SAMPLES.glob("*.jpg"))]
    return torch.stack([pixels[i % len(pixels)] for i in range(size)])


def candidates(tower, args) -> dict:
    channels_last = efficientnet_lite.load_efficientnet_lite0().to(memory_format=torch.channels_last)
    fused = fold_batchnorm(tower).to(memory_format=torch.channels_last)
    fused_bf16 = fold_batchnorm(tower).to(torch.bfloat16, memory_format=torch.channels_last)
    runs = {
        "torch NCHW (reference)": lambda x: tower.features(x),
        "torch channels_last": lambda x: channels_last.features(x.contiguous(memory_format=torch.channels_last)),
        "torch channels_last + BN folded": lambda x: fused.features(x.contiguous(memory_format=torch.channels_last)),
        "torch bf16 channels_last + BN folded": lambda x: fused_bf16.features(
            x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
        ).float(),
    }
    onnx = FastTower(tower, "efficientnet-lite0", sample_batch(1), backend="onnxruntime")
    runs["onnxruntime (exported, BN folded)"] = onnx.features
    if args.compile:
        compiled = torch.compile(fused)
        runs["torch.compile channels_last + BN folded"] = lambda x: compiled.features(
            x.contiguous(memory_format=torch.channels_last)
        )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="also torch.compile (minutes to compile on 2 cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XMODAL_CACHE"] = cache  # a fresh export, measured like a first use
        tower = efficientnet_lite.load_efficientnet_lite0()
        pixels = sample_batch(args.batch)
        runs = candidates(tower, args)
        with torch.inference_mode():
            reference = tower.features(pixels)
            cosines = {name: torch.nn.functional.cosine_similarity(run(pixels), reference).min().item()
                       for name, run in runs.items()}
            times: dict[str, list[float]] = {name: [] for name in runs}
            names = list(runs)
            for round_number in range(args.repeats):
                for name in names[round_number % len(names):] + names[: round_number % len(names)]:
                    started = time.perf_counter()
                    runs[name](pixels)
                    times[name].append(args.batch / (time.perf_counter() - started))
    base = statistics.median(times[names[0]])
    print(f"EfficientNet-Lite0 features, batch {args.batch}, {args.threads} threads, median of {args.repeats}")
    print(f"{'runtime':42s} {'images/s':>9s} {'x ref':>6s} {'min cosine':>11s}")
    for name in names:
        rate = statistics.median(times[name])
        print(f"{name:42s} {rate:9.1f} {rate / base:6.2f} {cosines[name]:11.6f}")


if __name__ == "__main__":
    main()
