"""Keyword search over text items, one implementation per database dialect.

SQLite uses FTS5 (`keyword_sqlite.py`), PostgreSQL full-text search over a GIN index
(`keyword_postgres.py`). Each keeps its index in step with `items` inside the database, so the
store's writes need not know about it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from xmodal.errors import Unavailable


class KeywordSearchUnavailable(Unavailable):
    pass


class KeywordIndex(ABC):
    @abstractmethod
    def install(self, engine: Engine) -> bool:
        """Create the index if missing and fill it from existing rows (a writer's open); False when
        this database cannot have one (vector search still works)."""

    @abstractmethod
    def search(
        self, session: Session, include: Sequence[str], exclude: Sequence[str], limit: int, where: Any = None
    ) -> list[tuple[int, float]]:
        """(item id, relevance: higher is better) of indexed text items matching any word of `include`
        and none of `exclude`, best first; `where` is an optional SQLAlchemy condition on `items`."""


class NoKeywordIndex(KeywordIndex):
    """A database with no keyword search implementation here."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def install(self, engine: Engine) -> bool:
        return False

    def search(
        self, session: Session, include: Sequence[str], exclude: Sequence[str], limit: int, where: Any = None
    ) -> list:
        raise KeywordSearchUnavailable(
            f"keyword search is not implemented for {self.dialect} databases; use mode 'vector'"
        )


def keyword_index(dialect: str) -> KeywordIndex:
    """The implementation for a SQLAlchemy dialect name ('sqlite', 'postgresql', ...)."""
    if dialect == "sqlite":
        from xmodal.store.keyword_sqlite import Fts5KeywordIndex

        return Fts5KeywordIndex()
    if dialect == "postgresql":
        from xmodal.store.keyword_postgres import PostgresKeywordIndex

        return PostgresKeywordIndex()
    return NoKeywordIndex(dialect)
