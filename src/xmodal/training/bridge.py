"""The zero-training bridge from EfficientNet's ImageNet classes to the MiniLM text space.

Each ImageNet class becomes the mean MiniLM embedding of a few phrasings of its name and its
WordNet synonyms; an image is then its (top-k) class probabilities times those embeddings. No
training at all: it is the image head's starting point and the baseline `xmodal eval` reports.
Sounds get the same bridge through YAMNet's 521 AudioSet classes (`audioset_class_embeddings`):
the audio head's starting point. The bridges alone are `xmodal train --epochs 0 --image-adapter none
--audio-adapter none`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable, Sequence

import torch

from xmodal.compat import ensure_imports
from xmodal.encoders.xmodal_heads import AudioHead, AudioHeadConfig, Heads, ImageHead, ImageHeadConfig

CLASS_TEMPLATES = ("{}", "a {}", "a photo of a {}", "a drawing of a {}")
SOUND_TEMPLATES = ("{}", "the sound of {}", "{} sound")
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


def audioset_class_embeddings(embed: Embed) -> torch.Tensor:
    """[521, 384]: each AudioSet class name ("Dog", "Bark", "Church bell") in sound phrasings.
    Names with alternatives ("Run, walk") count every alternative."""
    from xmodal.encoders import yamnet

    names = [[part.strip() for part in name.split(",") if part.strip()] for name in yamnet.class_names()]
    return mean_phrase_embeddings(embed, [[n.lower() for n in row] for row in names], SOUND_TEMPLATES)


def bridge_heads(
    image_classes: torch.Tensor | None, audio_classes: torch.Tensor | None = None, audio_feature_dim: int = 0
) -> Heads:
    """The bridges alone (no adapters): ImageNet classes for images, AudioSet classes for sounds
    (`audio_feature_dim`: the width of the cached audio features, YAMNet's scores first)."""
    image = audio = None
    if image_classes is not None:
        image = ImageHead(
            ImageHeadConfig(num_classes=image_classes.shape[0], dim=image_classes.shape[1], adapter="none")
        )
        image.class_embeddings.data.copy_(image_classes)
    if audio_classes is not None:
        audio = AudioHead(
            AudioHeadConfig(
                feature_dim=audio_feature_dim or audio_classes.shape[0],
                dim=audio_classes.shape[1],
                adapter="none",
                towers=("yamnet",),
                num_classes=audio_classes.shape[0],
            )
        )
        audio.class_embeddings.data.copy_(audio_classes)
    return Heads(image, audio, {"kind": "zero-training bridge"}).to(torch.device("cpu"))
