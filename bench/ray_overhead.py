"""The same index job with the local runner and with Ray on this machine: the overhead of `--ray`.

    python bench/ray_overhead.py [--model xmodal-base] [--images 120] [--texts 240] [--cpus 2]

Makes a corpus of small synthetic images and short texts, indexes it into a new store with the
inline runner (what `xmodal index` does on 2 cores), then into another with a RayRunner on a local
cluster of `--cpus` CPUs (one worker per two CPUs, each loading its own encoder). Reported separately:
cluster start, worker start (model load included) and the job itself, and the ratio of job times
(target <= 1.3x on one node). Both stores must hold the same items.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from functools import partial
from pathlib import Path

from PIL import Image

from xmodal.config import Settings
from xmodal.device import pick_device
from xmodal.encoders import load_model
from xmodal.indexer import IndexJob, collect_sources
from xmodal.indexer.embed_ray import RayRunner, load_on_worker
from xmodal.modalities import Limits
from xmodal.store import Store


def make_corpus(root: Path, images: int, texts: int) -> None:
    rng = random.Random(0)
    words = "red green blue dog cat bird car train rain thunder bell drum piano violin night city".split()
    for number in range(images):
        colour = tuple(rng.randrange(256) for _ in range(3))
        Image.new("RGB", (96 + number % 64, 96), colour).save(root / f"image-{number:04d}.png")
    for number in range(texts):
        (root / f"text-{number:04d}.txt").write_text(" ".join(rng.choices(words, k=8)))


def run(store_dir: Path, corpus: Path, encoder, settings: Settings, runner=None) -> tuple[float, dict]:
    store = Store.open(store_dir, encoder.info.identity(), writable=True)
    started = time.perf_counter()
    IndexJob(store, encoder, settings, runner=runner).run(collect_sources([corpus]))
    elapsed = time.perf_counter() - started
    counts = store.counts()
    store.close()
    return elapsed, counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="xmodal-base")
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--texts", type=int, default=240)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    import ray

    settings = Settings(batch_size=args.batch_size, workers=0)
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        corpus.mkdir()
        make_corpus(corpus, args.images, args.texts)
        encoder = load_model(args.model, pick_device("cpu"), args.batch_size)
        inline, inline_counts = run(Path(folder) / "inline", corpus, encoder, settings)
        print(f"inline runner: job {inline:.1f} s {inline_counts}", flush=True)

        started = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        cluster = time.perf_counter() - started
        started = time.perf_counter()
        make_encoder = partial(load_on_worker, args.model, "cpu", args.batch_size)
        runner = RayRunner(make_encoder, Limits.for_indexing(settings), args.batch_size)
        ray.get([actor.__ray_ready__.remote() for actor in runner.actors])  # workers up, models loaded
        workers = time.perf_counter() - started
        on_ray, ray_counts = run(Path(folder) / "ray", corpus, encoder, settings, runner)
        count = len(runner.actors)
        runner.close()
        ray.shutdown()
    print(
        f"ray runner ({count} workers on {args.cpus} CPUs): cluster start {cluster:.1f} s, "
        f"worker start {workers:.1f} s, job {on_ray:.1f} s {ray_counts}"
    )
    assert ray_counts == inline_counts, "the two runners disagree"
    print(f"job time ray / inline: {on_ray / inline:.2f}x  (with worker start: {(on_ray + workers) / inline:.2f}x)")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
