"""Keyword search on SQLite: an FTS5 table kept in step with `items` by triggers.

The table holds the text of every indexed text item under the item's id (its rowid). Triggers on
`items` keep it current whatever writes the rows (indexer, deletes, crash repair), so the rest of
the store needs no changes beyond `install` on a writer's open.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from sqlalchemy import Engine, column, desc, literal_column, select, table, text
from sqlalchemy.orm import Session

from xmodal.store.keyword import KeywordIndex, KeywordSearchUnavailable
from xmodal.store.schema import Item

TABLE = "items_fts"
_INDEXED_TEXT = "{row}.modality = 'text' AND {row}.status = 'indexed' AND {row}.text IS NOT NULL"
_STATEMENTS = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(text, tokenize = 'porter unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON items WHEN {_INDEXED_TEXT.format(row='new')}
        BEGIN INSERT INTO {TABLE}(rowid, text) VALUES (new.id, new.text); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON items
        BEGIN DELETE FROM {TABLE} WHERE rowid = old.id; END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_update AFTER UPDATE ON items
        BEGIN
            DELETE FROM {TABLE} WHERE rowid = old.id;
            INSERT INTO {TABLE}(rowid, text) SELECT new.id, new.text WHERE {_INDEXED_TEXT.format(row='new')};
        END""",
)
_WORD = re.compile(r"\w+", re.UNICODE)


class Fts5KeywordIndex(KeywordIndex):
    def install(self, engine: Engine) -> bool:
        with engine.begin() as connection:
            existed = connection.execute(
                text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": TABLE}
            ).first()
            try:
                for statement in _STATEMENTS:  # all IF NOT EXISTS: cheap on every open, and restores lost triggers
                    connection.execute(text(statement))
            except Exception as error:  # noqa: BLE001 - an SQLite built without FTS5: vector search still works
                if "fts5" not in str(error).lower():
                    raise
                return False
            if not existed:  # a store made before keyword search: index the texts it already holds
                rows = _INDEXED_TEXT.format(row="items")
                connection.execute(text(f"INSERT INTO {TABLE}(rowid, text) SELECT id, text FROM items WHERE {rows}"))
        return True

    def search(
        self, session: Session, include: Sequence[str], exclude: Sequence[str], limit: int, where: Any = None
    ) -> list[tuple[int, float]]:
        expression = match_expression(include, exclude)
        if expression is None:
            return []
        fts = table(TABLE, column("rowid"))
        relevance = (-literal_column(f"bm25({TABLE})")).label("relevance")  # bm25: lower is better
        query = (
            select(Item.id, relevance)
            .select_from(fts.join(Item.__table__, Item.id == fts.c.rowid))
            .where(text(f"{TABLE} MATCH :expression").bindparams(expression=expression))
            .order_by(desc("relevance"), Item.id)
            .limit(limit)
        )
        if where is not None:
            query = query.where(where)
        try:
            return [(int(item_id), float(score)) for item_id, score in session.execute(query)]
        except Exception as error:  # noqa: BLE001
            if "no such table" in str(error) or "fts5" in str(error).lower():
                raise KeywordSearchUnavailable(
                    "this store has no keyword index yet: open it for writing once (`xmodal index`), "
                    "with an SQLite that has FTS5"
                ) from None
            raise


def match_expression(include: Sequence[str], exclude: Sequence[str] = ()) -> str | None:
    """An FTS5 query from free text: any of the included words, none of the excluded ones (all quoted)."""
    wanted = _quoted_words(include)
    if not wanted:
        return None
    expression = "(" + " OR ".join(wanted) + ")"
    unwanted = _quoted_words(exclude)
    if unwanted:
        expression += " NOT (" + " OR ".join(unwanted) + ")"
    return expression


def _quoted_words(texts: Sequence[str]) -> list[str]:
    words = dict.fromkeys(word.lower() for piece in texts for word in _WORD.findall(piece))
    return [f'"{word}"' for word in list(words)[:64]]
