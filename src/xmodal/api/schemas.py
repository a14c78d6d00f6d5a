"""Request and response models of the HTTP API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xmodal.search.queries import QueryOptions, QueryPart
from xmodal.search.results import Hit, PartHit, SearchMode


class SearchOptions(QueryOptions):
    """Inputs and options; in a multipart search the uploaded file is one more input."""

    text: str | None = Field(None, min_length=1, max_length=10_000)
    item: int | str | None = Field(None, description="a stored item's id or external id ('more like this')")
    parts: list[QueryPart] | None = Field(
        None,
        min_length=1,
        max_length=16,
        description=(
            "a composite query: weighted texts and items, e.g. [{'item': 7}, {'text': 'night', 'weight': -0.5}]"
        ),
    )

    def given_inputs(self) -> list[str]:
        return [name for name in ("text", "item", "parts") if getattr(self, name) is not None]


class SearchRequest(SearchOptions):
    """A JSON search: by text, by a stored item, or a composite of weighted parts.
    Upload files as multipart/form-data."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in ("text", "item", "parts")
            ]
        }
    )

    @model_validator(mode="after")
    def _exactly_one_input(self) -> "SearchRequest":
        if len(self.given_inputs()) != 1:
            raise ValueError("give exactly one of 'text', 'item' or 'parts' (or upload a file as multipart/form-data)")
        return self


class SearchResponse(BaseModel):
    results: list[Hit]
    offset: int = 0
    next_offset: int | None = Field(None, description="the offset of the next page; null on the last page")
    mode: SearchMode = "vector"


class ItemResponse(BaseModel):
    id: int
    external_id: str | None
    modality: str
    path: str | None
    text: str | None
    metadata: dict[str, Any]
    status: str
    error: str | None
    size: int | None
    mtime: float | None
    parent_id: int | None = Field(None, description="the item this row is a part of (items with parts)")
    parts: list[PartHit] | None = Field(None, description="an item with parts (modality 'item'): its parts")


class DeletedResponse(BaseModel):
    deleted: int


class HealthResponse(BaseModel):
    status: str
    model: dict[str, Any]
    items: dict[str, dict[str, int]]
    read_only: bool = Field(description="true when no API key is configured: jobs and deletes are refused")
    problems: list[str] = Field(default_factory=list, description="why the store cannot be searched (status 503)")


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        min_length=1,
        max_length=64,
        description="server-side directories, files or .jsonl manifests under the allowed roots",
    )


class JobResponse(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    paths: list[str]
    total: int | None = Field(description="sources found; null until the paths are walked")
    processed: int
    indexed: int
    unchanged: int
    failed: int
    failures: list[dict[str, str]] = Field(description="the first failures: where and why")
    skipped: list[dict[str, str]] = Field(
        default_factory=list, description="left out on purpose (xmodal stores, links out of the paths): where and why"
    )
    error: str | None
    created: float
    started: float | None
    finished: float | None


class ErrorResponse(BaseModel):
    detail: str
