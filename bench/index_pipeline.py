"""Indexing JPEG photos end to end against the image tower's raw forward, same run, same machine.

    python bench/index_pipeline.py [-n 256] [--threads 2] [--repeats 3] [--workers 1]

Makes n 1024x768 JPEG photos from samples/corpus/images (upscaled, quality 90), then measures, each
`--repeats` times in rotation (medians printed):
- raw forward: the image tower's `features()` on ready [32, 3, 224, 224] tensors (the ceiling);
- encode only: `Encoder.encode("image", ...)` on images decoded beforehand (preprocessing + forward + head);
- end to end: `IndexJob` (what `xmodal index` runs) into a fresh store, decoding inline (0 workers) and
  in `--workers` processes;
with the fast runtime (encoders/runtime.py) and with the torch NCHW reference (XMODAL_RUNTIME=torch,
the speed before it). Prints images/s, and end to end over raw forward (target >= 0.8) and over the
torch end to end (target >= 5).
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

from xmodal.config import Settings
from xmodal.encoders import load_model
from xmodal.indexer import IndexJob, collect_sources
from xmodal.indexer.decode import decode
from xmodal.modalities import Limits
from xmodal.store import Store

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "corpus" / "images"


def make_photos(folder: Path, n: int) -> list[Path]:
    originals = [Image.open(path).convert("RGB").resize((1024, 768)) for path in sorted(SAMPLES.glob("*.jpg"))]
    paths = []
    for number in range(n):
        path = folder / f"{number:05d}.jpg"
        originals[number % len(originals)].rotate(number // len(originals)).save(path, quality=90)
        paths.append(path)
    return paths


def raw_forward(encoder, batch: int) -> float:
    pixels = torch.randn(batch, 3, 224, 224)
    with torch.inference_mode():
        started = time.perf_counter()
        encoder.image_tower.features(pixels)
    return batch / (time.perf_counter() - started)


def encode_only(encoder, images: list, batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(images), batch):
        encoder.encode("image", images[start : start + batch])
    return len(images) / (time.perf_counter() - started)


def end_to_end(encoder, folder: Path, settings: Settings) -> float:
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    started = time.perf_counter()
    summary = IndexJob(store, encoder, settings).run(collect_sources([folder]))
    elapsed = time.perf_counter() - started
    store.close()
    assert summary.failed == 0 and summary.duplicates == 0, (summary.failures[:3], summary.duplicates)
    return summary.indexed / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="decoder processes to compare with inline decoding")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp())
    photos = root / "photos"
    photos.mkdir()
    make_photos(photos, args.n)
    settings = Settings(store=root / "unused")
    limits = Limits.for_indexing(settings)
    images = [decode(source, limits)[0] for source in collect_sources([photos])]
    encoders = {}
    for runtime in ("fast", "torch"):
        os.environ["XMODAL_RUNTIME"] = "" if runtime == "fast" else "torch"
        encoders[runtime] = load_model("xmodal-base", torch.device("cpu"))
        encode_only(encoders[runtime], images[:8], 8)  # loads the tower (and exports it once), untimed
    rates: dict[str, list[float]] = {}
    runs = 0
    for _ in range(args.repeats):
        for runtime, encoder in encoders.items():
            rates.setdefault(f"{runtime}: raw forward, ready tensors", []).append(raw_forward(encoder, 32))
            rates.setdefault(f"{runtime}: encode only, decoded images", []).append(
                encode_only(encoder, images, settings.batch_size)
            )
            for workers in sorted({0, args.workers}):
                runs += 1
                run = settings.with_overrides(store=root / f"store-{runs}", workers=workers)
                rates.setdefault(f"{runtime}: end to end, {workers} decode workers", []).append(
                    end_to_end(encoder, photos, run)
                )
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"{args.n} JPEG photos 1024x768, {args.threads} threads, batch {settings.batch_size}, "
          f"median of {args.repeats}")
    for name, rate in medians.items():
        print(f"{name:44s} {rate:7.1f} images/s")
    raw = medians["fast: raw forward, ready tensors"]
    before = max(medians[f"torch: end to end, {w} decode workers"] for w in {0, args.workers})
    for workers in sorted({0, args.workers}):
        after = medians[f"fast: end to end, {workers} decode workers"]
        print(f"fast end to end, {workers} workers: {after / raw:.2f}x raw forward (target >= 0.8), "
              f"{after / before:.2f}x the torch end to end (target >= 5)")


if __name__ == "__main__":
    main()
