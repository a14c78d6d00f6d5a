"""The one contract every model honours: inputs -> unit-norm float32 [n, dim] in a shared space."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from xmodal import modalities
from xmodal.encoders.calibration import Calibration
from xmodal.encoders.media import Audio
from xmodal.errors import Invalid

Modality = str  # a name in xmodal.modalities
MODALITIES: tuple[Modality, ...] = modalities.NAMES


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    dim: int
    modalities: tuple[Modality, ...]
    spec: str  # what a store records; loading this spec again gives the same model

    def identity(self) -> dict[str, object]:
        return {"spec": self.spec, "version": self.version, "dim": self.dim}


class UnsupportedModality(Invalid):
    pass


class Encoder(ABC):
    info: ModelInfo
    calibration: Calibration = Calibration()  # none: mixed result kinds are ordered by raw cosine
    # The shorter side its image preprocessing resizes to: indexing decodes JPEGs no larger than that
    # needs (None: decoding stops at the `decode_max_side` setting only).
    image_input_side: int | None = None

    @abstractmethod
    def _encode_text(self, texts: Sequence[str]) -> torch.Tensor: ...

    @abstractmethod
    def _encode_image(self, images: Sequence[Image.Image]) -> torch.Tensor: ...

    def _encode_audio(self, clips: Sequence[Audio]) -> torch.Tensor:
        raise UnsupportedModality(self.refusal("audio"))

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode("text", texts)

    def encode_image(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.encode("image", images)

    def encode_audio(self, clips: Sequence[Audio]) -> np.ndarray:
        return self.encode("audio", clips)

    def encode(self, modality: Modality, inputs: Sequence[object]) -> np.ndarray:
        """Embed decoded inputs of one modality; returns float32 [len(inputs), dim], rows unit-norm."""
        if modality not in self.info.modalities:
            raise UnsupportedModality(self.refusal(modality))
        if not inputs:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        tower = getattr(self, modalities.get(modality).encoder_method)  # e.g. _encode_image
        with torch.inference_mode():
            vectors = tower(inputs)
        return l2_normalize(vectors)

    def refusal(self, modality: str) -> str:
        supported = ", ".join(self.info.modalities)
        return f"model {self.info.name!r} has no {modality} tower (it supports: {supported})"


def l2_normalize(vectors: torch.Tensor) -> np.ndarray:
    vectors = torch.nn.functional.normalize(vectors.float(), dim=-1)
    return np.ascontiguousarray(vectors.cpu().numpy(), dtype=np.float32)


def batched(items: Sequence[object], size: int) -> list[Sequence[object]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
