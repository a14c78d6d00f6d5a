"""The ONNX text tower against sentence-transformers (the reference), on the sample corpus's texts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from xmodal.encoders import text_runtime
from xmodal.encoders.xmodal_base import load_text_tower

TEXTS = Path(__file__).resolve().parents[2] / "samples" / "corpus" / "texts"

pytestmark = pytest.mark.slow


def test_embeddings_match_sentence_transformers(tmp_path, monkeypatch):
    monkeypatch.setenv("XMODAL_CACHE", str(tmp_path))
    texts = [path.read_text().strip() for path in sorted(TEXTS.glob("*.txt"))]
    texts += ["", "a much longer query " * 200]  # empty, and past the 256-token truncation
    fast = text_runtime.OnnxSentenceEncoder(text_runtime.model_dir(), threads=1)
    reference = load_text_tower(torch.device("cpu")).encode(texts, batch_size=16, convert_to_tensor=True)
    ours = fast.encode(texts, batch_size=16, convert_to_tensor=True, show_progress_bar=False)
    assert ours.shape == reference.shape == (len(texts), 384)
    assert F.cosine_similarity(ours, reference).min() >= 0.9999
    assert len(list((tmp_path / "runtime").glob("all-minilm-l6-v2@*.onnx"))) == 1  # exported into the cache


def test_cuda_or_a_forced_torch_runtime_keeps_sentence_transformers(monkeypatch):
    assert text_runtime.fast_text_tower(torch.device("cuda")) is None
    monkeypatch.setenv("XMODAL_RUNTIME", "torch")
    assert text_runtime.fast_text_tower(torch.device("cpu")) is None
