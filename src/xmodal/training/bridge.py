"""The zero-training bridge from EfficientNet's ImageNet classes to the MiniLM text space.

Each ImageNet class becomes the mean MiniLM embedding of a few phrasings of its name and its
WordNet synonyms; an image is then its (top-k) class probabilities times those embeddings. No
training at all: it is the image head's starting point and the baseline `xmodal eval` reports.
Audio has no such link (aiSFX has no class names). The bridge alone, with a closed-form ridge
audio head, is `xmodal train --epochs 0 --image-adapter none --audio-init ridge`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable, Sequence

import torch

from xmodal.compat import ensure_imports
from xmodal.encoders.xmodal_heads import Heads, ImageHead, ImageHeadConfig

CLASS_TEMPLATES = ("{}", "a {}", "a photo of a {}", "a drawing of a {}")
Embed = Callable[[Sequence[str]], torch.Tensor]  # phrases -> [n, 384] unit-norm


def imagenet_class_names() -> list[tuple[str, list[str]]]:
    """Each ImageNet-1k class as (open_clip's clean name, its other WordNet lemmas). The lemmas
    ("cornet, horn, trumpet, trump") come from files timm ships, read without importing timm;
    they let "a trumpet" find an image the classifier calls a cornet."""
    ensure_imports()
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES

    spec = importlib.util.find_spec("timm")
    if not (spec and spec.submodule_search_locations):
        return [(name, []) for name in IMAGENET_CLASSNAMES]
    info = Path(spec.submodule_search_locations[0]) / "data" / "_info"
    lemmas = dict(line.split("\t", 1) for line in (info / "imagenet_synset_to_lemma.txt").read_text().splitlines())
    synsets = (info / "imagenet_synsets.txt").read_text().split()
    classes = []
    for name, synset in zip(IMAGENET_CLASSNAMES, synsets):
        others = [lemma.strip() for lemma in lemmas[synset].split(",") if lemma.strip().lower() != name.lower()]
        classes.append((name, others))
    return classes


def mean_phrase_embeddings(
    embed: Embed, names_per_row: Sequence[Sequence[str]], templates: Sequence[str]
) -> torch.Tensor:
    """Per row: the normalised mean embedding over its names x templates."""
    phrases = [template.format(name) for names in names_per_row for name in names for template in templates]
    vectors = embed(phrases).float().cpu()
    counts = [len(names) * len(templates) for names in names_per_row]
    means = torch.stack([chunk.mean(dim=0) for chunk in vectors.split(counts)])
    return torch.nn.functional.normalize(means, dim=-1)


def imagenet_class_embeddings(embed: Embed) -> torch.Tensor:
    """[1000, 384]. The clean name and the synonyms weigh equally (measured on the sample corpus:
    better than either alone)."""
    classes = imagenet_class_names()
    primary = mean_phrase_embeddings(embed, [[name] for name, _ in classes], CLASS_TEMPLATES)
    synonyms = mean_phrase_embeddings(embed, [others or [name] for name, others in classes], CLASS_TEMPLATES)
    return torch.nn.functional.normalize(primary + synonyms, dim=-1)


def bridge_heads(class_embeddings: torch.Tensor, feature_dim: int = 1280) -> Heads:
    """Image head = the bridge alone (no adapter); no audio head."""
    config = ImageHeadConfig(
        feature_dim=feature_dim, num_classes=class_embeddings.shape[0], dim=class_embeddings.shape[1], adapter="none"
    )
    head = ImageHead(config)
    head.class_embeddings.data.copy_(class_embeddings)
    return Heads(head.eval(), None, {"kind": "zero-training bridge"})
