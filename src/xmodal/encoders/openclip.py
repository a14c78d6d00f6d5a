"""Any open_clip image-text model: `open_clip:ARCH@PRETRAINED`.

ARCH is a registered architecture name or a path to a model-config JSON file; PRETRAINED is a
local checkpoint file (works offline) or a pretrained tag (needs the model hub).
"""

from __future__ import annotations

import socket
import urllib.error
from pathlib import Path
from typing import Sequence

import torch
from PIL import Image

from xmodal.compat import ensure_imports
from xmodal.encoders.base import Encoder, ModelInfo, batched
from xmodal.encoders.registry import OPEN_CLIP_PREFIX, ModelSpec
from xmodal.errors import Invalid, Unavailable


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
        if pretrained and not Path(pretrained).is_file():
            _fetch_weights(open_clip, spec, arch, pretrained)
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


def _fetch_weights(open_clip, spec: ModelSpec, arch: str, tag: str) -> None:
    """Download a pretrained tag's weights (or find them in the cache) before the model is built, so
    that a machine without the model hub gets one clear error, not a traceback from deep in open_clip."""
    try:
        open_clip.download_pretrained(open_clip.get_pretrained_cfg(arch, tag))
    except Exception as error:  # noqa: BLE001 - whatever the download raised, the user gets one line and the way out
        offline = f"{OPEN_CLIP_PREFIX}{spec.options['arch']}@/path/to/weights.safetensors"
        if _unreachable(error):
            why = "which cannot be reached (offline)"
        else:
            first_line = (str(error).strip() or repr(error)).splitlines()[0]
            why = f"and they could not be fetched: {first_line}"
        raise Unavailable(
            f"model {spec.name} needs its weights from the Hugging Face model hub, {why}; "
            f"use a local checkpoint file instead: --model {offline}"
        ) from error


def _unreachable(error: BaseException | None) -> bool:
    """Is the network (the hub) what failed, anywhere in the chain of causes? open_clip wraps the hub's
    own errors (HF_HUB_OFFLINE=1: LocalEntryNotFoundError) in a FileNotFoundError or RuntimeError."""
    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError, socket.gaierror, urllib.error.URLError]
    try:
        from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

        kinds += [LocalEntryNotFoundError, OfflineModeIsEnabled]
    except ImportError:  # open_clip then downloads by URL (urllib)
        pass
    try:
        import httpx

        kinds.append(httpx.TransportError)
    except ImportError:
        pass
    while error is not None:
        if isinstance(error, tuple(kinds)):
            return True
        error = error.__cause__ or error.__context__
    return False


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
