"""The fast image runtime against the torch reference, on the real sample images."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from xmodal.encoders import runtime
from xmodal.encoders.efficientnet_lite import load_efficientnet_lite0, preprocess

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "corpus" / "images"


@pytest.fixture(scope="module")
def tower():
    return load_efficientnet_lite0()


@pytest.fixture(scope="module")
def pixels():
    paths = sorted(SAMPLES.glob("*.jpg"))[:12]
    assert len(paths) == 12
    return torch.stack([preprocess(Image.open(path)) for path in paths])


@pytest.fixture(scope="module")
def reference(tower, pixels):
    with torch.inference_mode():
        return tower.features(pixels)


@pytest.mark.parametrize("backend", ["onnxruntime", "torch-fused"])
def test_features_match_the_torch_reference(tower, pixels, reference, backend, tmp_path, monkeypatch):
    monkeypatch.setenv("XMODAL_CACHE", str(tmp_path))
    fast = runtime.FastTower(tower, "efficientnet-lite0", pixels[:1], backend=backend)
    assert fast.backend == backend
    features = fast.features(pixels)
    assert features.shape == reference.shape and features.dtype == torch.float32
    assert F.cosine_similarity(features, reference).min() >= 0.9999
    # The classifier that the image head reads still answers through the wrapper, with the same top class.
    with torch.inference_mode():
        assert torch.equal(fast._fc(features).argmax(1), tower._fc(reference).argmax(1))


def test_the_export_is_cached_by_weights_digest(tower, pixels, tmp_path, monkeypatch):
    monkeypatch.setenv("XMODAL_CACHE", str(tmp_path))
    runtime.FastTower(tower, "efficientnet-lite0", pixels[:1], backend="onnxruntime")
    (first,) = (tmp_path / "runtime").glob("*.onnx")
    stamp = first.stat().st_mtime_ns
    runtime.FastTower(tower, "efficientnet-lite0", pixels[:1], backend="onnxruntime")
    assert first.stat().st_mtime_ns == stamp  # reused, not exported again

    changed = load_efficientnet_lite0()
    with torch.no_grad():
        changed._conv_head.weight.mul_(1.01)
    runtime.FastTower(changed, "efficientnet-lite0", pixels[:1], backend="onnxruntime")
    assert len(list((tmp_path / "runtime").glob("*.onnx"))) == 2  # other weights, another file


def test_sessions_do_not_spin_between_runs(tower, pixels, tmp_path, monkeypatch):
    """Spinning workers would take the cores from the torch steps between runs (half the audio speed on 2 cores)."""
    monkeypatch.setenv("XMODAL_CACHE", str(tmp_path))
    fast = runtime.FastTower(tower, "efficientnet-lite0", pixels[:1], backend="onnxruntime")
    options = fast.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_a_large_batch_is_shared_between_single_threaded_sessions(tower, pixels, reference, tmp_path, monkeypatch):
    monkeypatch.setenv("XMODAL_CACHE", str(tmp_path))
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    fast = runtime.FastTower(tower, "efficientnet-lite0", pixels[:1], backend="onnxruntime")
    assert fast.features(pixels[:4]).shape == (4, reference.shape[1])
    assert fast.session._parts is None  # a small batch (a query) runs whole, on every core
    batch = torch.cat([pixels, pixels.flip(0)])  # 24 rows: two shares of 12, different from each other
    features = fast.features(batch)
    assert len(fast.session._parts) == 2
    assert F.cosine_similarity(features, torch.cat([reference, reference.flip(0)])).min() >= 0.9999  # in order


def test_another_input_size_runs_in_torch(tower, tmp_path, monkeypatch):
    monkeypatch.setenv("XMODAL_CACHE", str(tmp_path))
    fast = runtime.FastTower(tower, "efficientnet-lite0", torch.zeros(1, 3, 224, 224), backend="onnxruntime")
    larger = torch.randn(2, 3, 256, 256)
    with torch.inference_mode():
        assert torch.allclose(fast.features(larger), tower.features(larger), atol=1e-4)


def test_cpu_picks_onnxruntime_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("XMODAL_RUNTIME", raising=False)
    assert runtime.choose_backend(torch.device("cpu")) == "onnxruntime"
    assert runtime.choose_backend(torch.device("cuda")) == "torch"
    monkeypatch.setenv("XMODAL_RUNTIME", "torch")
    assert runtime.choose_backend(torch.device("cpu")) == "torch"
    with pytest.raises(ValueError, match="choose from"):
        runtime.FastTower(torch.nn.Linear(1, 1), "x", torch.zeros(1, 1), backend="tensorrt")
