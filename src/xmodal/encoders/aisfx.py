"""aiSFX sound-effects embeddings (Ma & Lerch, ISMIR 2022; weights CC-BY-4.0) in plain torch.

A port of `aisfx` 0.1.2: its `EmbeddingNet('max', 3, 1, 64)` and the librosa recipe in its
`spectrogram_librosa.py`, re-implemented without librosa. The `aisfx` package (installed with
--no-deps, as it pins numpy 1.23 and librosa 0.9.2) is only a weights carrier: we locate its
checkpoint without importing it, so none of its own dependencies are needed.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

SAMPLE_RATE = 44100
EMBED_DIM = 512
N_FFT, HOP = 2048, 1024  # ~23 ms hop
N_MELS = 96
BLOCK_FRAMES, BLOCK_HOP = 100, 50  # ~2.3 s blocks with 50 % overlap, as aisfx's default hop 0.5
_LOG_MAX = 9.457798957824707  # aisfx's 'original' min-max constants (min is 0)
_INSTALL_HINT = "pip install --no-deps aisfx==0.1.2"


class _ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: Tensor, pool: bool) -> Tensor:
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return F.max_pool2d(x, 2) if pool else x


class AisfxEmbeddingNet(nn.Module):
    """[N, 100, 96] normalised log-mel blocks -> [N, 512] embeddings."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.conv_block1 = _ConvBlock(1, width)
        self.conv_block2 = _ConvBlock(width, width * 2)
        self.conv_block3 = _ConvBlock(width * 2, width * 4)
        self.conv_block4 = _ConvBlock(width * 4, width * 8)

    def forward(self, spec: Tensor) -> Tensor:
        x = spec.unsqueeze(1)
        for block in (self.conv_block1, self.conv_block2, self.conv_block3):
            x = block(x, pool=True)
        x = self.conv_block4(x, pool=False)
        return x.mean(dim=3).amax(dim=2)  # average over frequency, max over time


def packaged_checkpoint_path() -> Path:
    spec = importlib.util.find_spec("aisfx")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"aiSFX weights not found: {_INSTALL_HINT}")
    path = Path(spec.submodule_search_locations[0]) / "models" / "checkpoint.pth"
    if not path.is_file():
        raise FileNotFoundError(f"aiSFX checkpoint missing at {path}: {_INSTALL_HINT}")
    return path


def _numpy_int64_globals() -> list:
    """The checkpoint is (state_dict, {dataset: (np.int64, n_classes)}): allowing just numpy's
    int64 scalar keeps the safe (weights_only) unpickler usable."""
    try:
        from numpy._core.multiarray import scalar  # numpy >= 2
    except ImportError:
        from numpy.core.multiarray import scalar
    return [(scalar, "numpy.core.multiarray.scalar"), np.dtype, type(np.dtype("int64"))]


def load_aisfx(checkpoint: str | Path | None = None) -> AisfxEmbeddingNet:
    """The pretrained embedding network in eval mode on CPU; `None` uses the aisfx package's file."""
    path = Path(checkpoint) if checkpoint is not None else packaged_checkpoint_path()
    with torch.serialization.safe_globals(_numpy_int64_globals()):
        state, _ = torch.load(path, map_location="cpu", weights_only=True)
    prefix = "embedding_net."  # the rest are per-dataset classifier heads without class names
    net = AisfxEmbeddingNet()
    net.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}, strict=True)
    return net.eval()


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sr: int = SAMPLE_RATE) -> Tensor:
    """librosa 0.9 `filters.mel(htk=True, norm=1.0)`: HTK-mel triangles, each summing to 1."""
    max_mel = 2595.0 * math.log10(1.0 + sr / 2 / 700.0)  # HTK formula
    mels = torch.linspace(0.0, max_mel, n_mels + 2, dtype=torch.float64)
    edges = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    freqs = torch.linspace(0.0, sr / 2, n_fft // 2 + 1, dtype=torch.float64)
    ramps = edges[:, None] - freqs[None, :]
    widths = edges.diff()
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = torch.minimum(lower, upper).clamp(min=0.0)
    # librosa's numeric norm is util.normalize(norm=1): unit L1 norm per filter (empty ones stay 0)
    sums = weights.sum(dim=1, keepdim=True)
    return (weights / torch.where(sums > 0, sums, 1.0)).float()


class AisfxFrontend(nn.Module):
    """Mono 44.1 kHz waveform [samples] -> normalised log-mel blocks [blocks, 100, 96]."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)
        self.register_buffer("mel_basis", mel_filterbank(), persistent=False)

    def spectrogram(self, waveform: Tensor) -> Tensor:
        """[samples] -> [frames, 96], frames = 1 + samples // 1024."""
        if waveform.dim() != 1:
            raise ValueError(f"expected a mono waveform [samples], got shape {tuple(waveform.shape)}")
        waveform = waveform.to(self.window.device, torch.float32)
        if waveform.numel() == 0:  # an empty decode still yields one (silent) frame, like librosa
            waveform = waveform.new_zeros(1)
        peak = waveform.abs().max()
        waveform = waveform / torch.where(peak > 0, peak, torch.ones_like(peak))
        # librosa >= 0.9 centres frames with zero padding ("constant"), not reflection
        stft = torch.stft(
            waveform, N_FFT, HOP, window=self.window, center=True, pad_mode="constant", return_complex=True
        )
        mel = self.mel_basis @ stft.abs().square()  # [96, frames]
        return (torch.log10(mel * 10000.0 + 1.0) / _LOG_MAX).T

    def forward(self, waveform: Tensor) -> Tensor:
        return block_frames(self.spectrogram(waveform))


def block_frames(spec: Tensor) -> Tensor:
    """[frames, 96] -> [blocks, 100, 96], as aisfx `blocking(drop_partial_block=True)`: a partial
    last block is dropped unless it is the only one, which is zero-padded."""
    if spec.shape[0] < BLOCK_FRAMES:
        spec = F.pad(spec, (0, 0, 0, BLOCK_FRAMES - spec.shape[0]))
    return spec.unfold(0, BLOCK_FRAMES, BLOCK_HOP).transpose(1, 2)


def embed_waveforms(
    net: AisfxEmbeddingNet,
    frontend: AisfxFrontend,
    waveforms: Sequence[Tensor],
    device: torch.device,
    block_batch: int = 64,
    pool: Literal["mean", "max", "meanmax"] = "mean",
) -> Tensor:
    """Clips -> [n_clips, 512] (not normalised; [n_clips, 1024] for "meanmax": mean then max).
    Blocks of all clips share batches, so many short clips cost few forward passes; each clip's
    block embeddings are then pooled."""
    if pool not in ("mean", "max", "meanmax"):
        raise ValueError(f"unknown pool {pool!r}; choose one of: mean, max, meanmax")
    if not waveforms:
        return torch.empty(0, EMBED_DIM * (2 if pool == "meanmax" else 1), device=device)
    net, frontend = net.to(device), frontend.to(device)
    with torch.inference_mode():
        blocks = [frontend(waveform.to(device)) for waveform in waveforms]
        embeddings = torch.cat([net(chunk) for chunk in torch.cat(blocks).split(block_batch)])
        per_clip = embeddings.split([b.shape[0] for b in blocks])
        pooled = {
            "mean": lambda e: e.mean(0),
            "max": lambda e: e.amax(0),
            "meanmax": lambda e: torch.cat([e.mean(0), e.amax(0)]),
        }
        return torch.stack([pooled[pool](e) for e in per_clip])
