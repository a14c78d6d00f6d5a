"""Encoders: decoded media -> unit-norm float32 vectors in one shared space."""

from xmodal.encoders.base import MODALITIES, Encoder, Modality, ModelInfo, UnsupportedModality
from xmodal.encoders.media import Audio, MediaError, load_audio, load_image, load_text
from xmodal.encoders.registry import ModelSpec, available_models, load_model, resolve_spec

__all__ = [
    "MODALITIES", "Audio", "Encoder", "MediaError", "Modality", "ModelInfo", "ModelSpec",
    "UnsupportedModality", "available_models", "load_audio", "load_image", "load_model",
    "load_text", "resolve_spec",
]
