"""Indexing JPEG photos end to end against the image tower's raw forward, same run, same machine.

    python bench/index_pipeline.py [-n 512] [--threads 2] [--repeats 1] [--workers 1]

Makes n 1024x768 JPEG photos from samples/corpus/images (upscaled, quality 90), then measures, each
`--repeats` times in rotation (medians printed), for two setups of the same model:
- before: the code before issue 10: torch NCHW tower (XMODAL_RUNTIME=torch), JPEGs decoded to the
  768-px `decode_max_side`, `efficientnet_lite.preprocess` image by image;
- now: ONNX Runtime tower, JPEGs decoded at the smallest scale covering the encoder's 256-px input
  side, `efficientnet_lite.pixels` (one resize of the crop box, one conversion per batch);
and for each:
- raw forward: the image tower's `features()` on ready [32, 3, 224, 224] tensors (the ceiling);
- encode only (now): `Encoder.encode("image", ...)` on images decoded beforehand;
- end to end: `IndexJob` (what `xmodal index` runs) into a fresh store, decoding inline (0 workers),
  and (now) in `--workers` processes.
Prints images/s, now's end to end over now's raw forward (target >= 0.8) and over before's end to end
(target >= 5), and the cosine between before's and now's vectors of the same photos.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from indexing import end_to_end  # bench/indexing.py (the script's folder is on sys.path)
from PIL import Image

from xmodal.config import Settings
from xmodal.encoders import efficientnet_lite, load_model
from xmodal.indexer import collect_sources
from xmodal.indexer.decode import decode
from xmodal.modalities import Limits

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "corpus" / "images"


def make_photos(folder: Path, n: int) -> list[Path]:
    originals = [Image.open(path).convert("RGB").resize((1024, 768)) for path in sorted(SAMPLES.glob("*.jpg"))]
    paths = []
    for number in range(n):
        path = folder / f"{number:05d}.jpg"
        originals[number % len(originals)].rotate(number // len(originals)).save(path, quality=90)
        paths.append(path)
    return paths


def preprocess_before(image: Image.Image) -> torch.Tensor:
    """Lite0's preprocessing as it was before issue 10: one image at a time, float conversion per image."""
    image = image.convert("RGB")
    scale = 256 / min(image.size)
    size = (max(224, round(image.width * scale)), max(224, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.BICUBIC)
    left, top = (size[0] - 224) // 2, (size[1] - 224) // 2
    image = image.crop((left, top, left + 224, top + 224))
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32).copy())
    return ((pixels - 127.0) / 128.0).permute(2, 0, 1).contiguous()


@contextmanager
def setup(name: str):
    """`before` swaps in the reference preprocessing, image by image, for as long as it runs."""
    fast = efficientnet_lite.pixels
    if name == "before":
        efficientnet_lite.pixels = lambda images: torch.stack([preprocess_before(image) for image in images])
    try:
        yield
    finally:
        efficientnet_lite.pixels = fast


def raw_forward(encoder, batch: int, batches: int = 4) -> float:
    pixels = torch.randn(batch, 3, 224, 224)
    with torch.inference_mode():
        encoder.image_tower.features(pixels)  # untimed: sessions that load on the first large batch
        started = time.perf_counter()
        for _ in range(batches):
            encoder.image_tower.features(pixels)
    return batch * batches / (time.perf_counter() - started)


def encode_only(encoder, images: list, batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(images), batch):
        encoder.encode("image", images[start : start + batch])
    return len(images) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="decoder processes to compare with inline decoding")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp())
    photos = root / "photos"
    photos.mkdir()
    make_photos(photos, args.n)
    settings = Settings(store=root / "unused")
    encoders = {}
    for name in ("now", "before"):
        os.environ["XMODAL_RUNTIME"] = "" if name == "now" else "torch"
        encoders[name] = load_model("xmodal-base", torch.device("cpu"))
        if name == "before":
            encoders[name].image_input_side = None  # decode to decode_max_side, as before
        encoders[name].image_tower  # loads the tower (and exports it once), untimed
    limits = Limits.for_indexing(settings, encoders["now"].image_input_side)
    images = [decode(source, limits)[0] for source in collect_sources([photos])]
    rates: dict[str, list[float]] = {}
    vectors = {}
    runs = 0
    for _ in range(args.repeats):
        for name, encoder in encoders.items():
            with setup(name):
                rates.setdefault(f"{name}: raw forward, ready tensors", []).append(raw_forward(encoder, 32))
                if name == "now":
                    rates.setdefault(f"{name}: encode only, decoded images", []).append(
                        encode_only(encoder, images, settings.batch_size)
                    )
                for workers in sorted({0, args.workers}) if name == "now" else [0]:
                    runs += 1
                    run = settings.with_overrides(store=root / f"store-{runs}", workers=workers)
                    rate, vectors[name] = end_to_end(encoder, photos, run, "image", inline=name == "before")
                    rates.setdefault(f"{name}: end to end, {workers} decode workers", []).append(rate)
    medians = {label: statistics.median(values) for label, values in rates.items()}
    print(f"{args.n} JPEG photos 1024x768, {args.threads} threads, batch {settings.batch_size}, "
          f"median of {args.repeats}")
    for label, rate in medians.items():
        print(f"{label:44s} {rate:7.1f} images/s")
    raw, before = medians["now: raw forward, ready tensors"], medians["before: end to end, 0 decode workers"]
    for workers in sorted({0, args.workers}):
        after = medians[f"now: end to end, {workers} decode workers"]
        print(f"now end to end, {workers} workers: {after / raw:.2f}x raw forward (target >= 0.8), "
              f"{after / before:.2f}x before's end to end (target >= 5)")
    cosines = (vectors["now"] * vectors["before"]).sum(axis=1)
    print(f"cosine of now's vectors to before's: min {cosines.min():.6f}, mean {cosines.mean():.6f}")


if __name__ == "__main__":
    main()
