"""Query shapes, validated in one place for the CLI, batch files and the API."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xmodal.search.filters import Filters

ModalityName = Literal["text", "image", "audio"]
SearchMode = Literal["vector", "keyword", "hybrid"]


class QueryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    modality: list[ModalityName] | None = Field(None, description="target modalities; all when omitted")
    k: int = Field(10, ge=1, le=1000, description="number of results")
    offset: int = Field(0, ge=0, le=10_000, description="skip this many results (pagination)")
    min_score: float | None = Field(None, ge=-1e6, le=1e6, description="drop results scoring below this (the score of the mode)")
    filters: Filters | None = Field(None, description="only items matching all of these")
    mode: SearchMode = Field(
        "vector", description="vector: embedding similarity; keyword: BM25 over text items; hybrid: both, fused by reciprocal rank"
    )

    @field_validator("modality", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class QueryPart(BaseModel):
    """One weighted input of a composite query: a text, or a stored item. A negative weight pushes away."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, min_length=1, max_length=10_000)
    item: int | str | None = Field(None, description="a stored item's id or external id")
    weight: float = Field(1.0, ge=-10, le=10)

    @model_validator(mode="after")
    def _one_input_and_a_weight(self) -> "QueryPart":
        if (self.text is None) == (self.item is None):
            raise ValueError("each part needs exactly one of 'text' or 'item'")
        if self.weight == 0 or not math.isfinite(self.weight):
            raise ValueError("a part's weight must be a non-zero number")
        return self


class BatchQuery(QueryOptions):
    """One line of `xmodal search --queries FILE`; image and audio are file paths."""

    qid: str | int | None = None
    text: str | None = Field(None, min_length=1)
    image: str | None = None
    audio: str | None = None
    item: int | str | None = None

    @model_validator(mode="after")
    def _exactly_one_input(self) -> "BatchQuery":
        given = [name for name in ("text", "image", "audio", "item") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of text, image, audio, item (got {', '.join(given) or 'none'})")
        return self
