"""Request and response models of the HTTP API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from xmodal.search.queries import QueryOptions


class SearchRequest(QueryOptions):
    """A JSON search: by text or by a stored item. Upload files with multipart/form-data instead."""

    text: str | None = Field(None, min_length=1, max_length=10_000)
    item: int | str | None = Field(None, description="a stored item's id or external id ('more like this')")

    @model_validator(mode="after")
    def _exactly_one_input(self) -> "SearchRequest":
        if (self.text is None) == (self.item is None):
            raise ValueError("give exactly one of 'text' or 'item' (or upload a file as multipart/form-data)")
        return self


class Result(BaseModel):
    id: int
    external_id: str | None
    modality: str
    path: str | None
    text: str | None
    score: float
    metadata: dict[str, Any]


class SearchResponse(BaseModel):
    results: list[Result]


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


class HealthResponse(BaseModel):
    status: str
    model: dict[str, Any]
    items: dict[str, dict[str, int]]


class ErrorResponse(BaseModel):
    detail: str
