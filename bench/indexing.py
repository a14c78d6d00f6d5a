"""What the indexing benches share: one timed `IndexJob` (what `xmodal index` runs) into a fresh store."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from xmodal.config import Settings
from xmodal.indexer import IndexJob, InlineRunner, collect_sources
from xmodal.modalities import Limits
from xmodal.store import Store


def end_to_end(
    encoder, folder: Path, settings: Settings, modality: str, inline: bool = False
) -> tuple[float, np.ndarray]:
    """(items/s, the stored `modality` vectors in path order). `inline`: decode between encodes, as before
    issue 10 (now a thread decodes ahead with 0 workers)."""
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    limits = Limits.for_indexing(settings, encoder.image_input_side)
    runner = InlineRunner(encoder, limits, settings.batch_size) if inline else None
    started = time.perf_counter()
    summary = IndexJob(store, encoder, settings, runner=runner).run(collect_sources([folder]))
    elapsed = time.perf_counter() - started
    ids = sorted(store.file_paths())  # by path: the same file in the same row in every store
    stored = dict(zip(*store.vectors(modality).all_vectors()))
    vectors = np.stack([stored[item_id] for _, item_id, _ in ids])
    store.close()
    assert summary.failed == 0 and summary.duplicates == 0, (summary.failures[:3], summary.duplicates)
    return summary.indexed / elapsed, vectors
