"""The job's three stages on their own: the plan's decisions, a runner that answers out of order (as a
cluster would), and failures travelling from the embed stage to the commit stage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

from tests.conftest import solid
from tests.fakes import FakeEncoder
from xmodal.indexer import Embedded, EmbedTask, IndexJob, InlineRunner, collect_sources
from xmodal.indexer.decode import hash_source
from xmodal.indexer.plan import Duplicate, Failed, Gone, New, Pending, Plan, Relocated, Replaced, Unchanged
from xmodal.modalities import Limits
from xmodal.store import Store


def item_rows(store: Store) -> set[tuple]:
    return {(os.path.basename(path), duplicate) for path, _, duplicate in store.file_paths()}


def plan_for(store: Store, encoder: FakeEncoder) -> Plan:
    return Plan(store, encoder.info.modalities, encoder.refusal, Pending())


def test_the_plan_names_every_case(corpus, store, encoder, settings) -> None:
    IndexJob(store, encoder, settings).run(collect_sources([corpus]))
    red, blue = corpus / "img" / "red.png", corpus / "img" / "blue.bmp"
    plan = plan_for(store, encoder)
    [source] = collect_sources([red])
    assert isinstance(plan.before_reading(source), Unchanged)  # same size and mtime: not even read
    os.utime(red, (5, 5))
    assert plan.before_reading(source) is None
    [touched] = plan.after_hashing(hash_source(source))
    assert isinstance(touched, Relocated) and not touched.moved
    (corpus / "img" / "copy.bmp").write_bytes(blue.read_bytes())
    [copy] = collect_sources([corpus / "img" / "copy.bmp"])
    [duplicate] = plan.after_hashing(hash_source(copy))
    assert isinstance(duplicate, Duplicate) and duplicate.original == str(blue)
    solid(red, (1, 2, 3), size=(40, 40))
    replaced, new = plan.after_hashing(hash_source(source))
    assert isinstance(replaced, Replaced) and isinstance(new, New) and new.task.key == 1
    (corpus / "img" / "red-again.png").write_bytes(red.read_bytes())
    [twin] = collect_sources([corpus / "img" / "red-again.png"])
    [again] = plan.after_hashing(hash_source(twin))  # the same new content, while it waits for its vector
    assert isinstance(again, Duplicate) and again.task == 1 and again.item_id is None
    no_audio = FakeEncoder(modalities=("text", "image"))
    [sound] = collect_sources([corpus / "snd" / "low.wav"])
    refused = plan_for(store, no_audio).before_reading(sound)
    assert isinstance(refused, Failed) and "no audio tower" in refused.reason
    (corpus / "snd" / "high.flac").unlink()
    assert [(Path(g.path).name, g.is_duplicate) for g in plan_for(store, encoder).gone([corpus])] == [
        ("high.flac", False)
    ]
    assert all(isinstance(g, Gone) for g in plan_for(store, encoder).gone([corpus]))


class BackwardsRunner(InlineRunner):
    """Holds every result back and returns the batches last first, one result each, as a cluster may."""

    def embed(self, tasks: Iterable[EmbedTask]) -> Iterator[list[Embedded]]:
        batches = [[result] for batch in super().embed(tasks) for result in batch]
        yield from reversed(batches)


def test_a_runner_answering_out_of_order_gives_the_same_store(corpus, encoder, settings, tmp_path) -> None:
    (corpus / "img" / "copy.png").write_bytes((corpus / "img" / "red.png").read_bytes())
    inline = Store.open(tmp_path / "inline", encoder.info.identity(), writable=True)
    backwards = Store.open(tmp_path / "backwards", encoder.info.identity(), writable=True)
    first = IndexJob(inline, encoder, settings).run(collect_sources([corpus]))
    runner = BackwardsRunner(encoder, Limits.for_indexing(settings), settings.batch_size)
    second = IndexJob(backwards, encoder, settings, runner=runner).run(collect_sources([corpus]))
    assert (
        (first.indexed, first.duplicates, first.failed)
        == (second.indexed, second.duplicates, second.failed)
        == (7, 1, 0)
    )
    assert item_rows(inline) == item_rows(backwards) and backwards.verify() == []
    for name in ("red.txt", "low.wav"):
        path = str(next(corpus.rglob(name)))
        assert inline.by_path(path).content_hash == backwards.by_path(path).content_hash


def test_a_new_item_that_fails_to_embed_takes_its_duplicates_with_it(corpus, store, encoder, settings) -> None:
    (corpus / "img" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (corpus / "img" / "broken-too.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    summary = IndexJob(store, encoder, settings).run(collect_sources([corpus]))
    assert (summary.indexed, summary.failed, summary.duplicates) == (7, 2, 0)
    assert {Path(item.path).name for item in store.failures()} == {"broken.jpg", "broken-too.jpg"}
