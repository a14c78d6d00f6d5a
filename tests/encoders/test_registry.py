from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from xmodal.encoders import Audio, UnsupportedModality, available_models, load_model, resolve_spec

CPU = torch.device("cpu")


def test_resolve_named_and_open_clip_specs() -> None:
    spec = resolve_spec("xmodal-base")
    assert (spec.family, spec.options["heads"]) == ("xmodal", "xmodal-base.safetensors")
    clip = resolve_spec("open_clip:ViT-B-32@/weights/file.safetensors")
    assert clip.options == {"arch": "ViT-B-32", "pretrained": "/weights/file.safetensors"}


def test_unknown_model_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="available: xmodal-base"):
        resolve_spec("xmodal-huge")
    assert "xmodal-base" in available_models()


def test_unknown_open_clip_arch_and_tag_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown open_clip architecture"):
        load_model("open_clip:NoSuchNet", CPU)
    with pytest.raises(ValueError, match="neither a checkpoint file nor a pretrained tag"):
        load_model("open_clip:ViT-S-32-alt@/no/such/file.safetensors", CPU)


def test_tiny_open_clip_from_local_files(tiny_clip_spec: str) -> None:
    encoder = load_model(tiny_clip_spec, CPU, batch_size=2)
    assert encoder.info.dim == 32 and encoder.info.modalities == ("text", "image")
    texts = encoder.encode_text(["a dog", "a car", "a cat"])
    images = encoder.encode_image([Image.new("RGB", (50, 40), c) for c in ("red", "blue", "green")])
    for vectors in (texts, images):
        assert vectors.shape == (3, 32) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The weights come from the file, not a fresh random init: a second load embeds identically.
    np.testing.assert_allclose(load_model(tiny_clip_spec, CPU).encode_text(["a dog"]), texts[:1], atol=1e-6)
    with pytest.raises(UnsupportedModality, match="no audio tower"):
        encoder.encode_audio([Audio(np.zeros(16000, dtype=np.float32), 16000)])
