"""Concurrent query encodes gathered into small batches (what `xmodal serve` uses).

A server answers each request in its own thread; each calling the encoder alone runs many batch-of-one
forwards side by side, which oversubscribes the cores and repeats every fixed cost. `BatchingEncoder`
has the Encoder's interface: callers queue their inputs (a bounded queue: a flood waits, then gets a
503), one thread takes what arrived within a few milliseconds of the first request, encodes it as one
batch per modality and hands each caller its rows. A batch that fails is retried request by request,
so one bad input fails only its own request.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from xmodal.encoders.base import Encoder
from xmodal.errors import Unavailable

WINDOW_S = 0.003  # how long the first request of a batch waits for company
MAX_BATCH = 32  # inputs per forward: beyond this a batch gains little and the first caller waits longer
MAX_PENDING = 256  # queued requests; more wait up to QUEUE_WAIT_S for room
QUEUE_WAIT_S = 30.0


@dataclass
class _Request:
    modality: str
    inputs: list
    done: Future = field(default_factory=Future)


class BatchingEncoder:
    """An Encoder stand-in that many threads may call at once; everything but encoding is the encoder's."""

    def __init__(
        self, encoder: Encoder, window_s: float = WINDOW_S, max_batch: int = MAX_BATCH, max_pending: int = MAX_PENDING
    ) -> None:
        self.encoder = encoder
        self.window_s = window_s
        self.max_batch = max_batch
        self.pending: queue.Queue[_Request | None] = queue.Queue(max_pending)
        self.batches = 0  # forwards run (tests and benchmarks read it)
        self.worker = threading.Thread(target=self._serve, name="xmodal-encode-batcher", daemon=True)
        self.worker.start()

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)  # info, calibration, ...: only reached for what this class lacks

    def encode(self, modality: str, inputs: Sequence[object]) -> np.ndarray:
        if not inputs or threading.current_thread() is self.worker:
            return self.encoder.encode(modality, inputs)  # type: ignore[arg-type]
        request = _Request(modality, list(inputs))
        try:
            self.pending.put(request, timeout=QUEUE_WAIT_S)
        except queue.Full:
            raise Unavailable("the server is overloaded with queries; retry in a moment") from None
        return request.done.result()

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode("text", texts)

    def encode_image(self, images: Sequence[object]) -> np.ndarray:
        return self.encode("image", images)

    def encode_audio(self, clips: Sequence[object]) -> np.ndarray:
        return self.encode("audio", clips)

    def close(self) -> None:
        self.pending.put(None)
        self.worker.join(timeout=QUEUE_WAIT_S)

    def _serve(self) -> None:
        while (first := self.pending.get()) is not None:
            batch, size = [first], len(first.inputs)
            deadline = time.monotonic() + self.window_s
            while size < self.max_batch:
                try:
                    request = self.pending.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if request is None:
                    self.pending.put(None)  # stop after this batch
                    break
                batch.append(request)
                size += len(request.inputs)
            for modality in dict.fromkeys(request.modality for request in batch):
                self._run([request for request in batch if request.modality == modality])

    def _run(self, requests: list[_Request]) -> None:
        try:
            self.batches += 1
            vectors = self.encoder.encode(requests[0].modality, [x for r in requests for x in r.inputs])  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - each caller gets its own outcome
            if len(requests) == 1:
                requests[0].done.set_exception(error)
                return
            for request in requests:
                self._run([request])
            return
        start = 0
        for request in requests:
            request.done.set_result(vectors[start : start + len(request.inputs)])
            start += len(request.inputs)
