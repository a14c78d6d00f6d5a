"""The cached-feature path that training and `xmodal eval` use gives the shipped encoder's vectors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.conftest import SAMPLES
from xmodal.encoders import load_audio, load_image, load_model
from xmodal.encoders.registry import resolve_spec
from xmodal.encoders.xmodal_base import heads_path
from xmodal.encoders.xmodal_heads import load_heads
from xmodal.training.data import embed_items, load_features
from xmodal.training.evaluate import eval_items
from xmodal.training.features import FeatureExtractor
from xmodal.training.manifest import Record

pytestmark = pytest.mark.slow


def test_cached_features_through_heads_equal_the_encoder(tmp_path) -> None:
    concepts = [json.loads(line) for line in (SAMPLES / "concepts.jsonl").read_text().splitlines()]
    chosen = [c for c in concepts if c.get("audio")][:3]
    records = [
        Record(c["concept"], text=c["caption"], image=SAMPLES / c["image"], audio=SAMPLES / c["audio"]) for c in chosen
    ]
    items = eval_items(records)
    table = load_features(records, FeatureExtractor(root=tmp_path), 1, 1)
    cached = embed_items(load_heads(heads_path(resolve_spec("xmodal-base"))), items, table)

    model = load_model("xmodal-base", torch.device("cpu"))
    images = model.encode_image([load_image(path, 10**8) for path in items.keys["image"]])
    sounds = model.encode_audio([load_audio(path, 30) for path in items.keys["audio"]])
    texts = model.encode_text(items.keys["text"])
    np.testing.assert_allclose(cached["image"], images, atol=1e-4)
    np.testing.assert_allclose(cached["audio"], sounds, atol=1e-4)
    np.testing.assert_allclose(cached["text"], texts, atol=1e-4)
