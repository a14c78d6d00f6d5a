"""Run an index job with the fake encoder in its own process (for kill -9 and concurrency tests).

    python -m tests.e2e.fake_index_job STORE CORPUS [--slow SECONDS_PER_BATCH] [--ray]

With --ray the embed stage runs on a new one-CPU local Ray cluster (workers load their own encoder).
"""

from __future__ import annotations

import argparse
import os
import time
from functools import partial
from pathlib import Path

from tests.fakes import FakeEncoder
from xmodal.config import Settings
from xmodal.indexer import IndexJob, collect_sources
from xmodal.store import Store


class SlowFakeEncoder(FakeEncoder):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def encode(self, modality, inputs):
        time.sleep(self.delay)  # stretch the job so that kills and searches land in the middle of it
        return super().encode(modality, inputs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store", type=Path)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--ray", action="store_true")
    args = parser.parse_args()
    encoder = SlowFakeEncoder(args.slow)
    settings = Settings(store=args.store, batch_size=4, workers=1, checkpoint_seconds=0.05)
    store = Store.open(args.store, encoder.info.identity(), writable=True)
    runner = None
    if args.ray:
        import ray

        from xmodal.indexer.embed_ray import RayRunner
        from xmodal.modalities import Limits

        root = Path(__file__).resolve().parents[2]  # workers import this test code: started with its path
        os.environ["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "src"), os.environ.get("PYTHONPATH", "")])
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
        runner = RayRunner(partial(SlowFakeEncoder, args.slow), Limits.for_indexing(settings), settings.batch_size)
    job = IndexJob(store, encoder, settings, runner=runner)
    summary = job.run(collect_sources([args.corpus]), prune_under=[args.corpus])
    if runner is not None:
        runner.close()
    store.close()
    print(f"indexed {summary.indexed} unchanged {summary.unchanged} failed {summary.failed}")


if __name__ == "__main__":
    main()
