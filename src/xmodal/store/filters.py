"""Filters as data (which items a query may return) and their one SQL condition on `items`.

The shape is validated here, next to the SQL it becomes: metadata keys end up inside a JSON path and
extensions inside a LIKE pattern, so only plain ones pass. The API and batch queries take this model
as it is; the store evaluates it (`Store.allowed_ids`, `Store.keyword_search`)."""

from __future__ import annotations

import json
import os
import re
from typing import Annotated, Any, Iterable, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import LargeBinary, String, and_, cast, exists, func, literal, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from xmodal import modalities
from xmodal.store.schema import Item

SQL_INT = 2**63 - 1  # database integers are 64-bit: a larger one would fail in the driver (a 500)
MetadataValue = Union[bool, Annotated[int, Field(ge=-SQL_INT - 1, le=SQL_INT)], float, str]
PartKind = Literal[modalities.NAMES]  # type: ignore[valid-type]
_METADATA_KEY = re.compile(r"^[\w .:-]{1,64}$")
_EXTENSION = re.compile(r"^\.?[A-Za-z0-9]{1,10}$")


class Filters(BaseModel):
    """All given conditions must hold; an item without a value (no path, no size) fails a condition on it."""

    model_config = ConfigDict(extra="forbid")

    path_prefix: str | None = Field(None, min_length=1, max_length=4096, description="file path starts with this")
    extension: list[str] | None = Field(
        None, max_length=32, description="file extension(s), e.g. ['.jpg', 'png']; any of them"
    )
    min_size: int | None = Field(None, ge=0, le=SQL_INT, description="file size in bytes, at least")
    max_size: int | None = Field(None, ge=0, le=SQL_INT, description="file size in bytes, at most")
    min_mtime: float | None = Field(None, description="modified at or after (Unix seconds)")
    max_mtime: float | None = Field(None, description="modified at or before (Unix seconds)")
    metadata: dict[str, MetadataValue] | None = Field(
        None, max_length=16, description="metadata key = value, all of them"
    )
    has_part: list[PartKind] | None = Field(
        None,
        max_length=8,
        description="items having a part of any of these kinds (a single-file item is its own one part)",
    )

    @field_validator("has_part", mode="before")
    @classmethod
    def _one_kind_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("extension", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("extension")
    @classmethod
    def _plain_extensions(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for extension in value:
            if not _EXTENSION.match(extension):
                raise ValueError(f"extension {extension!r}: use letters and digits, like '.jpg'")
        return sorted({"." + extension.lstrip(".").lower() for extension in value})

    @field_validator("metadata")
    @classmethod
    def _plain_keys(cls, value: dict[str, MetadataValue] | None) -> dict[str, MetadataValue] | None:
        for key in value or {}:
            if not _METADATA_KEY.match(key):
                raise ValueError(f"metadata key {key!r}: use letters, digits, spaces and . : _ - (at most 64)")
        return value

    @model_validator(mode="after")
    def _ranges_in_order(self) -> "Filters":
        for low, high in (("min_size", "max_size"), ("min_mtime", "max_mtime")):
            if (
                getattr(self, low) is not None
                and getattr(self, high) is not None
                and getattr(self, low) > getattr(self, high)
            ):
                raise ValueError(f"{low} is greater than {high}")
        return self

    def is_empty(self) -> bool:
        return all(value is None for value in self.model_dump().values())


def condition(filters: Filters | None, dialect: str = "sqlite") -> ColumnElement[bool] | None:
    """The filters as a SQLAlchemy condition on Item for a database dialect ('sqlite', 'postgresql'),
    or None when nothing is filtered."""
    if filters is None or filters.is_empty():
        return None
    parts: list[Any] = []
    raw_path = type_coerce(Item.path, LargeBinary)  # compare the stored bytes, so any file name works
    if filters.path_prefix is not None:
        prefix = os.fsencode(filters.path_prefix)
        parts.append(func.substr(raw_path, 1, len(prefix)) == literal(prefix, LargeBinary))
    if filters.extension:
        as_text = _path_text(raw_path, dialect)
        parts.append(or_(*(as_text.ilike(f"%{extension}") for extension in filters.extension)))  # '.JPG' is '.jpg'

    for column, low, high in (
        (Item.size, filters.min_size, filters.max_size),
        (Item.mtime, filters.min_mtime, filters.max_mtime),
    ):
        if low is not None:
            parts.append(column >= low)
        if high is not None:
            parts.append(column <= high)
    for key, value in (filters.metadata or {}).items():
        parts.append(_metadata_value(key, value, dialect))
    if filters.has_part:
        parts.append(_has_part(filters.has_part))
    return and_(*parts)


def _has_part(kinds: list[str]) -> ColumnElement[bool]:
    """A single-file item of one of the kinds, or a row of an item with parts (the item or any of its
    parts) whose item has a part of one of the kinds."""
    sibling = aliased(Item)
    item_id = func.coalesce(Item.parent_id, Item.id)
    has = exists().where(sibling.parent_id == item_id, sibling.modality.in_(kinds))
    single = and_(Item.parent_id.is_(None), Item.modality.in_(kinds))
    return or_(single, has)


def _path_text(raw_path: Any, dialect: str) -> ColumnElement[str]:
    """The stored path bytes as text an extension can be matched against. PostgreSQL casts bytea to
    its hex form, so there the bytes are escaped instead (ASCII stays itself, other bytes become \\ooo,
    which no plain extension matches), and no file name makes the query fail as UTF-8 decoding would."""
    if dialect == "postgresql":
        return func.encode(raw_path, literal("escape"))
    return cast(raw_path, String)


def _metadata_value(key: str, value: MetadataValue, dialect: str) -> ColumnElement[bool]:
    """metadata[key] == value, compared as the value's JSON type (SQLAlchemy renders the JSON path)."""
    field = Item.__table__.c.metadata[key]
    if dialect == "postgresql":  # casting ->> text to a number fails on the rows where it is a word: compare JSON
        return cast(field, JSONB) == cast(literal(json.dumps(value)), JSONB)
    if isinstance(value, bool):
        return field.as_boolean() == value
    if isinstance(value, int):
        return field.as_integer() == value
    if isinstance(value, float):
        return field.as_float() == value
    return field.as_string() == value


def allowed_ids(session: Session, where: ColumnElement[bool] | None, candidates: Iterable[int]) -> set[int]:
    """The candidates that pass `where` (all of them when there is no condition)."""
    candidates = list(candidates)
    if where is None or not candidates:
        return set(candidates)
    allowed: set[int] = set()
    for start in range(0, len(candidates), 900):  # SQLite's bound-parameter limit
        chunk = candidates[start : start + 900]
        allowed.update(session.scalars(select(Item.id).where(Item.id.in_(chunk), where)))
    return allowed
