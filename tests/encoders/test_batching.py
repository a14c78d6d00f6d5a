"""Concurrent query encodes gathered into batches: same vectors as one by one, fewer forwards."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from tests.fakes import FakeEncoder
from xmodal.encoders.batching import BatchingEncoder


class CountingEncoder(FakeEncoder):
    """FakeEncoder records each forward in `calls`; this one can hold them and fails on "boom"."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def encode(self, modality, inputs):
        self.gate.wait(5)  # hold the first forward so that the others queue up behind it
        if any(text == "boom" for text in inputs):
            raise ValueError("cannot encode boom")
        return super().encode(modality, inputs)


def test_concurrent_queries_share_forwards_and_get_their_own_rows():
    encoder = CountingEncoder()
    batcher = BatchingEncoder(encoder, window_s=0.05)
    texts = [f"query {n}" for n in range(12)]
    with ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(batcher.encode_text, [text]) for text in texts]
        encoder.gate.set()
        vectors = [future.result(timeout=10)[0] for future in futures]
    batcher.close()
    expected = FakeEncoder().encode_text(texts)
    assert np.allclose(np.stack(vectors), expected, atol=1e-6)
    assert len(encoder.calls) < len(texts)  # batched, not one forward per query
    assert sum(n for _, n in encoder.calls) == len(texts)


def test_a_failing_input_fails_only_its_own_request():
    encoder = CountingEncoder()
    encoder.gate.set()
    batcher = BatchingEncoder(encoder, window_s=0.05)
    with ThreadPoolExecutor(3) as pool:
        good = [pool.submit(batcher.encode_text, [text]) for text in ("a dog", "a cat")]
        bad = pool.submit(batcher.encode_text, ["boom"])
        assert all(future.result(timeout=10).shape == (1, encoder.info.dim) for future in good)
        with pytest.raises(ValueError, match="boom"):
            bad.result(timeout=10)
    batcher.close()


def test_modalities_are_batched_apart_and_the_rest_is_the_encoders():
    encoder = CountingEncoder()
    encoder.gate.set()
    batcher = BatchingEncoder(encoder)
    assert batcher.info is encoder.info
    assert batcher.encode("text", []).shape == (0, encoder.info.dim)
    assert batcher.encode_text(["x", "y"]).shape == (2, encoder.info.dim)
    batcher.close()
    assert batcher.workers and not any(worker.is_alive() for worker in batcher.workers)


def test_a_text_query_does_not_wait_behind_an_image_batch():
    class SlowImages(FakeEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.release = threading.Event()

        def _encode_image(self, images):
            self.release.wait(10)  # an image forward still running
            return super()._encode_image(images)

    encoder = SlowImages()
    batcher = BatchingEncoder(encoder)
    with ThreadPoolExecutor(2) as pool:
        image = pool.submit(batcher.encode_image, [Image.new("RGB", (8, 8), "red")])
        text = pool.submit(batcher.encode_text, ["a red thing"])
        assert text.result(timeout=5).shape == (1, encoder.info.dim)
        assert not image.done()
        encoder.release.set()
        assert image.result(timeout=5).shape == (1, encoder.info.dim)
    batcher.close()
