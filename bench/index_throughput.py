"""Bulk indexing throughput: an end-to-end job against the encoder alone on the same inputs, same run.

    python bench/index_throughput.py [-n 300] [--model xmodal-base] [--workers 1]

Generates n media files (JPEG photos-like drawings, WAV sounds, text files), then measures
1. encoder only: the same files decoded beforehand (untimed), embedded in batches;
2. end to end: `IndexJob` over the folder into a fresh store (hashing, decoding in worker
   processes, encoding, SQLite and FAISS writes), with --workers decoders and with 0 (inline).
Prints items/s of each and the ratio end-to-end / encoder-only (target >= 0.85).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image, ImageDraw

from xmodal.config import Settings
from xmodal.device import pick_device
from xmodal.encoders import load_model
from xmodal.indexer import IndexJob, collect_sources
from xmodal.indexer.decode import decode
from xmodal.modalities import Limits
from xmodal.store import Store

WORDS = "red green blue dog cat bird drum bell rain wind sea car train night morning city forest".split()


def make_corpus(folder: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for number in range(n):
        kind = ("image", "image", "image", "audio", "text")[number % 5]
        if kind == "image":
            image = Image.new("RGB", (1024, 768), tuple(int(c) for c in rng.integers(0, 256, 3)))
            draw = ImageDraw.Draw(image)
            for _ in range(12):
                box = sorted(rng.integers(0, 1024, 2).tolist()) + sorted(rng.integers(0, 768, 2).tolist())
                draw.ellipse((box[0], box[2], box[1], box[3]), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
            image.save(folder / f"{number:05d}.jpg", quality=90)
        elif kind == "audio":
            t = np.arange(44100 * 4) / 44100
            wave = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 4000) * t) + 0.05 * rng.standard_normal(t.size)
            soundfile.write(folder / f"{number:05d}.wav", wave.astype(np.float32), 44100)
        else:
            (folder / f"{number:05d}.txt").write_text(" ".join(rng.choice(WORDS, 12)))


def encoder_only(encoder, files: list[Path], settings: Settings) -> float:
    limits = Limits.for_indexing(settings)
    sources = list(collect_sources(files))
    by_modality: dict[str, list] = {}
    for source in sources:
        by_modality.setdefault(source.modality, []).append(decode(source, limits)[0])
    started = time.perf_counter()
    for modality, media in by_modality.items():
        for start in range(0, len(media), settings.batch_size):
            encoder.encode(modality, media[start : start + settings.batch_size])
    return len(sources) / (time.perf_counter() - started)


def end_to_end(encoder, folder: Path, settings: Settings) -> float:
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    summary = IndexJob(store, encoder, settings).run(collect_sources([folder]))
    store.close()
    assert summary.failed == 0, summary.failures[:3]
    return summary.items_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--model", default="xmodal-base")
    parser.add_argument("--workers", type=int, default=max(1, Settings().workers), help="decoder processes to compare with inline decoding")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    make_corpus(folder, args.n)
    encoder = load_model(args.model, pick_device("auto"))
    settings = Settings(store=folder / "unused")
    encoder_only(encoder, sorted(folder.iterdir())[:20], settings)  # warm-up
    files = sorted(path for path in folder.iterdir() if path.is_file())
    baseline = encoder_only(encoder, files, settings)
    print(f"{args.n} files ({args.model}, batch {settings.batch_size}, device {pick_device('auto')})")
    print(f"encoder only                 {baseline:7.1f} items/s")
    for workers in (args.workers, 0):
        run = settings.with_overrides(store=folder / f"store-{workers}", workers=workers)
        rate = end_to_end(encoder, folder, run)
        print(f"end to end, {workers} decode workers {rate:7.1f} items/s   ratio {rate / baseline:.2f}  (target >= 0.85)")


if __name__ == "__main__":
    main()
