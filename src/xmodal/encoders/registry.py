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
