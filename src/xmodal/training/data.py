"""Features of every record, in memory, and embedding evaluation items through heads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from xmodal.encoders.xmodal_heads import Heads
from xmodal.training.evaluate import Embeddings, EvalItems
from xmodal.training.features import FeatureExtractor
from xmodal.training.manifest import Record

# Extra phrasings of each caption; the image ones suit clip art, the audio ones sounds.
IMAGE_TEMPLATES = ("{}", "a picture of {}", "a drawing of {}", "{} clip art")
AUDIO_TEMPLATES = ("{}", "the sound of {}", "{} sound")


def phrasings(record: Record, modality: str) -> list[str]:
    """The caption as written, its other given phrasings, and templated forms of the caption."""
    out = list(record.phrasings())
    if record.text:
        bare = record.text.strip().rstrip(".!")
        bare = bare[:1].lower() + bare[1:]
        out += [template.format(bare) for template in (AUDIO_TEMPLATES if modality == "audio" else IMAGE_TEMPLATES)]
    return list(dict.fromkeys(out))


# A table's audio features hold every tower, in this order; a head takes the slices of its own towers.
TABLE_AUDIO_TOWERS = ("yamnet", "aisfx")
AUDIO_TOWER_DIMS = {"yamnet": 521 + 2048, "aisfx": 1024}


def select_audio_towers(features: Tensor, towers: Sequence[str]) -> Tensor:
    """[..., all towers] -> [..., `towers` in their order]; features of another width pass as they are."""
    offsets, start = {}, 0
    for tower in TABLE_AUDIO_TOWERS:
        offsets[tower] = (start, start + AUDIO_TOWER_DIMS[tower])
        start += AUDIO_TOWER_DIMS[tower]
    if features.shape[-1] != start or tuple(towers) == TABLE_AUDIO_TOWERS:
        return features
    return torch.cat([features[..., slice(*offsets[tower])] for tower in towers], dim=-1)


@dataclass
class FeatureTable:
    """Cached features by item: texts by string, media by path ([views, dim] each)."""

    text: dict[str, Tensor] = field(default_factory=dict)
    image: dict[Path, Tensor] = field(default_factory=dict)
    audio: dict[Path, Tensor] = field(default_factory=dict)
    classifier: nn.Module | None = None  # image features -> ImageNet logits

    def image_logits(self, features: Tensor) -> Tensor:
        if self.classifier is None:
            raise ValueError("image features need the tower's classifier for the bridge")
        with torch.no_grad():
            return self.classifier(features)


def load_features(
    records: Sequence[Record],
    extractor: FeatureExtractor,
    image_views: int,
    audio_views: int,
    extra_texts: Sequence[str] = (),
) -> FeatureTable:
    table = FeatureTable()
    texts = list(
        dict.fromkeys([*extra_texts, *(p for r in records for m in ("image", "audio") for p in phrasings(r, m))])
    )
    if texts:
        table.text = dict(zip(texts, extractor.texts(texts)))
    def sounds(paths, views):
        return extractor.audio_towers(TABLE_AUDIO_TOWERS, paths, views)

    for modality, views, extract in (("image", image_views, extractor.images), ("audio", audio_views, sounds)):
        paths = list(dict.fromkeys(getattr(r, modality) for r in records if getattr(r, modality)))
        if paths:
            vectors, ok = extract(paths, views)
            setattr(table, modality, {path: vector for path, vector, good in zip(paths, vectors, ok) if good})
    if table.image:
        table.classifier = extractor.classifier().cpu().eval()
    extractor.save()
    return table


def embed_items(heads: Heads, items: EvalItems, table: FeatureTable) -> Embeddings:
    """Clean-view (view 0) embeddings of every item the heads can embed; NaN rows where a file was unreadable."""
    out: dict[str, np.ndarray] = {}
    if items.count("text"):
        out["text"] = F.normalize(torch.stack([table.text[text] for text in items.keys["text"]]), dim=-1).numpy()
    for modality, head in (("image", heads.image), ("audio", heads.audio)):
        if head is None or not items.count(modality):
            continue
        keys = items.keys[modality]
        present = [key in getattr(table, modality) for key in keys]
        vectors = np.full((len(keys), head.config.dim), np.nan, dtype=np.float32)
        if any(present):
            features = torch.stack([getattr(table, modality)[key][0] for key, ok in zip(keys, present) if ok])
            if modality == "audio":
                features = select_audio_towers(features, head.config.towers)
            head.eval()
            with torch.no_grad():
                embedded = head(features, table.image_logits(features)) if modality == "image" else head(features)
            vectors[np.array(present)] = F.normalize(embedded, dim=-1).numpy()
        out[modality] = vectors
    return out
