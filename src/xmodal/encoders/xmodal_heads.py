"""The small trainable heads of `xmodal-base`: frozen tower features -> the MiniLM text space.

Image: the zero-training bridge (top-k ImageNet probabilities times embeddings of the class
names) plus a residual adapter on the 1280-d EfficientNet features. The adapter's last layer
starts at zero, so an untrained head is exactly the bridge and training only adds to it.
Audio, the same shape: the YAMNet bridge (its top-k AudioSet class scores times embeddings of
the class names) plus a residual adapter, starting at zero, on the standardised features of the
audio towers (YAMNet's scores and embeddings, aiSFX's block features). Heads of format 2 (aiSFX
through an adapter, no bridge) still load. Text needs no head: the MiniLM space is the shared space.

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

HEADS_FORMAT = "xmodal-heads/3"
READABLE_FORMATS = ("xmodal-heads/2", HEADS_FORMAT)
AudioTower = Literal["yamnet", "aisfx"]
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
    """`towers` say which features are concatenated, in order: "yamnet" gives 521 mean class scores
    then 2048 pooled embeddings (mean, max), "aisfx" 1024 (mean, max; 512 with pooling "mean").
    With `num_classes` > 0 the first `num_classes` features are YAMNet's scores and feed the bridge."""

    feature_dim: int = 1024
    dim: int = 384
    pooling: Literal["mean", "meanmax"] = "meanmax"
    adapter: Adapter = "linear"
    hidden: int = 512
    dropout: float = 0.1
    towers: tuple[AudioTower, ...] = ("aisfx",)
    num_classes: int = 0
    top_k: int = 10


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


def _top_k_bridge(probs: Tensor, class_embeddings: Tensor, top_k: int) -> Tensor:
    """The top-k class probabilities (unlikely classes add only noise) times the class embeddings."""
    top = probs.topk(min(top_k, probs.shape[-1]), dim=-1)
    sparse = torch.zeros_like(probs).scatter_(-1, top.indices, top.values)
    return F.normalize(sparse @ class_embeddings, dim=-1)


def _zero_last_layer(adapter: nn.Module | None) -> None:
    """An adapter that starts at zero: the untrained head is exactly its bridge."""
    if adapter is not None:
        nn.init.zeros_(adapter[-1].weight)
        nn.init.zeros_(adapter[-1].bias)


class ImageHead(nn.Module):
    def __init__(self, config: ImageHeadConfig) -> None:
        super().__init__()
        self.config = config
        self.class_embeddings = nn.Parameter(torch.zeros(config.num_classes, config.dim))
        self.standardise = _Standardise(config.feature_dim)
        self.adapter = _adapter(config.adapter, config.feature_dim, config.hidden, config.dim, config.dropout)
        _zero_last_layer(self.adapter)

    def bridge(self, logits: Tensor) -> Tensor:
        probs = torch.softmax(logits / self.config.temperature, dim=-1)
        return _top_k_bridge(probs, self.class_embeddings, self.config.top_k)

    def forward(self, features: Tensor, logits: Tensor) -> Tensor:
        """[n, 1280] features and [n, 1000] ImageNet logits -> [n, 384] (not normalised)."""
        out = self.bridge(logits)
        if self.adapter is not None:
            out = out + self.adapter(self.standardise(features))
        return out


class AudioHead(nn.Module):
    def __init__(self, config: AudioHeadConfig) -> None:
        super().__init__()
        if config.adapter == "none" and not config.num_classes:
            raise ValueError("an audio head without the YAMNet bridge needs an adapter (linear or mlp)")
        self.config = config
        bridged = config.num_classes > 0
        self.class_embeddings = nn.Parameter(torch.zeros(config.num_classes, config.dim)) if bridged else None
        self.standardise = _Standardise(config.feature_dim)
        self.adapter = _adapter(config.adapter, config.feature_dim, config.hidden, config.dim, config.dropout)
        if self.class_embeddings is not None:
            _zero_last_layer(self.adapter)

    def bridge(self, features: Tensor) -> Tensor:
        """YAMNet's (sigmoid) class scores are already probabilities, one per class."""
        return _top_k_bridge(features[:, : self.config.num_classes], self.class_embeddings, self.config.top_k)

    def forward(self, features: Tensor) -> Tensor:
        """[n, feature_dim] pooled tower features -> [n, 384] (not normalised)."""
        out = self.bridge(features) if self.class_embeddings is not None else 0
        if self.adapter is not None:
            out = out + self.adapter(self.standardise(features))
        return out


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
    if metadata.get("format") not in READABLE_FORMATS:
        raise ValueError(
            f"{path} is not an {HEADS_FORMAT} heads file (format {metadata.get('format')!r}); "
            "rebuild it with `xmodal train`"
        )
    image = audio = None
    if "image" in metadata:
        image = ImageHead(ImageHeadConfig(**json.loads(metadata["image"])))
        image.load_state_dict(_prefixed(tensors, "image."))
    if "audio" in metadata:
        config = json.loads(metadata["audio"])
        audio = AudioHead(AudioHeadConfig(**{**config, "towers": tuple(config.get("towers", ("aisfx",)))}))
        audio.load_state_dict(_prefixed(tensors, "audio."))
    return Heads(image, audio, metadata).to(torch.device(device))


def _prefixed(tensors: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {name.removeprefix(prefix): value for name, value in tensors.items() if name.startswith(prefix)}
