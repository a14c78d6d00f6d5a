"""Searcher.search: composite vectors, filters (an id set for the index, or a deeper search), paging, fusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import solid
from xmodal.indexer import IndexJob, collect_sources
from xmodal.search import Filters, Part, Query, QueryError, Searcher
from xmodal.search.composite import combine, reciprocal_rank_fusion
from xmodal.store import Store


@pytest.fixture
def searcher(corpus, encoder, settings, database_url) -> Searcher:
    """A searcher over a store whose metadata live in each database (filters are SQL on both)."""
    store = Store.open(settings.store, encoder.info.identity(), writable=True, database_url=database_url)
    for number in range(30):  # many reds, so that a filter passing one blue forces a deeper FAISS search
        solid(corpus / "img" / f"red-{number:02d}.png", (250 - number, 0, 0))
    IndexJob(store, encoder, settings).run(collect_sources([corpus]))
    return Searcher(store, encoder)


def names(page) -> list[str]:
    return [(hit.path or hit.text).rsplit("/", 1)[-1] for hit in page.hits]


def test_a_filter_that_passes_only_the_worst_match_still_finds_it(searcher) -> None:
    page = searcher.search(Query([Part(text="red")], ["image"], k=1, filters=Filters(extension=[".bmp"])))
    assert names(page) == ["blue.bmp"] and page.next_offset is None


def test_path_prefixes_match_the_stored_bytes_of_any_file_name(searcher, corpus, settings) -> None:
    odd = corpus.parent / "elsewhere" / (b"odd\xff").decode("utf-8", "surrogateescape")
    odd.mkdir(parents=True)
    solid(odd / "x.png", (0, 0, 9))
    IndexJob(searcher.store, searcher.encoder, settings).run(collect_sources([odd]))
    page = searcher.search(
        Query([Part(text="blue")], k=5, filters=Filters(path_prefix=str(corpus.parent / "elsewhere")))
    )
    assert names(page) == ["x.png"]


def test_pages_are_disjoint_and_ordered(searcher) -> None:
    whole = searcher.search(Query([Part(text="red")], ["image"], k=33)).hits
    pages = [searcher.search(Query([Part(text="red")], ["image"], k=10, offset=offset)) for offset in (0, 10, 20, 30)]
    assert [hit.id for page in pages for hit in page.hits] == [hit.id for hit in whole]
    assert [page.next_offset for page in pages] == [10, 20, 30, None]


def test_combine_and_fusion() -> None:
    a, b = np.eye(2, dtype=np.float32)
    assert np.allclose(combine([a, b], [1.0, -1.0]), np.array([1, -1]) / np.sqrt(2))
    with pytest.raises(QueryError, match="cancel"):
        combine([a, a], [1.0, -1.0])
    with pytest.raises(QueryError, match="positive"):
        combine([a], [-1.0])
    fused = reciprocal_rank_fusion([(0.9, 1), (0.8, 2), (0.7, 3)], [(5.0, 3), (4.0, 4)])
    assert [item_id for _, item_id in fused] == [3, 1, 2, 4]
    assert fused[0][0] == pytest.approx(1 / 63 + 1 / 61)


def test_item_parts_are_left_out_and_unknown_ones_refused(searcher) -> None:
    red = searcher.search(Query([Part(text="red")], ["image"], k=1)).hits[0]
    page = searcher.search(Query([Part(item=red.id), Part(text="blue", weight=0.2)], ["image"], k=5))
    assert red.id not in [hit.id for hit in page.hits]
    with pytest.raises(LookupError):
        searcher.search(Query([Part(item=10**6)]))


def test_filters_give_the_same_pages_through_the_id_set_and_through_deeper_search(searcher, monkeypatch) -> None:
    queries = [
        Query([Part(text="red")], ["image"], k=3, filters=Filters(extension=[".bmp", ".jpg"])),
        Query([Part(text="red")], k=5, offset=2, filters=Filters(path_prefix=str(searcher.store.directory.parent))),
    ]
    through_ids = [[hit.id for hit in searcher.search(query).hits] for query in queries]
    monkeypatch.setattr("xmodal.store.store.PREFILTER_LIMIT", 0)  # every filter now matches "too many" to list
    assert [[hit.id for hit in searcher.search(query).hits] for query in queries] == through_ids
    assert all(through_ids)


def test_a_numpy_store_answers_like_a_faiss_one(corpus, encoder, settings, searcher, tmp_path) -> None:
    from xmodal.store import Store

    store = Store.open(tmp_path / "exact", encoder.info.identity(), writable=True, vector_backend="numpy")
    IndexJob(store, encoder, settings).run(collect_sources([corpus]))
    exact = Searcher(store, encoder)
    query = Query([Part(text="red"), Part(text="blue", weight=-0.3)], k=8, filters=Filters(extension=[".png", ".txt"]))
    assert [Path(hit.path).name for hit in exact.search(query).hits] == [
        Path(hit.path).name for hit in searcher.search(query).hits
    ]
