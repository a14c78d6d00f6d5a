#!/usr/bin/env python3
"""Choose the audio head's recipe by k-fold cross-validation over the training caption groups.

    python scripts/select_recipe.py MANIFEST... --holdout samples/holdout-concepts.txt \
        --holdout-source opensfx --image-head src/xmodal/encoders/heads/xmodal-base.safetensors [--folds 5]

Only the training side of the split is used (train + val of `xmodal train`'s split with the same
flags); the held-out concepts and sources are never read, so the choice stays honest. Each recipe
(RECIPES below: overrides of `TrainConfig`) is trained on k-1 folds and scored on the k-th; the
table gives the mean R@10 per audio direction over folds, and their mean. Features come from the
same cache as `xmodal train`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

RECIPES: dict[str, dict] = {
    "bridge only (no training)": {"audio_adapter": "none", "epochs": 0},
    "default (linear residual, yamnet+aisfx)": {},
    "mlp residual": {"audio_adapter": "mlp"},
    "linear residual x0.5": {"audio_residual_scale": 0.5},
    "mlp residual x0.5": {"audio_adapter": "mlp", "audio_residual_scale": 0.5},
    "mlp residual x0.3": {"audio_adapter": "mlp", "audio_residual_scale": 0.3},
    "mlp residual, dropout 0.8, x0.5": {"audio_adapter": "mlp", "dropout": 0.8, "audio_residual_scale": 0.5},
    "linear residual, yamnet only": {"audio_towers": ("yamnet",)},
    "linear residual, lr x0.3": {"audio_lr_scale": 0.3},
    "linear residual, dropout 0.2": {"dropout": 0.2},
    "linear residual, dropout 0.8": {"dropout": 0.8},
    "mlp residual, lr x0.3": {"audio_adapter": "mlp", "audio_lr_scale": 0.3},
    "mlp residual, dropout 0.8": {"audio_adapter": "mlp", "dropout": 0.8},
    "linear residual + tuned class embeddings": {"train_class_embeddings": True},
    "no bridge (ridge start, yamnet+aisfx)": {"audio_init": "ridge"},
    "no bridge, aisfx only (0.2.0)": {"audio_init": "ridge", "audio_towers": ("aisfx",), "audio_lr_scale": 0.0},
}
AUDIO_DIRECTIONS = ("audio->text", "text->audio", "audio->image", "image->audio")


def fold_of(group: str, folds: int, seed: int) -> int:
    return int.from_bytes(hashlib.sha256(f"fold:{seed}:{group}".encode()).digest()[:8], "big") % folds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", nargs="+", type=Path)
    parser.add_argument("--holdout", type=Path)
    parser.add_argument("--holdout-source", action="append", default=[])
    parser.add_argument("--image-head", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--by-source", action="store_true", help="leave one data set out per fold (how a new source fares)"
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipes", help="comma-separated names (default: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from xmodal.device import pick_device
    from xmodal.encoders.xmodal_heads import load_heads
    from xmodal.training.bridge import audioset_class_embeddings
    from xmodal.training.data import embed_items, load_features
    from xmodal.training.evaluate import eval_items, score_system
    from xmodal.training.features import FeatureExtractor
    from xmodal.training.manifest import load_split
    from xmodal.training.trainer import TrainConfig, train_heads

    split = load_split(args.manifests, args.holdout, None, 0.15, 0.1, args.seed, args.holdout_source)
    pool = [record for record in split.train + split.val if record.audio]  # never the held-out sides
    image_head = load_heads(args.image_head).image
    extractor = FeatureExtractor(device=pick_device("auto"), seed=args.seed)
    base = TrainConfig(epochs=args.epochs, freeze_image=True, seed=args.seed)
    table = load_features(pool, extractor, base.image_views, base.audio_views)
    audio_classes = audioset_class_embeddings(extractor.texts)
    chosen = args.recipes.split(",") if args.recipes else list(RECIPES)
    if args.by_source:
        sources = sorted({record.source for record in pool})
        fold_names = sources

        def fold_index(record) -> int:
            return sources.index(record.source)
    else:
        fold_names = [str(fold) for fold in range(args.folds)]

        def fold_index(record) -> int:
            return fold_of(record.group, args.folds, args.seed)
    print(f"{len(pool)} training records with sounds, folds: {', '.join(fold_names)}", file=sys.stderr)

    rows = []
    for name in chosen:
        started = time.perf_counter()
        config = replace(base, **RECIPES[name])
        per_fold = []
        for fold in range(len(fold_names)):
            held = [r for r in pool if fold_index(r) == fold]
            held_groups = {r.group for r in held}
            train = [r for r in pool if fold_index(r) != fold and r.group not in held_groups]
            torch.manual_seed(args.seed)
            heads, _ = train_heads(config, train, [], table, None, audio_classes=audio_classes, image_head=image_head)
            items = eval_items(held)
            scores = score_system(items, embed_items(heads, items, table))
            per_fold.append([scores[d].r10 if d in scores else np.nan for d in AUDIO_DIRECTIONS])
        means = np.nanmean(np.array(per_fold), axis=0)
        rows.append((name, means, time.perf_counter() - started))
        print(f"  {name}: {np.round(means, 3).tolist()} ({rows[-1][2]:.0f} s)", file=sys.stderr)

    print(f"| recipe | {' | '.join(AUDIO_DIRECTIONS)} | mean |")
    print("|---|" + "---|" * (len(AUDIO_DIRECTIONS) + 1))
    for name, means, _ in rows:
        print(f"| {name} | " + " | ".join(f"{m:.3f}" for m in means) + f" | {np.mean(means):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
