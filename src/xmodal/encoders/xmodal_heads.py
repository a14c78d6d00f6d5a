"""The small trainable heads of `xmodal-base`: frozen tower features -> the MiniLM text space.

Image: the zero-training bridge (top-k ImageNet probabilities times embeddings of the class
names) plus a residual adapter on the 1280-d EfficientNet features. The adapter's last layer
starts at zero, so an untrained head is exactly the bridge and training only adds to it.
Audio: standardised aiSFX features (mean, or mean and max, over ~2 s blocks) through a linear
map or a small MLP. Text needs no head: the MiniLM space is the shared space.

A heads file is safetensors: each head's tensors under `image.` / `audio.`, and its config as
JSON in the file's metadata (`format`, `image`, `audio`), so a file describes itself.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor, nn

from xmodal.files import atomic_write

HEADS_FORMAT = "xmodal-heads/2"
Adapter = Literal["none", "linear", "mlp"]


@dataclass(frozen=True)
class ImageHeadConfig:
    feature_dim: int = 1280
    num_classes: int = 1000
    dim: int = 384
    top_k: int = 10
    temperature: float = 1.0
    adapter: Adapter = "mlp"
    hidden: int = 512
    dropout: float = 0.1


@dataclass(frozen=True)
class AudioHeadConfig:
    feature_dim: int = 1024
    dim: int = 384
    pooling: Literal["mean", "meanmax"] = "meanmax"
    adapter: Adapter = "linear"
    hidden: int = 512
    dropout: float = 0.1


def _adapter(kind: Adapter, features: int, hidden: int, out: int, dropout: float) -> nn.Module | None:
    if kind == "none":
        return None
    if kind == "linear":
        return nn.Sequential(nn.Dropout(dropout), nn.Linear(features, out))
    if kind == "mlp":
        return nn.Sequential(
            nn.Dropout(dropout), nn.Linear(features, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, out)
        )
    raise ValueError(f"unknown adapter {kind!r}; choose one of: none, linear, mlp")


class _Standardise(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))

    def fit(self, features: Tensor) -> None:
        self.mean.copy_(features.mean(dim=0))
        self.scale.copy_(features.std(dim=0).clamp_min(1e-6))

    def forward(self, features: Tensor) -> Tensor:
        return (features - self.mean) / self.scale


class ImageHead(nn.Module):
    def __init__(self, config: ImageHeadConfig) -> None:
        super().__init__()
        self.config = config
        self.class_embeddings = nn.Parameter(torch.zeros(config.num_classes, config.dim))
        self.standardise = _Standardise(config.feature_dim)
        self.adapter = _adapter(config.adapter, config.feature_dim, config.hidden, config.dim, config.dropout)
        if self.adapter is not None:
            nn.init.zeros_(self.adapter[-1].weight)
            nn.init.zeros_(self.adapter[-1].bias)

    def bridge(self, logits: Tensor) -> Tensor:
        """Top-k ImageNet probabilities (unlikely classes add only noise) times the class embeddings."""
        probs = torch.softmax(logits / self.config.temperature, dim=-1)
        top = probs.topk(min(self.config.top_k, probs.shape[-1]), dim=-1)
        sparse = torch.zeros_like(probs).scatter_(-1, top.indices, top.values)
        return F.normalize(sparse @ self.class_embeddings, dim=-1)

    def forward(self, features: Tensor, logits: Tensor) -> Tensor:
        """[n, 1280] features and [n, 1000] ImageNet logits -> [n, 384] (not normalised)."""
        out = self.bridge(logits)
        if self.adapter is not None:
            out = out + self.adapter(self.standardise(features))
        return out


class AudioHead(nn.Module):
    def __init__(self, config: AudioHeadConfig) -> None:
        super().__init__()
        if config.adapter == "none":
            raise ValueError("an audio head needs an adapter (linear or mlp): aiSFX has no link to text without one")
        self.config = config
        self.standardise = _Standardise(config.feature_dim)
        self.adapter = _adapter(config.adapter, config.feature_dim, config.hidden, config.dim, config.dropout)

    def forward(self, features: Tensor) -> Tensor:
        """[n, feature_dim] pooled aiSFX features -> [n, 384] (not normalised)."""
        return self.adapter(self.standardise(features))


@dataclass
class Heads:
    image: ImageHead | None
    audio: AudioHead | None
    metadata: dict[str, str]

    def to(self, device: torch.device) -> "Heads":
        for head in (self.image, self.audio):
            if head is not None:
                head.to(device).eval()
        return self


def save_heads(
    path: Path, image: ImageHead | None, audio: AudioHead | None, metadata: dict[str, str] | None = None
) -> None:
    """Write atomically (an interrupted training run never leaves half a file)."""
    tensors: dict[str, Tensor] = {}
    meta = {"format": HEADS_FORMAT, **(metadata or {})}
    for prefix, head in (("image", image), ("audio", audio)):
        if head is not None:
            tensors.update(
                {
                    f"{prefix}.{name}": value.detach().float().cpu().contiguous()
                    for name, value in head.state_dict().items()
                }
            )
            meta[prefix] = json.dumps(asdict(head.config))
    atomic_write(Path(path), lambda temporary: save_file(tensors, str(temporary), metadata=meta))


def load_heads(path: Path, device: torch.device | str = "cpu") -> Heads:
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    if metadata.get("format") != HEADS_FORMAT:
        raise ValueError(
            f"{path} is not an {HEADS_FORMAT} heads file (format {metadata.get('format')!r}); "
            "rebuild it with `xmodal train`"
        )
    image = audio = None
    if "image" in metadata:
        image = ImageHead(ImageHeadConfig(**json.loads(metadata["image"])))
        image.load_state_dict(_prefixed(tensors, "image."))
    if "audio" in metadata:
        audio = AudioHead(AudioHeadConfig(**json.loads(metadata["audio"])))
        audio.load_state_dict(_prefixed(tensors, "audio."))
    return Heads(image, audio, metadata).to(torch.device(device))


def _prefixed(tensors: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {name.removeprefix(prefix): value for name, value in tensors.items() if name.startswith(prefix)}
