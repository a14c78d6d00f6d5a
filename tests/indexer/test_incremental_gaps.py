"""Two incremental-indexing promises that deliberately broken code got past (issue 8, tests): an
unchanged file is not read again, and a running job's checkpoints make its items searchable before
it ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeEncoder
from xmodal.config import Settings
from xmodal.engine import Engine
from xmodal.indexer import IndexJob, collect_sources
from xmodal.store import Store


def test_an_unchanged_file_is_not_read_again(corpus: Path, settings: Settings, monkeypatch) -> None:
    with Engine(settings, encoder=FakeEncoder()) as engine:
        engine.index([corpus])

    def no_reading(path: str):
        pytest.fail(f"{path} was read again although it did not change")

    monkeypatch.setattr("xmodal.indexer.decode.open_source", no_reading)
    with Engine(settings, encoder=FakeEncoder()) as engine:
        summary = engine.index([corpus])
    assert (summary.unchanged, summary.indexed) == (7, 0)


def test_checkpoints_make_a_running_jobs_items_searchable(corpus: Path, tmp_path: Path) -> None:
    settings = Settings(store=tmp_path / "store", batch_size=2, workers=0, checkpoint_seconds=1e-6)
    encoder = FakeEncoder()
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    seen_mid_job: list[int] = []

    def look_as_a_reader(_label: str) -> None:
        if len(seen_mid_job) < 5:
            reader = Store.open(settings.store)
            ids = [i for modality in reader.modalities for i in reader.vectors(modality).ids().tolist()]
            searchable = {i for i, item in reader.get(ids).items() if item.status == "indexed"}
            reader.engine.dispose()
            seen_mid_job.append(len(searchable))

    try:
        IndexJob(store, encoder, settings, on_item=look_as_a_reader).run(collect_sources([corpus]))
    finally:
        store.close()
    assert max(seen_mid_job) > 0, seen_mid_job  # a reader saw saved, searchable items while the job ran
