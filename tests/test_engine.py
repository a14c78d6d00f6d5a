"""The Engine under the CLI and the API: jobs, search, items, deletes, checks and info, model loaded lazily."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fakes import FakeEncoder
from xmodal.engine import Engine
from xmodal.errors import Conflict, Invalid, NotFound
from xmodal.search import Part, Query
from xmodal.store import Store


@pytest.fixture
def engine(corpus, settings):
    with Engine(settings, encoder=FakeEncoder()) as engine:
        engine.index([corpus])
        yield engine


def test_a_job_reports_progress_and_admits_only_what_it_may(corpus, settings) -> None:
    seen = []
    with Engine(settings, encoder=FakeEncoder()) as engine:
        refuse_sounds = lambda source: "no sounds here" if source.modality == "audio" else None  # noqa: E731
        summary = engine.index(
            [corpus], on_progress=lambda p: seen.append((p.stage, p.found, p.total, p.processed)), admit=refuse_sounds
        )
    scanning = [found for stage, found, _, _ in seen if stage == "scanning"]
    assert scanning == list(range(1, 8))  # counted as they are found, before the model loads
    assert [stage for stage, *_ in seen[7:9]] == ["loading", "indexing"]
    indexing = [(total, done) for stage, _, total, done in seen if stage == "indexing"]
    assert indexing[0] == (7, 0) and indexing[-1] == (7, 7) and [done for _, done in indexing] == list(range(8))
    assert (summary.indexed, summary.failed) == (5, 2) and all(
        reason == "no sounds here" for _, reason in summary.failures
    )


def test_search_items_and_stats(engine) -> None:
    page = engine.search(Query([Part(text="red")], ["image"], k=1))
    assert page.hits[0].path.endswith("red.png")
    assert engine.item(page.hits[0].id).path == page.hits[0].path
    with pytest.raises(NotFound, match="no item with id 4242"):
        engine.item(4242)
    assert engine.stats()["image"] == {"indexed": 3}
    assert engine.health()["model"]["spec"] == "fake"


def test_delete_needs_the_writer_lock(engine, settings) -> None:
    red = engine.search(Query([Part(text="red")], ["image"], k=1)).hits[0].id
    writer = Store.open(settings.store, writable=True)
    with pytest.raises(Conflict, match="being written"):
        engine.delete(red)
    writer.close()
    engine.delete(red)
    with pytest.raises(NotFound):
        engine.item(red)
    assert red not in [hit.id for hit in engine.search(Query([Part(text="red")], k=20)).hits]


def test_check_repairs_and_info_loads_no_model(corpus, settings, monkeypatch) -> None:
    with Engine(settings, encoder=FakeEncoder()) as engine:
        engine.index([corpus])
    store = Store.open(settings.store, writable=True)
    store.vectors("image").add(np.array([777]), np.ones((1, 16), np.float32))
    store.close()
    monkeypatch.setattr("xmodal.encoders.load_model", lambda *a, **k: pytest.fail("info and check need no model"))
    engine = Engine(settings)
    assert not engine.check().ok
    report = engine.check(repair=True)
    assert (
        report.ok
        and report.repaired == ["removed 1 image vectors with no row"]
        and report.items["text"] == {"indexed": 2}
    )
    info = engine.info()
    assert (
        info["indexes"]["image"]["vectors"] == 3
        and info["vector_backend"] == "faiss"
        and info["device"]["faiss"] == "cpu"
    )
    assert info["model_description"] == "fake version 1 (16-d)"


def test_a_new_store_takes_the_model_asked_for(corpus, tmp_path, settings) -> None:
    with pytest.raises(Invalid, match="unknown model 'nope'"):
        Engine(settings.with_overrides(model="nope")).index([corpus])
    with pytest.raises(NotFound, match="no xmodal store"):
        Engine.open(settings.with_overrides(store=tmp_path / "none"))


def test_a_link_out_of_the_indexed_folder_is_skipped_and_never_an_item(corpus, tmp_path, settings) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("red password")
    (corpus / "txt" / "passwd.txt").symlink_to(secret)
    with Engine(settings, encoder=FakeEncoder()) as engine:
        summary = engine.index([corpus])
        assert [(where.rsplit("/", 1)[-1], "outside" in reason) for where, reason in summary.skipped] == [
            ("passwd.txt", True)
        ]
        assert summary.failed == 0 and engine.store.by_path(str(secret)) is None


def test_concurrent_deletes_wait_for_each_other(engine, monkeypatch) -> None:
    """Issue 8 (minor): two deletes at once in one server both succeed; only another writer is a 409."""
    import threading

    first, second = [hit.id for hit in engine.search(Query([Part(text="red")], ["image", "text"], k=2)).hits]
    entered, release = threading.Event(), threading.Event()
    remove = Store.remove

    def slow_remove(store, item_ids):
        entered.set()
        release.wait(30)
        return remove(store, item_ids)

    monkeypatch.setattr(Store, "remove", slow_remove)
    errors: list[Exception] = []

    def delete(item_id: int) -> None:
        try:
            engine.delete(item_id)
        except Exception as error:  # noqa: BLE001 - handed to the test
            errors.append(error)

    one = threading.Thread(target=delete, args=(first,))
    one.start()
    assert entered.wait(30)
    two = threading.Thread(target=delete, args=(second,))
    two.start()
    two.join(0.5)  # the second waits for the first (or, before the fix, fails at once)
    release.set()
    one.join(30)
    two.join(30)
    assert errors == []
    for item_id in (first, second):
        with pytest.raises(NotFound):
            engine.item(item_id)
