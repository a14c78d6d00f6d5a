"""Any open_clip image-text model: `open_clip:ARCH@PRETRAINED`.

ARCH is a registered architecture name or a path to a model-config JSON file; PRETRAINED is a
local checkpoint file (works offline) or a pretrained tag (needs the model hub).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from PIL import Image

from xmodal.compat import ensure_imports
from xmodal.encoders.base import Encoder, ModelInfo, batched
from xmodal.encoders.registry import ModelSpec
from xmodal.errors import Invalid


class OpenClipEncoder(Encoder):
    def __init__(self, spec: ModelSpec, device: torch.device, batch_size: int) -> None:
        ensure_imports()
        import open_clip

        arch = _register_config_file(spec.options["arch"], open_clip)
        pretrained = spec.options.get("pretrained")
        if (
            pretrained
            and not Path(pretrained).is_file()
            and pretrained not in open_clip.list_pretrained_tags_by_model(arch)
        ):
            tags = ", ".join(open_clip.list_pretrained_tags_by_model(arch)) or "none"
            raise Invalid(f"{pretrained!r} is neither a checkpoint file nor a pretrained tag of {arch} (tags: {tags})")
        model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=pretrained, device=device)
        self.model = model.eval()
        self.preprocess = preprocess
        self.tokenizer = open_clip.get_tokenizer(arch)
        self.device = device
        self.batch_size = batch_size
        dim = int(self.model.text_projection.shape[-1]) if hasattr(self.model, "text_projection") else _probe_dim(self)
        self.info = ModelInfo(spec.name, spec.version, dim, ("text", "image"), spec.name)

    def _encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        parts = [
            self.model.encode_text(self.tokenizer(list(chunk)).to(self.device))
            for chunk in batched(texts, self.batch_size)
        ]
        return torch.cat(parts)

    def _encode_image(self, images: Sequence[Image.Image]) -> torch.Tensor:
        parts = []
        for chunk in batched(images, self.batch_size):
            pixels = torch.stack([self.preprocess(image) for image in chunk]).to(self.device)
            parts.append(self.model.encode_image(pixels))
        return torch.cat(parts)


def _register_config_file(arch: str, open_clip) -> str:
    """A JSON path as ARCH registers that config under its file stem."""
    path = Path(arch)
    if path.suffix == ".json":
        if not path.is_file():
            raise Invalid(f"open_clip model config {arch!r} does not exist")
        open_clip.add_model_config(path)
        return path.stem
    if arch not in open_clip.list_models():
        raise Invalid(f"unknown open_clip architecture {arch!r}; e.g. {', '.join(open_clip.list_models()[:8])}, ...")
    return arch


def _probe_dim(encoder: OpenClipEncoder) -> int:
    with torch.inference_mode():
        return int(encoder._encode_text(["probe"]).shape[-1])


def architectures() -> list[tuple[str, int, list[str]]]:
    """Every open_clip architecture as (name, embedding dimension, pretrained tags)."""
    ensure_imports()
    import open_clip

    return [
        (name, int(open_clip.get_model_config(name)["embed_dim"]), list(open_clip.list_pretrained_tags_by_model(name)))
        for name in open_clip.list_models()
    ]
