from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from xmodal.store import Item, Store
from xmodal.store.filters import Filters
from xmodal.store.keyword import KeywordSearchUnavailable, NoKeywordIndex, keyword_index
from xmodal.store.keyword_sqlite import TABLE, Fts5KeywordIndex, match_expression


def rows(store: Store) -> dict[int, str]:
    with store.engine.connect() as connection:
        return dict(connection.execute(text(f"SELECT rowid, text FROM {TABLE}")).all())


def add_texts(store: Store, *texts: str) -> list[int]:
    items = [Item(modality="text", text=value, content_hash=str(hash(value))) for value in texts]
    store.add(items, np.ones((len(items), int(store.model["dim"])), dtype="float32"))
    return [item.id for item in items]


def test_triggers_keep_the_keyword_index_in_step(store) -> None:
    first, second = add_texts(store, "A dog barking at night", "Cats sleeping")
    store.add_failed([Item(modality="text", path="/x/broken.txt", status="failed", error="bad")])
    assert rows(store) == {first: "A dog barking at night", second: "Cats sleeping"}
    store.remove([first])
    assert set(rows(store)) == {second}
    with store.sessions.begin() as session:
        session.get(Item, second).text = "Cats dreaming"
    assert rows(store) == {second: "Cats dreaming"}


def test_a_store_made_before_keyword_search_is_filled_on_install(store) -> None:
    ids = add_texts(store, "red barn", "blue sky")
    with store.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {TABLE}"))
    fts = Fts5KeywordIndex()
    assert fts.install(store.engine) and fts.install(store.engine)  # idempotent
    assert set(rows(store)) == set(ids)


def test_queries_are_quoted_words_and_rank_by_bm25(store) -> None:
    barking, quiet, _ = add_texts(store, "dogs barking, barking dogs", "a quiet dog", "blue sky")
    assert match_expression(['NEAR(a b) OR "x', "*"]) == '("near" OR "a" OR "b" OR "or" OR "x")'
    assert match_expression(["..."]) is None
    assert match_expression(["dog"], ["quiet"]) == '("dog") NOT ("quiet")'
    found = store.keyword_search(["barking dog"], limit=10)
    assert [item_id for item_id, _ in found] == [barking, quiet] and found[0][1] > found[1][1] > 0
    assert store.keyword_search(["dog"], ["quiet"], 10)[0][0] == barking
    with store.sessions() as session:
        assert store.keywords.search(session, ["dog"], [], 10, Item.id == quiet) == [(quiet, found[1][1])]
    assert store.keyword_search(["..."]) == []


def test_filters_apply_to_keyword_search_and_other_databases_say_so(store) -> None:
    add_texts(store, "a red dog")
    cat = Item(modality="text", text="a red cat", content_hash="cat", meta={"kind": "cat"})
    store.add([cat], np.ones((1, int(store.model["dim"])), dtype="float32"))
    assert [item_id for item_id, _ in store.keyword_search(["red"], filters=Filters(metadata={"kind": "cat"}))] == [
        cat.id
    ]
    other = keyword_index("mssql")
    assert isinstance(other, NoKeywordIndex) and other.install(store.engine) is False
    with pytest.raises(KeywordSearchUnavailable, match="not implemented for mssql"):
        other.search(None, ["x"], [], 1)  # type: ignore[arg-type]
