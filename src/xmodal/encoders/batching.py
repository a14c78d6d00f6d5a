"""Concurrent query encodes gathered into small batches (what `xmodal serve` uses).

A server answers each request in its own thread; each calling the encoder alone runs many batch-of-one
forwards side by side, which oversubscribes the cores and repeats every fixed cost. `BatchingEncoder`
has the Encoder's interface: callers queue their inputs (a bounded queue: a flood waits, then gets a
503), one thread per modality takes what arrived within a few milliseconds of the first request,
encodes it as one batch and hands each caller its rows; a text query never waits behind an image
batch. A batch that fails is retried request by request, so one bad input fails only its own request.
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
        self.max_pending = max_pending
        self.lanes: dict[str, queue.Queue[_Request | None]] = {}  # one queue and thread per modality
        self.workers: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.batches = 0  # forwards run (tests and benchmarks read it)

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)  # info, calibration, ...: only reached for what this class lacks

    def encode(self, modality: str, inputs: Sequence[object]) -> np.ndarray:
        if not inputs or threading.current_thread() in self.workers:
            return self.encoder.encode(modality, inputs)  # type: ignore[arg-type]
        request = _Request(modality, list(inputs))
        try:
            self._lane(modality).put(request, timeout=QUEUE_WAIT_S)
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
        with self.lock:
            lanes, self.lanes = list(self.lanes.values()), {}
        for lane in lanes:
            lane.put(None)
        for worker in self.workers:
            worker.join(timeout=QUEUE_WAIT_S)

    def _lane(self, modality: str) -> queue.Queue[_Request | None]:
        with self.lock:
            if modality not in self.lanes:
                lane: queue.Queue[_Request | None] = queue.Queue(self.max_pending)
                name = f"xmodal-batcher-{modality}"
                worker = threading.Thread(target=self._serve, args=(lane,), name=name, daemon=True)
                self.lanes[modality] = lane
                self.workers.append(worker)
                worker.start()
            return self.lanes[modality]

    def _serve(self, pending: queue.Queue[_Request | None]) -> None:
        while (first := pending.get()) is not None:
            batch, size = [first], len(first.inputs)
            deadline = time.monotonic() + self.window_s
            while size < self.max_batch:
                try:
                    request = pending.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if request is None:
                    pending.put(None)  # stop after this batch
                    break
                batch.append(request)
                size += len(request.inputs)
            self._run(batch)

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
