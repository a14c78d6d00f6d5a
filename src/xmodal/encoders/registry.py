"""Model specs are data: named JSON configs, or `open_clip:ARCH@PRETRAINED` for any open_clip model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import torch

from xmodal.encoders.base import Encoder
from xmodal.errors import Invalid, Unavailable

OPEN_CLIP_PREFIX = "open_clip:"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    version: str
    options: dict[str, Any] = field(default_factory=dict)


def _config_files() -> dict[str, Any]:
    folder = resources.files("xmodal.encoders") / "model_configs"
    return {entry.name.removesuffix(".json"): entry for entry in folder.iterdir() if entry.name.endswith(".json")}


def available_models() -> list[str]:
    return sorted(_config_files()) + [f"{OPEN_CLIP_PREFIX}ARCH@PRETRAINED_TAG_OR_FILE"]


@dataclass(frozen=True)
class ModelCard:
    """What a person needs to pick a model: `xmodal models` prints these."""

    name: str  # what --model takes
    modalities: tuple[str, ...]
    dimension: str
    weights: str  # where they come from
    offline: str  # whether (and when) it works without a network
    about: str = ""


# open_clip models are not config files here: one card per way of naming their weights.
_OPEN_CLIP_CARDS = (
    ModelCard(
        f"{OPEN_CLIP_PREFIX}ARCH@FILE",
        ("text", "image"),
        "the architecture's embed_dim (`xmodal models --open-clip`)",
        "a checkpoint file on this machine (.safetensors, .bin or .pt)",
        "yes",
        "any open_clip image-text model; ARCH is an open_clip architecture or a model-config JSON file, "
        "e.g. open_clip:ViT-B-32@/models/vit-b-32.safetensors",
    ),
    ModelCard(
        f"{OPEN_CLIP_PREFIX}ARCH@TAG",
        ("text", "image"),
        "the architecture's embed_dim (`xmodal models --open-clip`)",
        "downloaded from the Hugging Face model hub on first use, then cached (~/.cache/huggingface)",
        "only once cached; set HF_HUB_OFFLINE=1 to never try the network",
        "a pretrained tag of the architecture, e.g. open_clip:ViT-B-32@openai",
    ),
)


def describe_models() -> list[ModelCard]:
    """Cards for the named models (from their configs) and the open_clip family."""
    cards = []
    for name, entry in sorted(_config_files().items()):
        config = json.loads(entry.read_text())
        card = config.get("card", {})
        cards.append(
            ModelCard(
                name,
                tuple(card.get("modalities", ())),
                card.get("dimension", "?"),
                card.get("weights", "?"),
                card.get("offline", "?"),
                config.get("description", ""),
            )
        )
    return cards + list(_OPEN_CLIP_CARDS)


def resolve_spec(text: str) -> ModelSpec:
    """Turn `xmodal-base` or `open_clip:ViT-B-32@/path/weights.safetensors` into a spec."""
    if text.startswith(OPEN_CLIP_PREFIX):
        arch, _, pretrained = text.removeprefix(OPEN_CLIP_PREFIX).partition("@")
        if not arch:
            raise Invalid(f"model {text!r}: expected {OPEN_CLIP_PREFIX}ARCH[@PRETRAINED]")
        return ModelSpec(
            name=text, family="open_clip", version="1", options={"arch": arch, "pretrained": pretrained or None}
        )
    configs = _config_files()
    if text not in configs:
        raise Invalid(f"unknown model {text!r}; available: {', '.join(available_models())}")
    config = json.loads(configs[text].read_text())
    return ModelSpec(
        name=config.pop("name"), family=config.pop("family"), version=config.pop("version"), options=config
    )


def load_model(spec: str | ModelSpec, device: torch.device, batch_size: int = 32) -> Encoder:
    if isinstance(spec, str):
        spec = resolve_spec(spec)
    try:
        return _construct(spec, device, batch_size)
    except FileNotFoundError as error:  # weights or heads not installed: the message says how to get them
        raise Unavailable(str(error)) from None


def _construct(spec: ModelSpec, device: torch.device, batch_size: int) -> Encoder:
    if spec.family == "xmodal":
        from xmodal.encoders.xmodal_base import XmodalBase

        return XmodalBase(spec, device, batch_size)
    if spec.family == "open_clip":
        from xmodal.encoders.openclip import OpenClipEncoder

        return OpenClipEncoder(spec, device, batch_size)
    raise Invalid(f"model {spec.name!r} has unknown family {spec.family!r}; known: xmodal, open_clip")
