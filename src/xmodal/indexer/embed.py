"""The embed stage: new items -> decoded media -> vectors, behind a runner.

A runner takes the plan's tasks (a number and a source: modality, path or inline text) and gives back
results in batches; it never touches the store. `InlineRunner` does everything in one thread (a Ray
worker's); `ProcessRunner` hashes and decodes in forked worker processes, or in one thread, while this
thread encodes. A cluster
runner (Ray: one encoder per worker, results streamed back in batches) implements the same two
methods; it may return batches in any order, since the commit stage matches results by task number.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import partial
from typing import Iterable, Iterator

import numpy as np

from xmodal.encoders import Encoder
from xmodal.indexer.decode import Hashed, decode, decoder_pool, hash_source, ordered_map
from xmodal.indexer.sources import Source
from xmodal.modalities import Limits


@dataclass(frozen=True)
class EmbedTask:
    key: int  # the job's number for this new item
    source: Source


@dataclass
class Embedded:
    task: EmbedTask
    vector: np.ndarray | None = None  # unit-norm float32 [dim]
    text: str | None = None  # a text item's decoded text, kept in its row
    error: str | None = None  # why it has no vector (cannot be decoded, the encoder failed on it)


class EmbedRunner(ABC):
    """Runs the reading-heavy parts of a job: hashing files for the plan, embedding new items."""

    def hash(self, sources: Iterable[Source]) -> Iterator[Hashed]:
        """Hash each source (results in input order: the plan's choice among duplicates follows it)."""
        return map(hash_source, sources)

    @abstractmethod
    def embed(self, tasks: Iterable[EmbedTask]) -> Iterator[list[Embedded]]:
        """Decode and encode every task; yield results in batches as they are done (any order)."""

    def close(self) -> None:
        """Release workers; a job calls it whether it finished or not."""

    def __enter__(self) -> "EmbedRunner":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class InlineRunner(EmbedRunner):
    """Decode here and encode here, in batches of `batch_size` per modality (what 2 cores do best)."""

    def __init__(self, encoder: Encoder, limits: Limits, batch_size: int) -> None:
        self.encoder = encoder
        self.limits = limits
        self.batch_size = batch_size

    def embed(self, tasks: Iterable[EmbedTask]) -> Iterator[list[Embedded]]:
        queues: dict[str, list[tuple[EmbedTask, object]]] = {}
        for task, (media, error) in self._decoded(tasks):
            if error is not None:
                yield [Embedded(task, error=error)]
                continue
            queue = queues.setdefault(task.source.modality, [])
            queue.append((task, media))
            if len(queue) >= self.batch_size:
                yield self._encoded(task.source.modality, queues.pop(task.source.modality))
        for modality, queue in queues.items():
            yield self._encoded(modality, queue)

    def _decoded(self, tasks: Iterable[EmbedTask]) -> Iterator[tuple[EmbedTask, tuple[object, str | None]]]:
        for task in tasks:
            yield task, decode(task.source, self.limits)

    def _encoded(self, modality: str, batch: list[tuple[EmbedTask, object]]) -> list[Embedded]:
        try:
            vectors = self.encoder.encode(modality, [media for _, media in batch])
        except Exception as error:  # noqa: BLE001 - one bad input must not sink the batch: retry one by one
            if len(batch) == 1:
                return [Embedded(batch[0][0], error=f"the encoder failed on it: {error}")]
            return [result for entry in batch for result in self._encoded(modality, [entry])]
        texts = [media if modality == "text" else None for _, media in batch]
        return [Embedded(task, vector, text) for (task, _), vector, text in zip(batch, vectors, texts)]


class ProcessRunner(InlineRunner):
    """Hash and decode in `workers` forked processes (0: one thread), a bounded window ahead, while this
    thread encodes."""

    def __init__(self, encoder: Encoder, limits: Limits, batch_size: int, workers: int) -> None:
        super().__init__(encoder, limits, batch_size)
        self.pool = decoder_pool(workers)
        self.window = max(2, workers) * batch_size * 2

    def hash(self, sources: Iterable[Source]) -> Iterator[Hashed]:
        return ordered_map(self.pool, hash_source, sources, self.window)

    def _decoded(self, tasks: Iterable[EmbedTask]) -> Iterator[tuple[EmbedTask, tuple[object, str | None]]]:
        pairs = ordered_map(self.pool, partial(_decode_task, limits=self.limits), tasks, self.window)
        yield from pairs

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _decode_task(task: EmbedTask, limits: Limits) -> tuple[EmbedTask, tuple[object, str | None]]:
    return task, decode(task.source, limits)


def local_runner(encoder: Encoder, limits: Limits, batch_size: int, workers: int) -> EmbedRunner:
    """Decoding a window ahead of the encoder: in one thread with no workers, else in decoder processes."""
    return ProcessRunner(encoder, limits, batch_size, workers)
