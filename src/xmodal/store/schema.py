"""The metadata tables (SQLAlchemy 2). A change to them is a new Alembic revision in `migrations/versions/`,
listed in `migrate.REVISIONS`, with SCHEMA_VERSION raised to its number."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 3  # 1: items, store_info; 2: + duplicates; 3: + items.parent_id (items with parts)

# An item's status. Searches see only INDEXED rows: the writer adds rows PENDING and marks them INDEXED
# in the same save that writes their vectors to disk. To the writer, PENDING rows are embedded too.
# LOST: an indexed row whose vector is gone (a missing or damaged vector file). It keeps its id and metadata,
# unsearchable, until a repair or the next job re-embeds it from its file (or its stored text).
INDEXED, PENDING, FAILED, LOST = "indexed", "pending", "failed", "lost"
EMBEDDED = (INDEXED, PENDING)

# The modality of an item made of parts (an image, a caption, a sound): its row holds the external id,
# the metadata and the fused vector (in its own index, `vectors/item`); each part is an ordinary row of
# its own modality whose `parent_id` names it. A single-file item has no parent and no parts.
ITEM = "item"


class FsPath(TypeDecorator):
    """File-system paths as raw bytes, so names that are not valid UTF-8 survive the round trip."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        return None if value is None else os.fsencode(value)

    def process_result_value(self, value: bytes | None, dialect: Any) -> str | None:
        return None if value is None else os.fsdecode(value)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    __table_args__ = {"sqlite_autoincrement": True}  # an id is never reused, even after a delete

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String, unique=True)
    modality: Mapped[str] = mapped_column(String(8), index=True)
    path: Mapped[str | None] = mapped_column(FsPath, unique=True)
    text: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    mtime: Mapped[float | None] = mapped_column(Float)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    status: Mapped[str] = mapped_column(String(8), default=INDEXED, index=True)  # INDEXED | PENDING | FAILED | LOST
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # The item this row is a part of (an ITEM row); None for a single-file item and for ITEM rows. No
    # database-level foreign key: the store removes parts with their item itself (store/parts.py).
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    # A part that is a piece of its item's file rather than a file of its own (a video's "frame 3" or
    # "soundtrack"): its path is None and the item's row holds the file's path, size and mtime.
    piece: Mapped[str | None] = mapped_column(String(64), default=None)


class Duplicate(Base):
    """Another path whose content equals an item's: embedded once, reported, kept in sync by prune."""

    __tablename__ = "duplicates"

    path: Mapped[str] = mapped_column(FsPath, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, ForeignKey("items.id", ondelete="CASCADE"), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    mtime: Mapped[float | None] = mapped_column(Float)


class StoreInfo(Base):
    """Key-value facts about the store: schema version, the model that filled it."""

    __tablename__ = "store_info"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
