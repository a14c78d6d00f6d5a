"""Augmented views for training: each view is a deterministic function of (seed, file, view index).

Images: random crop, flip, colour and contrast jitter, grey scale, and for cut-outs with an alpha
channel a new background (solid colour or gradient). Audio: speed/pitch change, crop, time
shift and noise (gain alone changes nothing: the aiSFX front end normalises the peak).
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageEnhance, ImageOps

VIEW_SIDE = 256  # the clean path resizes to 256 and centre-crops 224; views keep that framing


def view_rng(seed: int, content_digest: str, view: int) -> np.random.Generator:
    material = hashlib.sha256(f"{seed}:{content_digest}:{view}".encode()).digest()
    return np.random.default_rng(int.from_bytes(material[:8], "big"))


def augment_image(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    image = _new_background(image, rng) if image.mode == "RGBA" else image.convert("RGB")
    width, height = image.size
    scale, ratio = rng.uniform(0.55, 1.0), np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    crop_w = min(width, max(8, int(round(np.sqrt(scale * width * height * ratio)))))
    crop_h = min(height, max(8, int(round(np.sqrt(scale * width * height / ratio)))))
    left, top = int(rng.integers(0, width - crop_w + 1)), int(rng.integers(0, height - crop_h + 1))
    image = image.resize((VIEW_SIDE, VIEW_SIDE), Image.Resampling.BICUBIC, box=(left, top, left + crop_w, top + crop_h))
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        image = enhancer(image).enhance(float(rng.uniform(0.7, 1.3)))
    if rng.random() < 0.1:
        image = ImageOps.grayscale(image).convert("RGB")
    return image


def _new_background(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    choice = rng.random()
    if choice < 0.3:
        canvas = Image.new("RGB", image.size, (255, 255, 255))
    elif choice < 0.7:
        canvas = Image.new("RGB", image.size, tuple(int(c) for c in rng.integers(0, 256, 3)))
    else:
        top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        weights = np.linspace(0.0, 1.0, image.size[1])[:, None, None]
        rows = (top * (1 - weights) + bottom * weights).astype(np.uint8)
        canvas = Image.fromarray(np.repeat(rows, image.size[0], axis=1), "RGB")
    canvas.paste(image, mask=image.getchannel("A"))
    return canvas


def augment_waveform(waveform: torch.Tensor, rate: int, rng: np.random.Generator) -> torch.Tensor:
    speed = float(rng.uniform(0.85, 1.18))  # resampling shifts pitch and tempo together
    length = max(16, int(round(len(waveform) / speed)))
    out = F.interpolate(waveform[None, None].float(), size=length, mode="linear", align_corners=False)[0, 0]
    if len(out) > rate:  # crop long clips to 60-100 %
        keep = int(len(out) * rng.uniform(0.6, 1.0))
        start = int(rng.integers(0, len(out) - keep + 1))
        out = out[start : start + keep]
    out = torch.cat([torch.zeros(int(rng.uniform(0.0, 0.3) * rate)), out])
    rms = out.pow(2).mean().sqrt().clamp_min(1e-6)
    snr_db = rng.uniform(15.0, 40.0)
    noise = torch.from_numpy(rng.standard_normal(len(out)).astype(np.float32))
    return out + noise * rms / (10 ** (snr_db / 20))
