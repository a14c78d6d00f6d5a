"""Keyword search on PostgreSQL: full-text search (tsvector) over a GIN expression index on `items`.

The same semantics as FTS5 on SQLite (`keyword_sqlite.py`): indexed text items only, any word of the
query, none of the excluded ones, English stemming without stop words, case and accents ignored
(accents only where the `unaccent` extension can be created). The index is a partial expression
index, so PostgreSQL keeps it in step with `items` whatever writes them, and no column is added to
the table. Relevance is `ts_rank` (higher is better) where SQLite gives BM25: the order of results
agrees on plain cases, the scores themselves differ.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from sqlalchemy import Engine, bindparam, desc, func, literal_column, select, text
from sqlalchemy.orm import Session

from xmodal.store.keyword import KeywordIndex, KeywordSearchUnavailable
from xmodal.store.schema import Item

CONFIG = "xmodal"  # the text search configuration: its parser, stemmer and accent folding
INDEX = "ix_items_keyword"
# Written out, not built by SQLAlchemy: the planner uses the index only for this exact expression.
DOCUMENT = f"to_tsvector('{CONFIG}'::regconfig, coalesce(items.text, ''))"
INDEXED_TEXT = "items.modality = 'text' AND items.status = 'indexed' AND items.text IS NOT NULL"
WORD_TOKENS = "asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart"
_WORD = re.compile(r"\w+", re.UNICODE)


class PostgresKeywordIndex(KeywordIndex):
    def install(self, engine: Engine) -> bool:
        with engine.begin() as connection:
            if connection.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = :name"), {"name": INDEX}).first():
                return True
            found = connection.execute(text("SELECT 1 FROM pg_ts_config WHERE cfgname = :name"), {"name": CONFIG})
            if not found.first():
                _create_configuration(connection)
            index = f"CREATE INDEX IF NOT EXISTS {INDEX} ON items USING GIN (({DOCUMENT})) WHERE {INDEXED_TEXT}"
            connection.execute(text(index))
        return True

    def search(
        self, session: Session, include: Sequence[str], exclude: Sequence[str], limit: int, where: Any = None
    ) -> list[tuple[int, float]]:
        wanted, unwanted = _words(include), _words(exclude)
        if not wanted:
            return []
        document = literal_column(DOCUMENT)
        query_words = _any_of(wanted, "w")
        relevance = func.ts_rank(document, query_words).label("relevance")
        query = (
            select(Item.id, relevance)
            .where(text(INDEXED_TEXT), document.op("@@")(query_words))
            .order_by(desc("relevance"), Item.id)
            .limit(limit)
        )
        if unwanted:
            query = query.where(~document.op("@@")(_any_of(unwanted, "x")))
        if where is not None:
            query = query.where(where)
        try:
            return [(int(item_id), float(score)) for item_id, score in session.execute(query)]
        except Exception as error:  # noqa: BLE001
            if f'text search configuration "{CONFIG}" does not exist' in str(error):
                raise KeywordSearchUnavailable(
                    "this store has no keyword index yet: open it for writing once (`xmodal index` or `xmodal upgrade`)"
                ) from None
            raise


def _any_of(words: list[str], name: str) -> Any:
    """A tsquery matching any of the words (each parsed like the documents: stemmed, accents folded)."""
    queries = [
        func.plainto_tsquery(literal_column(f"'{CONFIG}'::regconfig"), bindparam(f"{name}{i}", word))
        for i, word in enumerate(words)
    ]
    combined = queries[0]
    for query in queries[1:]:
        combined = combined.op("||")(query)
    return combined


def _create_configuration(connection: Any) -> None:
    """English stems like FTS5's porter tokenizer, and no stop words (FTS5 drops none either)."""
    folding = "unaccent, " if _unaccent(connection) else ""
    mapping = f"ALTER MAPPING FOR {WORD_TOKENS} WITH {folding}{CONFIG}_stem"
    connection.execute(text(f"CREATE TEXT SEARCH DICTIONARY {CONFIG}_stem (TEMPLATE = snowball, Language = english)"))
    connection.execute(text(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = simple)"))
    connection.execute(text(f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} {mapping}"))


def _unaccent(connection: Any) -> bool:
    """Create the unaccent extension if this server has it and we may (it is trusted since PostgreSQL 13)."""
    if not connection.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")).first():
        return False
    savepoint = connection.begin_nested()
    try:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except Exception:  # noqa: BLE001 - no privilege: keyword search works, accents count
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _words(texts: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(word.lower() for piece in texts for word in _WORD.findall(piece)))[:64]
