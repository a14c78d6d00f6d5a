#!/usr/bin/env python3
"""EfficientNet-Lite2 against Lite0 as the image tower: retrieval gained against encoding cost.

    python scripts/compare_image_towers.py MANIFEST... --holdout samples/holdout-concepts.txt \
        --holdout-source opensfx --holdout-source lucide [--views 2]

Selection side (decides): the image head trained on `xmodal train`'s training split and scored on
its validation split (the held-out concepts and sources are never read), text->image and
image->text R@10; `--by-source` scores leave-one-source-out over train + val instead (slow: one
training per source). Report side (after the choice, never used for it): the same heads scored
on the held-out concepts and sources. Cost: each tower's forward on ready [32, 3, S, S] tensors,
channels_last, timed alternately in one run. Features come from `xmodal train`'s cache.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

TOWERS = ("efficientnet-lite0", "efficientnet-lite2")
DIRECTIONS = ("text->image", "image->text")


def images_per_second(rounds: int = 6, batch: int = 32) -> dict[str, float]:
    from xmodal.encoders import efficientnet_lite

    models = {name: efficientnet_lite.load_efficientnet_lite(name) for name in TOWERS}
    timings: dict[str, list[float]] = {name: [] for name in TOWERS}
    for name, model in models.items():
        model.to(memory_format=torch.channels_last)
    with torch.inference_mode():
        for _ in range(rounds):  # alternate, so both see the same load on a shared machine
            for name, model in models.items():
                size = model.variant.image_size
                x = torch.randn(batch, 3, size, size).to(memory_format=torch.channels_last)
                started = time.perf_counter()
                model.features(x)
                timings[name].append(time.perf_counter() - started)
    return {name: batch / float(np.median(times[1:])) for name, times in timings.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", nargs="+", type=Path)
    parser.add_argument("--holdout", type=Path)
    parser.add_argument("--holdout-source", action="append", default=[])
    parser.add_argument("--views", type=int, default=2, help="image views per record (1: clean only)")
    parser.add_argument("--by-source", action="store_true", help="select by leaving one source out per fold")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from xmodal.training.bridge import imagenet_class_embeddings
    from xmodal.training.data import embed_items, load_features
    from xmodal.training.evaluate import eval_items, score_system
    from xmodal.training.features import FeatureExtractor
    from xmodal.training.manifest import load_split
    from xmodal.training.trainer import TrainConfig, train_heads

    split = load_split(args.manifests, args.holdout, None, 0.15, 0.1, args.seed, args.holdout_source)

    def images_only(records):  # the image head alone: captions and pictures, no sounds
        return [replace(record, audio=None) for record in records if record.image]

    pool = images_only(split.train + split.val)
    sources = sorted({record.source for record in pool})
    held = {"held-out concepts": images_only(split.test), "held-out sources": images_only(split.source)}
    config = TrainConfig(epochs=args.epochs, image_views=args.views, seed=args.seed)
    recipes = {"bridge": replace(config, image_adapter="none", epochs=0), "trained": config}
    print(f"{len(pool)} training-side image records, sources: {', '.join(sources)}", file=sys.stderr)

    selection: dict[tuple[str, str], np.ndarray] = {}
    report: dict[tuple[str, str, str], dict[str, float]] = {}
    for tower in TOWERS:
        extractor = FeatureExtractor(seed=args.seed, image_model=tower)
        table = load_features(pool + held["held-out concepts"] + held["held-out sources"], extractor, args.views, 1)
        classes = imagenet_class_embeddings(extractor.texts)
        for recipe, recipe_config in recipes.items():
            started = time.perf_counter()
            heads, _ = train_heads(recipe_config, images_only(split.train), [], table, classes)
            folds = [(heads, images_only(split.val))]
            for source in sources if args.by_source else ():
                scored = [r for r in pool if r.source == source]
                groups = {r.group for r in scored}
                train = [r for r in pool if r.source != source and r.group not in groups]
                folds.append((train_heads(recipe_config, train, [], table, classes)[0], scored))
            per_fold = []
            for fold_heads, scored in folds[1:] if args.by_source else folds:
                scores = score_system(eval_items(scored), embed_items(fold_heads, eval_items(scored), table))
                per_fold.append([scores[d].r10 for d in DIRECTIONS])
            selection[(tower, recipe)] = np.mean(per_fold, axis=0)
            for part, records in held.items():
                items = eval_items(records)
                scores = score_system(items, embed_items(heads, items, table))
                report[(tower, recipe, part)] = {d: scores[d].r10 for d in DIRECTIONS}
            print(
                f"  {tower} {recipe}: {np.round(selection[(tower, recipe)], 3).tolist()}"
                f" ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )

    speed = images_per_second()
    side = "leave one source out over train + val" if args.by_source else "validation split"
    print(f"Selection ({side}; training side only), R@10\n")
    print(f"| tower | head | {' | '.join(DIRECTIONS)} | mean | forward images/s |")
    print("|---|---|" + "---|" * (len(DIRECTIONS) + 2))
    for (tower, recipe), means in selection.items():
        cells = " | ".join(f"{m:.3f}" for m in means)
        print(f"| {tower} | {recipe} | {cells} | {means.mean():.3f} | {speed[tower]:.1f} |")
    print("\nReport: trained on the training split, scored on the held-out sides, R@10\n")
    print(f"| tower | head | part | {' | '.join(DIRECTIONS)} |")
    print("|---|---|---|" + "---|" * len(DIRECTIONS))
    for (tower, recipe, part), scores in report.items():
        print(f"| {tower} | {recipe} | {part} | " + " | ".join(f"{scores[d]:.3f}" for d in DIRECTIONS) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
