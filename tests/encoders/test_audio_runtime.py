"""The audio towers in ONNX Runtime against torch (the reference), on the sample corpus's sounds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from xmodal.encoders import aisfx, audio_runtime, yamnet
from xmodal.encoders.media import load_audio
from xmodal.encoders.xmodal_base import AudioTowers, audio_features

SOUNDS = Path(__file__).resolve().parents[2] / "samples" / "corpus" / "sounds"
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def clips():
    paths = sorted(SOUNDS.glob("*.ogg"))[:8]
    assert len(paths) == 8
    return [load_audio(path, 10.0) for path in paths]


class TorchTowers(AudioTowers):
    """The reference: the same towers, left in torch."""

    yamnet = yamnet.load_yamnet().eval()
    aisfx = aisfx.load_aisfx()


@pytest.mark.parametrize("tower", ["yamnet", "aisfx"])
def test_pooled_features_match_torch(clips, tower, tmp_path, monkeypatch):
    monkeypatch.setenv("XMODAL_CACHE", str(tmp_path))
    fast = AudioTowers(CPU)
    assert isinstance(getattr(fast, tower), audio_runtime.OnnxModule)
    ours = audio_features([tower], fast, clips, "meanmax", CPU)
    reference = audio_features([tower], TorchTowers(CPU), clips, "meanmax", CPU)
    assert ours.shape == reference.shape
    assert F.cosine_similarity(ours, reference).min() >= 0.9999
    if tower == "yamnet":  # the class scores (the bridge's weights) too
        assert torch.allclose(ours[:, : yamnet.N_CLASSES], reference[:, : yamnet.N_CLASSES], atol=1e-4)
    assert len(list((tmp_path / "runtime").glob(f"{tower}@*.onnx"))) == 1


def test_torch_runtime_keeps_the_modules(monkeypatch):
    monkeypatch.setenv("XMODAL_RUNTIME", "torch")
    net = aisfx.load_aisfx()
    assert audio_runtime.fast_aisfx(net) is net
