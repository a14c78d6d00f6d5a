"""Any-to-any search: a query (text, image, audio or stored item) -> ranked items of target modalities."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from xmodal.config import Settings
from xmodal.device import pick_device
from xmodal.encoders import MODALITIES, Audio, Encoder, load_model
from xmodal.store import Item, Store, StoreError, describe_model


@dataclass(frozen=True)
class Hit:
    id: int
    external_id: str | None
    modality: str
    path: str | None
    text: str | None
    score: float
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        record = dict(self.__dict__)
        record["path"] = display_path(self.path)
        return record


def display_path(path: str | None) -> str | None:
    """Paths that are not valid UTF-8 show their bad bytes as U+FFFD, so they print and serialise."""
    return None if path is None else os.fsencode(path).decode("utf-8", errors="replace")


class ItemNotFound(LookupError):
    pass


class Searcher:
    def __init__(self, store: Store, encoder: Encoder) -> None:
        if encoder.info.identity() != store.model:
            raise StoreError(
                f"store {store.directory} was built with {describe_model(store.model)}, but this xmodal loads "
                f"{describe_model(encoder.info.identity())}; index into a new store to use it"
            )
        self.store = store
        self.encoder = encoder

    @classmethod
    def open(cls, settings: Settings) -> "Searcher":
        """Open the store and load the model that built it."""
        store = Store.open(settings.store)
        encoder = load_model(store.model["spec"], pick_device(settings.device), settings.batch_size)
        return cls(store, encoder)

    def search_text(self, text: str, modalities: Sequence[str] | None = None, k: int = 10) -> list[Hit]:
        return self.search_vector(self.encoder.encode_text([text])[0], modalities, k)

    def search_image(self, image: Image.Image, modalities: Sequence[str] | None = None, k: int = 10) -> list[Hit]:
        return self.search_vector(self.encoder.encode_image([image])[0], modalities, k)

    def search_audio(self, audio: Audio, modalities: Sequence[str] | None = None, k: int = 10) -> list[Hit]:
        return self.search_vector(self.encoder.encode_audio([audio])[0], modalities, k)

    def search_item(self, reference: int | str, modalities: Sequence[str] | None = None, k: int = 10) -> list[Hit]:
        """More like a stored item (by id, or by external id); the item itself is left out."""
        item = self.find_item(reference)
        vector = self.store.vectors(item.modality).vector(item.id)
        return self.search_vector(vector, modalities, k, exclude=item.id)

    def find_item(self, reference: int | str) -> Item:
        item = None
        if isinstance(reference, int) or str(reference).isdigit():
            item = self.store.get([int(reference)]).get(int(reference))
        if item is None:
            item = self.store.by_external_id(str(reference))
        if item is None or item.status != "indexed":
            raise ItemNotFound(f"no indexed item with id or external id {reference!r}")
        return item

    def search_vector(self, vector: np.ndarray, modalities: Sequence[str] | None, k: int, exclude: int | None = None) -> list[Hit]:
        """Search each target modality's index and merge by score."""
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        scored: list[tuple[float, int]] = []
        for modality in modalities or MODALITIES:
            scores, ids = self.store.vectors(modality).search(query, k + (exclude is not None))
            scored += [(float(score), int(item_id)) for score, item_id in zip(scores[0], ids[0]) if item_id >= 0 and item_id != exclude]
        scored.sort(key=lambda pair: -pair[0])
        scored = scored[:k]
        items = self.store.get([item_id for _, item_id in scored])
        return [_hit(items[item_id], score) for score, item_id in scored if item_id in items]


def _hit(item: Item, score: float) -> Hit:
    return Hit(item.id, item.external_id, item.modality, item.path, item.text, round(score, 6), item.meta or {})
