"""A tiny, fast, deterministic encoder whose space still means something across modalities.

Dimensions: red, green, blue (image colour or the words), low, high (audio pitch or the words),
plus a hashed bag of other words. Good enough to test plumbing end to end without a real model.
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from xmodal.encoders.base import Encoder, ModelInfo
from xmodal.encoders.media import Audio

DIM = 16
KEYWORDS = ("red", "green", "blue", "low", "high")


class FakeEncoder(Encoder):
    def __init__(self, modalities: tuple[str, ...] = ("text", "image", "audio")) -> None:
        self.info = ModelInfo("fake", "1", DIM, modalities, "fake")  # type: ignore[arg-type]
        self.calls: list[tuple[str, int]] = []

    def _encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        self.calls.append(("text", len(texts)))
        rows = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in zip(rows, texts):
            for word in text.lower().replace(".", " ").split():
                if word in KEYWORDS:
                    row[KEYWORDS.index(word)] += 1.0
                else:
                    row[5 + zlib.crc32(word.encode()) % (DIM - 5)] += 0.1
            row[DIM - 1] += 1e-3
        return torch.from_numpy(rows)

    def _encode_image(self, images: Sequence[Image.Image]) -> torch.Tensor:
        self.calls.append(("image", len(images)))
        rows = np.zeros((len(images), DIM), dtype=np.float32)
        for row, image in zip(rows, images):
            rgb = np.asarray(image.convert("RGB"), dtype=np.float32).mean(axis=(0, 1)) / 255.0
            row[:3] = rgb**4 + 1e-3
        return torch.from_numpy(rows)

    def _encode_audio(self, clips: Sequence[Audio]) -> torch.Tensor:
        if "audio" not in self.info.modalities:
            return super()._encode_audio(clips)
        self.calls.append(("audio", len(clips)))
        rows = np.zeros((len(clips), DIM), dtype=np.float32)
        for row, clip in zip(rows, clips):
            spectrum = np.abs(np.fft.rfft(clip.samples))
            peak_hz = np.argmax(spectrum) * clip.sample_rate / len(clip.samples)
            row[3 if peak_hz < 1000 else 4] = 1.0
            row[DIM - 1] = 1e-3
        return torch.from_numpy(rows)
