"""Query latency of the default model over a store, split into encode and search, side by side.

    python bench/query_latency.py [--store DIR] [--corpus samples/corpus] [-n 50]

Indexes the corpus into a temporary store unless --store is given, then times n text queries,
n image queries and n audio queries end to end (encode + FAISS search + metadata), and the
encoder alone on the same inputs, in the same run. Prints p50/p99 and the share of time that
is encoding. Also reports indexing throughput (items/s) of the corpus.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from xmodal.config import Settings
from xmodal.device import pick_device
from xmodal.encoders import load_audio, load_image, load_model
from xmodal.indexer import IndexJob, collect_sources
from xmodal.search import Searcher
from xmodal.store import Store

ROOT = Path(__file__).resolve().parent.parent


def timed(function, inputs) -> list[float]:
    times = []
    for value in inputs:
        started = time.perf_counter()
        function(value)
        times.append((time.perf_counter() - started) * 1000)
    return times


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--corpus", type=Path, default=ROOT / "samples" / "corpus")
    parser.add_argument("-n", type=int, default=50)
    args = parser.parse_args()

    started = time.perf_counter()
    model = load_model("xmodal-base", pick_device("auto"))
    print(f"model load: {time.perf_counter() - started:.1f} s on {pick_device('auto')}")
    directory = args.store or Path(tempfile.mkdtemp()) / "store"
    settings = Settings(store=directory)
    store = Store.open(directory, model.info.identity(), writable=True)
    summary = IndexJob(store, model, settings).run(collect_sources([args.corpus]))
    print(f"index {args.corpus}: {summary.indexed} indexed, {summary.unchanged} unchanged, {summary.failed} failed, "
          f"{summary.elapsed:.1f} s, {summary.items_per_second:.1f} items/s")

    searcher = Searcher(store, model)
    texts = [f"a picture of thing number {i}" for i in range(args.n)]
    images = [load_image(path, 10**8) for path in sorted(args.corpus.rglob("*.jpg"))][: args.n]
    sounds = [load_audio(path, 60) for path in sorted(args.corpus.rglob("*.ogg"))][: args.n]
    cases = [
        ("text", texts, searcher.search_text, model.encode_text),
        ("image", images, searcher.search_image, model.encode_image),
        ("audio", sounds, searcher.search_audio, model.encode_audio),
    ]
    print(f"{'query':<6} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'encode p50':>11} {'encode share':>13}")
    for name, inputs, search, encode in cases:
        if not inputs:
            continue
        search(inputs[0])  # warm-up
        total = timed(search, inputs)
        encoding = timed(lambda value: encode([value]), inputs)
        share = statistics.median(encoding) / statistics.median(total)
        print(f"{name:<6} {len(inputs):>4} {p(total, 50):>8.1f} {p(total, 99):>8.1f} {p(encoding, 50):>11.1f} {share:>13.2f}")


if __name__ == "__main__":
    main()
