"""Zero-training and closed-form heads that bind the image and audio towers to the MiniLM text space.

Image: each ImageNet class becomes the mean MiniLM embedding of a few phrasings of its name;
an image is then its (top-k) class probabilities times those embeddings. No training at all.
Audio: aiSFX has no class names, so there is no zero-training link; a ridge regression from
standardised aiSFX features to MiniLM caption embeddings is fitted on captioned sounds
(a JSONL manifest of {"audio": path, "text": caption, "concept": name}), with augmented crops.

    python -m xmodal.training.bridge --pairs PAIRS.jsonl [--holdout FILE] --out HEADS.safetensors
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from safetensors.torch import save_file

from xmodal.compat import ensure_imports
from xmodal.encoders import aisfx, load_audio
from xmodal.encoders.xmodal_base import load_text_tower

CLASS_TEMPLATES = ("{}", "a {}", "a photo of a {}", "a drawing of a {}")
CAPTION_TEMPLATES = ("{}", "the sound of {}", "{} sound")


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


def mean_phrase_embeddings(text_tower, names_per_row: Sequence[Sequence[str]], templates: Sequence[str]) -> torch.Tensor:
    """Per row: the normalised mean MiniLM embedding over its names x templates."""
    phrases = [template.format(name) for names in names_per_row for name in names for template in templates]
    vectors = text_tower.encode(phrases, batch_size=256, convert_to_tensor=True, normalize_embeddings=True).cpu()
    counts = [len(names) * len(templates) for names in names_per_row]
    means = torch.stack([chunk.mean(dim=0) for chunk in vectors.split(counts)])
    return torch.nn.functional.normalize(means, dim=-1)


def imagenet_class_embeddings(text_tower) -> torch.Tensor:
    """The clean name and the synonyms weigh equally (measured on the sample corpus: better
    than either alone)."""
    classes = imagenet_class_names()
    primary = mean_phrase_embeddings(text_tower, [[name] for name, _ in classes], CLASS_TEMPLATES)
    synonyms = mean_phrase_embeddings(text_tower, [others or [name] for name, others in classes], CLASS_TEMPLATES)
    return torch.nn.functional.normalize(primary + synonyms, dim=-1)


def caption_targets(text_tower, captions: Sequence[str]) -> torch.Tensor:
    """Mean embedding over phrasings, so the head learns the concept rather than one wording."""
    stripped = [[caption.rstrip(".").strip()] for caption in captions]
    return mean_phrase_embeddings(text_tower, stripped, CAPTION_TEMPLATES)


def augmented_waveforms(samples: np.ndarray, rate: int, copies: int, rng: np.random.Generator) -> list[torch.Tensor]:
    """The clip itself plus random crops with gain and a little noise."""
    waveform = aisfx_rate(torch.from_numpy(samples), rate)
    variants = [waveform]
    for _ in range(copies):
        length = len(waveform)
        crop = int(length * rng.uniform(0.5, 1.0))
        start = int(rng.integers(0, max(1, length - crop + 1)))
        piece = waveform[start : start + crop] * float(rng.uniform(0.3, 1.0))
        noise = torch.from_numpy(rng.standard_normal(len(piece)).astype(np.float32))
        variants.append(piece + float(rng.uniform(0, 0.01)) * noise)
    return variants


def aisfx_rate(samples: torch.Tensor, rate: int) -> torch.Tensor:
    ensure_imports()
    import torchaudio.functional

    return samples if rate == aisfx.SAMPLE_RATE else torchaudio.functional.resample(samples, rate, aisfx.SAMPLE_RATE)


def fit_ridge(features: torch.Tensor, targets: torch.Tensor, alpha: float) -> dict[str, torch.Tensor]:
    mean = features.mean(dim=0)
    scale = features.std(dim=0).clamp_min(1e-6)
    x = ((features - mean) / scale).double()
    y = targets.double()
    y_mean = y.mean(dim=0)
    gram = x.T @ x + alpha * torch.eye(x.shape[1], dtype=torch.float64)
    weight = torch.linalg.solve(gram, x.T @ (y - y_mean))
    return {"mean": mean.float(), "scale": scale.float(), "weight": weight.float(), "bias": y_mean.float()}


def read_pairs(path: Path, holdout: set[str]) -> list[dict]:
    pairs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [pair for pair in pairs if pair.get("audio") and pair.get("text") and pair.get("concept") not in holdout]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, required=True, help="JSONL of {audio, text, concept} pairs")
    parser.add_argument("--holdout", type=Path, help="concepts (one per line) to leave out of the audio fit")
    parser.add_argument("--out", type=Path, required=True, help="heads safetensors file to write")
    parser.add_argument("--alpha", type=float, default=10.0, help="ridge regularisation strength")
    parser.add_argument("--copies", type=int, default=0, help="augmented crops per sound")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = torch.device("cpu")
    text_tower = load_text_tower(device)
    heads = {"image.class_embeddings": imagenet_class_embeddings(text_tower)}

    holdout = set(args.holdout.read_text().split()) if args.holdout else set()
    pairs = read_pairs(args.pairs, holdout)
    net, frontend = aisfx.load_aisfx(), aisfx.AisfxFrontend()
    waveforms, captions = [], []
    for pair in pairs:
        clip = load_audio(pair["audio"], max_seconds=30.0)
        variants = augmented_waveforms(clip.samples, clip.sample_rate, args.copies, rng)
        waveforms += variants
        captions += [pair["text"]] * len(variants)
    features = aisfx.embed_waveforms(net, frontend, waveforms, device)
    targets = caption_targets(text_tower, captions)
    heads.update({f"audio.{name}": tensor for name, tensor in fit_ridge(features, targets, args.alpha).items()})

    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: tensor.float().contiguous() for name, tensor in heads.items()}, str(args.out))
    print(f"wrote {args.out}: image head over 1000 ImageNet classes; audio head fitted on {len(pairs)} sounds "
          f"({len(waveforms)} clips with augmentation), {len(holdout)} concepts held out")


if __name__ == "__main__":
    main()
