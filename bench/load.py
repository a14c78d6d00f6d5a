"""Load test: N concurrent clients against `xmodal serve` on 127.0.0.1, bounded in requests and time.

    python bench/load.py [--store DIR] [--clients 8] [--requests 400] [--seconds 60] [--mix text,item,image]
    python bench/load.py --model tiny         # a random-weight open_clip model: the server's own overhead

Without --store, indexes --corpus (samples/corpus) with --model (default xmodal-base) into a
temporary store first. Starts `xmodal serve` on a free loopback port, waits for /health, then
each client thread sends requests until the request budget or the time limit is spent: text
queries, "more like this" item queries and image uploads, in turn. Prints throughput, p50/p90/p99
latency per kind and overall, and every error (none expected). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["a dog barking", "a cow", "trumpet", "an elephant", "a bird singing", "a ringing telephone", "a sports car",
         "a cat", "music", "a horse", "rain at night", "a guitar", "a bee buzzing", "a school bus", "a frog"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def xmodal(*args: object, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "XMODAL_LOG_FORMAT": "json"}
    return subprocess.Popen([sys.executable, "-m", "xmodal", *map(str, args)], env=env, **kwargs)


def tiny_model(folder: Path) -> str:
    """A small random-weight open_clip model in local files (no download), for measuring the server itself."""
    from safetensors.torch import save_file

    from xmodal.compat import ensure_imports

    ensure_imports()
    import open_clip

    config = folder / "xmodal-bench-tiny.json"
    config.write_text(json.dumps({
        "embed_dim": 64,
        "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
    }))
    open_clip.add_model_config(config)
    weights = folder / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in open_clip.create_model("xmodal-bench-tiny").state_dict().items()}, str(weights))
    return f"open_clip:{config}@{weights}"


def build_store(corpus: Path, model: str, folder: Path) -> Path:
    store = folder / "store"
    spec = tiny_model(folder) if model == "tiny" else model
    started = time.perf_counter()
    indexing = xmodal("index", "--store", store, "--model", spec, corpus, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = indexing.communicate(timeout=1800)
    if indexing.returncode != 0:
        raise SystemExit(f"indexing failed: {err.strip()[-2000:]}")
    print(f"indexed {corpus} with {model} in {time.perf_counter() - started:.1f} s: {out.strip().splitlines()[-1]}")
    return store


def wait_until_up(base: str, server: subprocess.Popen, limit: float) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"xmodal serve exited with status {server.returncode}")
        try:
            return httpx.get(f"{base}/health", timeout=2).json()
        except httpx.HTTPError:
            time.sleep(0.25)
    raise SystemExit(f"xmodal serve did not answer /health within {limit:.0f} s")


class Load:
    def __init__(self, base: str, mix: list[str], budget: int, seconds: float, item_ids: list[int], image: bytes | None) -> None:
        self.base, self.budget, self.deadline = base, budget, time.monotonic() + seconds
        self.kinds = itertools.cycle(mix)
        self.item_ids, self.image = item_ids or [1], image
        self.lock = threading.Lock()
        self.sent = 0
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def next_kind(self) -> str | None:
        with self.lock:
            if self.sent >= self.budget or time.monotonic() >= self.deadline:
                return None
            self.sent += 1
            return next(self.kinds)

    def client(self, number: int) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as http:
            for count in itertools.count():
                kind = self.next_kind()
                if kind is None:
                    return
                started = time.perf_counter()
                try:
                    response = self.send(http, kind, number * 7919 + count)
                    ok = response.status_code == 200
                    problem = f"{kind}: HTTP {response.status_code} {response.text[:200]}"
                except httpx.HTTPError as error:
                    ok, problem = False, f"{kind}: {type(error).__name__}: {error}"
                elapsed = time.perf_counter() - started
                with self.lock:
                    self.latencies[kind].append(elapsed)
                    if not ok:
                        self.errors.append(problem)

    def send(self, http: httpx.Client, kind: str, seed: int) -> httpx.Response:
        if kind == "item":
            return http.post("/search", json={"item": self.item_ids[seed % len(self.item_ids)], "k": 10})
        if kind == "image" and self.image is not None:
            return http.post("/search", files={"file": ("query.jpg", self.image, "image/jpeg")}, data={"k": "10"})
        return http.post("/search", json={"text": WORDS[seed % len(WORDS)], "k": 10})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def report(load: Load, elapsed: float, clients: int) -> None:
    print(f"{'kind':<7} {'n':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    everything: list[float] = []
    for kind, values in sorted(load.latencies.items()):
        everything += values
        print(f"{kind:<7} {len(values):>6} {percentile(values, 50) * 1e3:>8.1f} {percentile(values, 90) * 1e3:>8.1f} "
              f"{percentile(values, 99) * 1e3:>8.1f} {max(values) * 1e3:>8.1f}")
    if not everything:
        print("no requests completed")
        return
    print(f"{'all':<7} {len(everything):>6} {percentile(everything, 50) * 1e3:>8.1f} {percentile(everything, 90) * 1e3:>8.1f} "
          f"{percentile(everything, 99) * 1e3:>8.1f} {max(everything) * 1e3:>8.1f}")
    print(f"{clients} clients, {len(everything)} requests in {elapsed:.1f} s: {len(everything) / elapsed:.1f} requests/s, "
          f"mean {statistics.mean(everything) * 1e3:.1f} ms, errors {len(load.errors)}")
    for problem in load.errors[:10]:
        print(f"  error: {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="an existing store (default: index --corpus into a temporary one)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "samples" / "corpus")
    parser.add_argument("--model", default="xmodal-base", help="model for a new store; 'tiny' = random-weight open_clip")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads)")
    parser.add_argument("--requests", type=int, default=400, help="stop after this many requests in all")
    parser.add_argument("--seconds", type=float, default=60.0, help="stop after this long, whatever is left")
    parser.add_argument("--mix", default="text,item,image", help="request kinds, sent in turn: text, item, image")
    args = parser.parse_args()
    if not (1 <= args.clients <= 256 and 1 <= args.requests <= 100_000 and 0 < args.seconds <= 3600):
        parser.error("keep it bounded: 1-256 clients, 1-100000 requests, at most 3600 s")

    with tempfile.TemporaryDirectory(prefix="xmodal-load-") as scratch:
        store = args.store or build_store(args.corpus, args.model, Path(scratch))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(Path(scratch) / "serve.log", "w")
        server = xmodal("serve", "--store", store, "--host", "127.0.0.1", "--port", port, stdout=log, stderr=subprocess.STDOUT)
        try:
            health = wait_until_up(base, server, limit=300)
            print(f"serving {store} ({health['model']['spec']}, items {health['items']}) at {base}")
            ids = [r["id"] for r in httpx.post(f"{base}/search", json={"text": "a", "k": 50}, timeout=60).json()["results"]]
            images = sorted(args.corpus.rglob("*.jpg"))
            image = images[0].read_bytes() if images else None
            load = Load(base, args.mix.split(","), args.requests, args.seconds, ids, image)
            for kind in set(args.mix.split(",")):  # warm-up, not counted
                load.send(httpx.Client(base_url=base, timeout=60), kind, 0)
            threads = [threading.Thread(target=load.client, args=(number,)) for number in range(args.clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            report(load, time.perf_counter() - started, args.clients)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()


if __name__ == "__main__":
    main()
