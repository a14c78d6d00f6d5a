"""What a search returns: ranked hits, and a page of them. `Hit` is the one result type: the CLI prints
it, batch files and the API serialise it as it is (the API's response model is this class)."""

from __future__ import annotations

import os
from dataclasses import field
from typing import Any, Literal

from pydantic import TypeAdapter, field_serializer
from pydantic.dataclasses import dataclass

SearchMode = Literal["vector", "keyword", "hybrid"]


def display_path(path: str | None) -> str | None:
    """Paths that are not valid UTF-8 show their bad bytes as U+FFFD, so they print and serialise."""
    return None if path is None else os.fsencode(path).decode("utf-8", errors="replace")


@dataclass(frozen=True)
class PartHit:
    """One part of an item with parts, as a result shows it."""

    id: int
    modality: str
    path: str | None
    text: str | None
    score: float | None = None  # its cosine with the query, when the search scored it
    piece: str | None = None  # a piece of the item's file rather than a file ("frame 3/8", "soundtrack")

    @field_serializer("path")
    def _shown(self, path: str | None) -> str | None:
        return display_path(path)


@dataclass(frozen=True)
class Hit:
    id: int
    external_id: str | None
    modality: str
    path: str | None  # the real path (any bytes); serialised for display
    text: str | None
    score: float  # cosine similarity, BM25 relevance or fused rank score, by the search's mode
    metadata: dict[str, Any]
    parts: list[PartHit] | None = None  # an item with parts (modality "item"): every part; None otherwise
    best_part: int | None = None  # the id of the part that matched the query best

    @field_serializer("path")
    def _shown(self, path: str | None) -> str | None:
        return display_path(path)

    def to_dict(self) -> dict[str, Any]:
        """Plain values; a single-file item's record has no `parts` and `best_part` keys (as before)."""
        record = _HIT.dump_python(self)
        if self.parts is None:
            del record["parts"], record["best_part"]
        return record


_HIT = TypeAdapter(Hit)


@dataclass
class Page:
    hits: list[Hit]
    offset: int
    next_offset: int | None  # None on the last page
    mode: SearchMode = "vector"
    notes: list[str] = field(default_factory=list)
