"""Query shapes, validated in one place for the CLI, batch files and the API."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from xmodal import modalities
from xmodal.search.results import SearchMode
from xmodal.store.filters import Filters

ModalityName = Literal[modalities.NAMES]  # type: ignore[valid-type]  # an enum in the API schema


class QueryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    modality: list[ModalityName] | None = Field(None, description="target modalities; all when omitted")
    k: int = Field(10, ge=1, le=1000, description="number of results")
    offset: int = Field(0, ge=0, le=10_000, description="skip this many results (pagination)")
    min_score: float | None = Field(
        None, ge=-1e6, le=1e6, description="drop results scoring below this (the score of the mode)"
    )
    filters: Filters | None = Field(None, description="only items matching all of these")
    mode: SearchMode = Field(
        "vector",
        description=(
            "vector: embedding similarity; keyword: BM25 over text items; hybrid: both, fused by reciprocal rank"
        ),
    )

    fusion: Literal["late", "early"] = Field(
        "late",
        description=(
            "items with parts: late scores an item from its parts' scores, early compares the query with the "
            "item's fused vector (the weighted mean of its parts)"
        ),
    )
    weights: dict[ModalityName, Annotated[float, Field(ge=0, le=100)]] | None = Field(
        None, description="fusion weight per part modality, e.g. {'image': 2, 'audio': 0}; 1 for any not named"
    )
    combine: Literal["sum", "max"] = Field(
        "sum", description="late fusion: the weighted mean of the parts' scores (sum) or the best weighted one (max)"
    )

    @field_validator("modality", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and all(weight == 0 for weight in value.values()) and len(value) == len(modalities.NAMES):
            raise ValueError("at least one modality needs a positive weight")
        return value

    def fusion_options(self) -> dict[str, Any]:
        """The options a `Query` takes for items with parts."""
        return {"fusion": self.fusion, "weights": self.weights, "combine": self.combine}


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


class _BatchQuery(QueryOptions):
    qid: str | int | None = None
    text: str | None = None
    item: int | str | None = None

    @field_validator("text")
    @classmethod
    def _some_words(cls, text: str | None) -> str | None:
        if text is not None and not text.strip():
            raise PydanticCustomError("empty_text", "the text query is empty: give some words to search for")
        return text

    @model_validator(mode="after")
    def _exactly_one_input(self) -> "_BatchQuery":
        inputs = ("text", *(modality.name for modality in modalities.uploadable()), "item")
        given = [name for name in inputs if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(inputs)} (got {', '.join(given) or 'none'})")
        return self

    def media_files(self) -> dict[str, str]:
        """{modality: file path} of a query by file (image, audio, ...); empty otherwise."""
        return {
            modality.name: path
            for modality in modalities.uploadable()
            if (path := getattr(self, modality.name)) is not None
        }


_FILE_FIELDS: dict[str, Any] = {
    modality.name: (str | None, Field(None, description=f"a {modality.label} file to search with"))
    for modality in modalities.uploadable()
}
BatchQuery = create_model(  # one file field per modality that queries can be made of
    "BatchQuery",
    __base__=_BatchQuery,
    __doc__="One line of `xmodal search --queries FILE`; files are paths.",
    **_FILE_FIELDS,
)
