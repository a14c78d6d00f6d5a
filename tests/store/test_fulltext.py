from __future__ import annotations

from sqlalchemy import text

from xmodal.store import Item, Store
from xmodal.store.fulltext import TABLE, install, keyword_search, match_expression


def rows(store: Store) -> dict[int, str]:
    with store.engine.connect() as connection:
        return dict(connection.execute(text(f"SELECT rowid, text FROM {TABLE}")).all())


def add_texts(store: Store, *texts: str) -> list[int]:
    items = [Item(modality="text", text=value, content_hash=str(hash(value))) for value in texts]
    store.add(items, __import__("numpy").ones((len(items), int(store.model["dim"])), dtype="float32"))
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
    assert install(store.engine) and install(store.engine)  # idempotent
    assert set(rows(store)) == set(ids)


def test_queries_are_quoted_words_and_rank_by_bm25(store) -> None:
    barking, quiet, _ = add_texts(store, "dogs barking, barking dogs", "a quiet dog", "blue sky")
    assert match_expression(['NEAR(a b) OR "x', "*"]) == '("near" OR "a" OR "b" OR "or" OR "x")'
    assert match_expression(["..."]) is None
    assert match_expression(["dog"], ["quiet"]) == '("dog") NOT ("quiet")'
    with store.sessions() as session:
        found = keyword_search(session, match_expression(["barking dog"]), 10)
        assert [item_id for item_id, _ in found] == [barking, quiet] and found[0][1] > found[1][1] > 0
        assert keyword_search(session, match_expression(["dog"], ["quiet"]), 10)[0][0] == barking
        assert keyword_search(session, match_expression(["dog"]), 10, Item.id == quiet) == [(quiet, found[1][1])]
