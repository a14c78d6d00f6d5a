"""Query shapes, validated in one place for the CLI, batch files and the API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ModalityName = Literal["text", "image", "audio"]


class QueryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    modality: list[ModalityName] | None = Field(None, description="target modalities; all when omitted")
    k: int = Field(10, ge=1, le=1000, description="number of results")

    @field_validator("modality", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


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
