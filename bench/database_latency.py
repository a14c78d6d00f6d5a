"""Filtered and keyword search latency of the metadata database: SQLite (FTS5) vs PostgreSQL (tsvector + GIN).

    python bench/database_latency.py [-n 100000] [--repeat 30] [--postgres URL]

Fills a store's database with n items (a third texts with a few words from a small vocabulary, the
rest image and audio rows with paths, sizes and metadata), then times the store operations a search
makes: keyword search (plain, excluding a word, with a filter), the id set of a filter (prefilter), and
filtering 1,000 vector-search candidates. Without --postgres a throwaway server is started the way
the tests do (tests/postgres.py: needs initdb and pg_ctl). PostgreSQL is vacuumed after the load, as
autovacuum would soon do: until then new rows sit in the GIN index's pending list, which every
keyword query scans (a rare word: ~9 ms instead of ~1 ms at 100k rows just loaded). Prints p50/p95
in ms per database and the PostgreSQL/SQLite ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/postgres.py

from xmodal.store import Store  # noqa: E402
from xmodal.store.filters import Filters  # noqa: E402
from xmodal.store.schema import Item  # noqa: E402

MODEL = {"spec": "bench", "version": "1", "dim": 8}
WORDS = "red green blue dog cat bird car train rain thunder bell drum piano violin night city".split()


def rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for number in range(n):
        modality = ("text", "image", "audio")[number % 3]
        extension = {"text": ".txt", "image": rng.choice([".jpg", ".png"]), "audio": ".wav"}[modality]
        out.append(
            {
                "modality": modality,
                "path": os.fsencode(f"/data/{rng.choice(['a', 'b', 'c'])}/{number:07d}{extension}"),
                "text": " ".join(rng.choices(WORDS, k=6)) + f" w{number % 5000}" if modality == "text" else None,
                "content_hash": f"{number:064d}",
                "size": rng.randrange(1_000, 10_000_000),
                "mtime": 1.7e9 + number,
                "metadata": {"source": rng.choice(["camera", "scan", "web"]), "n": number % 10},
                "status": "indexed",
                "created_at": None,
            }
        )
    return out


def fill(store: Store, data: list[dict]) -> float:
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    with store.engine.begin() as connection:
        for start in range(0, len(data), 5_000):
            chunk = [{**row, "created_at": now} for row in data[start : start + 5_000]]
            connection.execute(insert(Item.__table__), chunk)
    return time.perf_counter() - started


def timed(operation, repeat: int) -> tuple[float, float]:
    operation()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        operation()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def measure(store: Store, repeat: int, n: int) -> dict[str, tuple[float, float]]:
    candidates = random.Random(1).sample(range(1, n + 1), 1_000)
    web = Filters(metadata={"source": "web"}, extension=[".jpg"])
    size_band = Filters(min_size=5_000_000, max_size=5_050_000)
    operations = {
        "keyword 'dog'": lambda: store.keyword_search(["dog"], limit=10),
        "keyword 'piano violin' -rain": lambda: store.keyword_search(["piano violin"], ["rain"], limit=10),
        "keyword rare 'w1234'": lambda: store.keyword_search(["w1234"], limit=10),
        "keyword 'dog' + path filter": lambda: store.keyword_search(
            ["dog"], limit=10, filters=Filters(path_prefix="/data/b/")
        ),
        "filter 1000 candidates": lambda: store.allowed_ids(web, candidates),
        "prefilter ids (size range)": lambda: store.matching_ids(size_band, "image"),
    }
    return {name: timed(operation, repeat) for name, operation in operations.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", help="a PostgreSQL URL (default: start a throwaway server)")
    args = parser.parse_args()
    data = rows(args.n)
    server = None
    url = args.postgres
    if url is None:
        from tests.postgres import PostgresServer, missing_parts

        if missing_parts():
            sys.exit(f"cannot start PostgreSQL: {missing_parts()}")
        server = PostgresServer()
        url = server.new_database()
    results = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for name, database_url in (("sqlite", None), ("postgresql", url)):
                store = Store.open(Path(folder) / name, MODEL, writable=True, database_url=database_url)
                seconds = fill(store, data)
                if name == "postgresql":  # settle as autovacuum would: flush the GIN pending list, gather statistics
                    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                        connection.exec_driver_sql("VACUUM ANALYZE items")
                print(f"{name}: {args.n} rows inserted in {seconds:.1f} s", flush=True)
                results[name] = measure(store, args.repeat, args.n)
                store.close()
    finally:
        if server is not None:
            server.stop()
    print(f"\n{'operation':34} {'sqlite p50/p95 ms':>20} {'postgresql p50/p95 ms':>24} {'pg/sqlite':>10}")
    for operation in results["sqlite"]:
        (s50, s95), (p50, p95) = results["sqlite"][operation], results["postgresql"][operation]
        print(f"{operation:34} {s50:9.2f} / {s95:7.2f} {p50:12.2f} / {p95:8.2f} {p50 / s50:10.2f}")


if __name__ == "__main__":
    main()
