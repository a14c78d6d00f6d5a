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
    store.save()  # rows become searchable with the save that writes their vectors
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
    store.save()
    assert [item_id for item_id, _ in store.keyword_search(["red"], filters=Filters(metadata={"kind": "cat"}))] == [
        cat.id
    ]
    other = keyword_index("mssql")
    assert isinstance(other, NoKeywordIndex) and other.install(store.engine) is False
    with pytest.raises(KeywordSearchUnavailable, match="not implemented for mssql"):
        other.search(None, ["x"], [], 1)  # type: ignore[arg-type]


@pytest.fixture
def any_store(tmp_path, encoder, database_url) -> Store:
    """A writer's store on each database (SQLite's FTS5, PostgreSQL's tsvector + GIN)."""
    store = Store.open(tmp_path / "store", encoder.info.identity(), writable=True, database_url=database_url)
    yield store
    store.close()


def test_both_databases_give_the_same_keyword_answers(any_store) -> None:
    store = any_store
    barking, quiet, sky, cafe = add_texts(store, "dogs barking, barking dogs", "a quiet dog", "blue sky", "Café crème")
    found = store.keyword_search(["barking dog"], limit=10)
    assert [item_id for item_id, _ in found] == [barking, quiet] and found[0][1] > found[1][1] > 0
    assert [item_id for item_id, _ in store.keyword_search(["the dogs barked"])] == [barking, quiet]  # stems
    assert [item_id for item_id, _ in store.keyword_search(["DOG"], ["quiet"])] == [barking]
    assert [item_id for item_id, _ in store.keyword_search(["cafe"])] == [cafe]  # accents and case ignored
    assert store.keyword_search(["a"]) == [(quiet, store.keyword_search(["a"])[0][1])]  # no stop words
    assert len(store.keyword_search(["dog sky"], limit=1)) == 1
    assert store.keyword_search(["..."]) == [] and store.keyword_search(["cat"]) == []
    with store.sessions() as session:
        assert [item_id for item_id, _ in store.keywords.search(session, ["dog"], [], 10, Item.id == quiet)] == [quiet]
    store.add_failed([Item(modality="text", path="/x/dog.txt", text="dog", status="failed", error="bad")])
    store.remove([barking])
    with store.sessions.begin() as session:
        session.get(Item, sky).text = "a sleeping dog"
    assert sorted(item_id for item_id, _ in store.keyword_search(["dog"])) == [quiet, sky]


def test_both_databases_apply_filters_to_keyword_search(any_store) -> None:
    store = any_store
    dim = int(store.model["dim"])
    items = [
        Item(modality="text", text="a red dog", content_hash="1", path="/notes/dog.TXT", size=10, meta={"n": 1}),
        Item(modality="text", text="a red cat", content_hash="2", path="/notes/cat.md", size=20, meta={"n": "one"}),
        Item(modality="text", text="a red fox", content_hash="3", path="/other/fox.txt", size=30, meta={"ok": True}),
    ]
    store.add(items, np.ones((3, dim), dtype="float32"))
    store.save()
    dog, cat, fox = (item.id for item in items)

    def found(**filters) -> list[int]:
        return sorted(item_id for item_id, _ in store.keyword_search(["red"], filters=Filters(**filters)))

    assert found(metadata={"n": 1}) == [dog] and found(metadata={"n": "one"}) == [cat]
    assert found(metadata={"ok": True}) == [fox] and found(metadata={"n": 2}) == []
    assert found(extension=["txt"]) == [dog, fox] and found(path_prefix="/notes/") == [dog, cat]
    assert found(min_size=15, max_size=30) == [cat, fox]
    assert store.allowed_ids(Filters(extension=[".md", ".txt"], max_size=20), [dog, cat, fox]) == {dog, cat}
    assert store.matching_ids(Filters(path_prefix="/other"), "text") == {fox}
