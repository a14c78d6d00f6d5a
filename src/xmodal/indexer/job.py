"""An index job: sources -> decoded media -> embeddings -> store, skipping what is unchanged."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from xmodal.config import Settings
from xmodal.encoders import Encoder, MediaError, load_audio, load_image, load_text
from xmodal.indexer.sources import Source, SourceProblem
from xmodal.store import Item, Store


@dataclass
class JobSummary:
    indexed: int = 0
    unchanged: int = 0
    failed: int = 0
    elapsed: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def items_per_second(self) -> float:
        return (self.indexed + self.unchanged + self.failed) / self.elapsed if self.elapsed else 0.0


@dataclass
class _Pending:
    item: Item
    media: object
    label: str


class IndexJob:
    def __init__(self, store: Store, encoder: Encoder, settings: Settings, on_item: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.encoder = encoder
        self.settings = settings
        self.on_item = on_item or (lambda label: None)
        self.summary = JobSummary()
        self._pending: dict[str, list[_Pending]] = {}
        self._hashes_this_run: set[tuple[str, str]] = set()

    def run(self, sources: Iterable[Source | SourceProblem]) -> JobSummary:
        started = time.perf_counter()
        for source in sources:
            if isinstance(source, SourceProblem):
                self._fail(source.where, source.reason)
            else:
                self._take(source)
            self.on_item(getattr(source, "label", getattr(source, "where", "")))
        for modality in list(self._pending):
            self._flush(modality)
        self.summary.elapsed = time.perf_counter() - started
        return self.summary

    def _take(self, source: Source) -> None:
        if source.modality not in self.encoder.info.modalities:
            self._fail(source.label, self.encoder.refusal(source.modality), source)
            return
        try:
            item = self._describe(source)
            if item is None:
                self.summary.unchanged += 1
                return
            media = self._decode(source)
        except MediaError as error:
            self._fail(source.label, str(error), source)
            return
        except OSError as error:
            self._fail(source.label, f"cannot read: {error.strerror or error}", source)
            return
        self._hashes_this_run.add((item.content_hash or "", item.modality))
        queue = self._pending.setdefault(source.modality, [])
        queue.append(_Pending(item, media, source.label))
        if len(queue) >= self.settings.batch_size:
            self._flush(source.modality)

    def _describe(self, source: Source) -> Item | None:
        """The row to insert, or None when the store already holds this content."""
        size = mtime = None
        if source.path is not None:
            stat = os.stat(source.path)
            size, mtime = stat.st_size, stat.st_mtime
            previous = self.store.by_path(source.path)
            if previous is not None:
                if (previous.size, previous.mtime) == (size, mtime) and previous.status == "indexed":
                    return None
                self.store.remove([previous.id])  # changed, or failed before: index it afresh
            content_hash = _file_hash(source.path)
        else:
            content_hash = hashlib.sha256((source.text or "").encode()).hexdigest()
        key = (content_hash, source.modality)
        if key in self._hashes_this_run or self.store.has_content(*key):
            return None
        if source.external_id is not None and self.store.by_external_id(source.external_id) is not None:
            return None
        return Item(
            external_id=source.external_id, modality=source.modality, path=source.path, text=source.text,
            content_hash=content_hash, size=size, mtime=mtime, meta=source.metadata, status="indexed",
        )

    def _decode(self, source: Source) -> object:
        settings = self.settings
        if source.modality == "image":
            return load_image(source.path, settings.max_image_pixels)  # type: ignore[arg-type]
        if source.modality == "audio":
            return load_audio(source.path, settings.max_audio_seconds)  # type: ignore[arg-type]
        return source.text if source.path is None else load_text(source.path, settings.max_text_chars)

    def _flush(self, modality: str) -> None:
        batch = self._pending.pop(modality, [])
        if not batch:
            return
        for pending in batch:
            if modality == "text":
                pending.item.text = str(pending.media)
        try:
            vectors = self.encoder.encode(modality, [pending.media for pending in batch])  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - one bad input must not sink the batch: retry one by one
            if len(batch) == 1:
                raise
            for pending in batch:
                self._flush_one(modality, pending)
            return
        self.store.add([pending.item for pending in batch], vectors)
        self.summary.indexed += len(batch)

    def _flush_one(self, modality: str, pending: _Pending) -> None:
        self._pending[modality] = [pending]
        try:
            self._flush(modality)
        except Exception as error:  # noqa: BLE001
            self._fail(pending.label, f"the encoder failed on it: {error}", item=pending.item)

    def _fail(self, where: str, reason: str, source: Source | None = None, item: Item | None = None) -> None:
        self.summary.failed += 1
        self.summary.failures.append((where, reason))
        if item is None and source is not None and source.path is not None:
            item = Item(modality=source.modality, path=source.path, external_id=source.external_id, meta=source.metadata)
        if item is not None and item.path is not None:
            item.status, item.error = "failed", reason
            self._record_stat(item)
            self.store.add_failed([item])


    @staticmethod
    def _record_stat(item: Item) -> None:
        try:
            stat = os.stat(item.path)  # type: ignore[arg-type]
            item.size, item.mtime = stat.st_size, stat.st_mtime
        except OSError:
            pass


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
