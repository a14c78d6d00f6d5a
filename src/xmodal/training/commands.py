"""`xmodal train` and `xmodal eval`: typer commands, registered by `xmodal.cli`."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err = Console(stderr=True)
MANIFESTS = typer.Argument(
    ..., help="JSONL pair manifests ({image|audio|text: ...} pairs; see xmodal.training.manifest)"
)
HOLDOUT = typer.Option(
    None, "--holdout", help="file of concepts (one per line) never trained on; they and their caption twins are test"
)
CATEGORY = typer.Option(None, "--holdout-category", help="a source category held out whole (its own evaluation set)")
SOURCES = typer.Option(
    None, "--holdout-source", help="a data set (a record's source) held out whole: the 'source' split; repeatable"
)
TEST_FRACTION = typer.Option(
    0.15, "--test-fraction", min=0.0, max=1.0, help="share of caption groups held out for testing"
)
VAL_FRACTION = typer.Option(
    0.1, "--val-fraction", min=0.0, max=1.0, help="share of caption groups for per-epoch validation"
)
SEED = typer.Option(0, "--seed", help="seed of the split, the augmented views and training")
DEVICE = typer.Option("auto", "--device", help="auto, cpu or cuda")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _extractor(device: str, seed: int, progress: Progress):
    from xmodal.device import pick_device
    from xmodal.training.features import FeatureExtractor

    def track(label: str, total: int):
        task = progress.add_task(f"features: {label}", total=total)
        return lambda n: progress.advance(task, n)

    return FeatureExtractor(device=pick_device(device), seed=seed, progress=track)


def _class_embeddings(extractor) -> "object":
    from xmodal.training.bridge import imagenet_class_embeddings

    return imagenet_class_embeddings(extractor.texts)


def _audio_class_embeddings(extractor) -> "object":
    from xmodal.training.bridge import audioset_class_embeddings

    return audioset_class_embeddings(extractor.texts)


def train(
    manifests: List[Path] = MANIFESTS,
    out: Path = typer.Option(..., "--out", help="heads file to write (safetensors)"),
    checkpoints: Optional[Path] = typer.Option(
        None,
        "--checkpoints",
        help="folder for best/last epoch checkpoints [default: $XMODAL_CACHE/runs/OUT-NAME/checkpoints]",
    ),
    holdout: Optional[Path] = HOLDOUT,
    holdout_category: Optional[str] = CATEGORY,
    holdout_source: Optional[List[str]] = SOURCES,
    test_fraction: float = TEST_FRACTION,
    val_fraction: float = VAL_FRACTION,
    epochs: int = typer.Option(
        30, "--epochs", min=0, help="passes over the image-text pairs (0: the closed-form start only)"
    ),
    batch_size: int = typer.Option(256, "--batch-size", min=2),
    lr: float = typer.Option(1e-3, "--lr", help="peak learning rate (one-cycle schedule)"),
    weight_decay: float = typer.Option(0.05, "--weight-decay"),
    temperature: float = typer.Option(0.07, "--temperature", help="initial softmax temperature"),
    fixed_temperature: bool = typer.Option(False, "--fixed-temperature", help="do not learn the temperature"),
    image_views: int = typer.Option(
        2, "--image-views", min=1, help="cached views per image: the clean one plus augmented ones"
    ),
    audio_views: int = typer.Option(
        8, "--audio-views", min=1, help="cached views per sound: the clean one plus augmented ones"
    ),
    image_adapter: str = typer.Option(
        "mlp", "--image-adapter", help="none (bridge only), linear or mlp, on the 1280-d features"
    ),
    image_hidden: int = typer.Option(512, "--image-hidden", min=1),
    image_head: Optional[Path] = typer.Option(
        None, "--image-head", help="keep this heads file's image head as it is and train the audio head only"
    ),
    audio_towers: str = typer.Option(
        "yamnet,aisfx", "--audio-towers", help="audio features, in order: yamnet and/or aisfx, comma-separated"
    ),
    audio_adapter: str = typer.Option(
        "linear", "--audio-adapter", help="none (the YAMNet bridge alone), linear or mlp, on the towers' features"
    ),
    audio_hidden: int = typer.Option(512, "--audio-hidden", min=1),
    audio_top_k: int = typer.Option(10, "--audio-top-k", min=1, help="AudioSet classes the bridge mixes"),
    audio_residual_scale: float = typer.Option(
        1.0, "--audio-residual-scale", min=0.0, max=1.0, help="shrink the trained audio residual towards the bridge"
    ),
    audio_init: str = typer.Option(
        "zero",
        "--audio-init",
        help="zero (the YAMNet bridge plus an adapter starting at zero), ridge (closed-form linear start, "
        "no bridge) or random (no bridge)",
    ),
    dropout: float = typer.Option(
        0.5, "--dropout", min=0.0, max=0.9, help="dropout in the adapters (and on their inputs)"
    ),
    audio_lr_scale: float = typer.Option(
        1.0,
        "--audio-lr-scale",
        min=0.0,
        help="audio head's learning rate relative to --lr; 0 keeps its start",
    ),
    train_class_embeddings: bool = typer.Option(
        False, "--train-class-embeddings", help="also tune the bridge's ImageNet class embeddings"
    ),
    no_caption_bank: bool = typer.Option(
        False, "--no-caption-bank", help="score media against the batch's captions only"
    ),
    seed: int = SEED,
    device: str = DEVICE,
) -> None:
    """Train the image and audio heads of xmodal-base contrastively on cached tower features.

    Towers stay frozen; their features are computed once and cached under
    $XMODAL_CACHE/features. The split is by caption group; validation recall is printed per epoch.
    """
    import torch

    from xmodal.encoders.xmodal_heads import load_heads, save_heads
    from xmodal.training.calibrate import fit_calibration
    from xmodal.training.data import embed_items, load_features
    from xmodal.training.evaluate import eval_items
    from xmodal.training.features import cache_root
    from xmodal.training.manifest import load_split
    from xmodal.training.trainer import TrainConfig, train_heads

    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        temperature=temperature,
        learn_temperature=not fixed_temperature,
        image_views=image_views,
        audio_views=audio_views,
        image_adapter=image_adapter,
        image_hidden=image_hidden,
        audio_towers=tuple(tower.strip() for tower in audio_towers.split(",") if tower.strip()),
        audio_adapter=audio_adapter,
        audio_hidden=audio_hidden,
        audio_top_k=audio_top_k,
        audio_residual_scale=audio_residual_scale,
        freeze_image=image_head is not None,
        dropout=dropout,
        train_class_embeddings=train_class_embeddings,
        audio_init=audio_init,
        audio_lr_scale=audio_lr_scale,
        caption_bank=not no_caption_bank,
        seed=seed,
    )
    started = time.perf_counter()
    torch.manual_seed(seed)
    try:
        config.validate()
        split = load_split(manifests, holdout, holdout_category, test_fraction, val_fraction, seed, holdout_source)
        frozen_image = load_heads(image_head).image if image_head else None
        if image_head and frozen_image is None:
            raise ValueError(f"{image_head} has no image head")
    except (OSError, ValueError) as error:
        err.print(f"xmodal: error: {error}", highlight=False)
        raise typer.Exit(2) from None
    if frozen_image is not None:  # only sounds train: image-text pairs would cost features and teach nothing
        split.train = [record for record in split.train if record.audio]
        split.val = [record for record in split.val if record.audio]
    err.print(f"split by caption group: {split.sizes()}", highlight=False)
    with _progress() as progress:
        extractor = _extractor(device, seed, progress)
        table = load_features(split.train + split.val, extractor, image_views, audio_views)
        classes = _class_embeddings(extractor) if table.image and frozen_image is None else None
        audio_classes = _audio_class_embeddings(extractor) if table.audio and config.audio_bridge else None
    for failure in extractor.failures[:20]:
        err.print(f"skipped {failure.path}: {failure.reason}", highlight=False, markup=False)
    featured = time.perf_counter()

    def report(log) -> None:
        val = "  ".join(f"{d} {s.r10:.2f}" for d, s in log.val.items())
        temps = "/".join(f"{t:.3f}" for t in log.temperatures.values())
        err.print(f"epoch {log.epoch:3d}  loss {log.loss:.3f}  T {temps}  val R@10: {val}", highlight=False)

    with _progress() as progress:
        task = progress.add_task("training (epochs)", total=epochs)

        def epoch_done(log) -> None:
            progress.advance(task)
            report(log)

        folder = checkpoints or cache_root().parent / "runs" / out.stem / "checkpoints"
        heads, history = train_heads(
            config,
            split.train,
            split.val,
            table,
            classes,
            folder,
            on_epoch=epoch_done,
            audio_classes=audio_classes,
            image_head=frozen_image,
        )
    fitted = split.train + split.val
    fitted_items = eval_items(fitted)
    calibration = fit_calibration(fitted_items, embed_items(heads, fitted_items, table))
    finished = time.perf_counter()
    best = (
        max(history, key=lambda log: log.val_r10) if history and history[0].val else (history[-1] if history else None)
    )
    metadata = {
        "recipe": json.dumps(asdict(config)),
        "data": json.dumps(
            [f"{path.parent.name}/{path.name}" for path in manifests]
        ),  # no local paths in a shipped file
        "split": json.dumps(
            {
                "holdout": str(holdout) if holdout else None,
                "holdout_category": holdout_category,
                "holdout_source": holdout_source or [],
                "image_head": image_head.name if image_head else None,
                "test_fraction": test_fraction,
                "val_fraction": val_fraction,
                "seed": seed,
                "sizes": split.sizes(),
            }
        ),
        "best_epoch": str(best.epoch if best else 0),
        "calibration": calibration.to_json(),
        "seconds": json.dumps({"features": round(featured - started, 1), "training": round(finished - featured, 1)}),
    }
    save_heads(out, heads.image, heads.audio, metadata)
    typer.echo(
        f"wrote {out} (best epoch {metadata['best_epoch']}; "
        f"features {featured - started:.0f} s, training {finished - featured:.0f} s)"
    )


def evaluate(
    manifests: List[Path] = MANIFESTS,
    heads: Optional[Path] = typer.Option(
        None, "--heads", help="xmodal-base heads file to evaluate [default: the shipped heads]"
    ),
    model: Optional[str] = typer.Option(
        None, "--model", help="evaluate another model (e.g. open_clip:ARCH@FILE) through the encoder contract"
    ),
    compare: Optional[List[str]] = typer.Option(
        None, "--compare", help="NAME=HEADS.safetensors: another heads file as an extra column; repeatable"
    ),
    split: str = typer.Option(
        "all", "--split", help="which records to evaluate: all, train, val, test, category or source"
    ),
    holdout: Optional[Path] = HOLDOUT,
    holdout_category: Optional[str] = CATEGORY,
    holdout_source: Optional[List[str]] = SOURCES,
    test_fraction: float = TEST_FRACTION,
    val_fraction: float = VAL_FRACTION,
    seed: int = SEED,
    out: Path = typer.Option(Path("eval"), "--out", help="folder for NAME.json and NAME.md"),
    name: Optional[str] = typer.Option(None, "--name", help="report file name [default: the split]"),
    device: str = DEVICE,
) -> None:
    """Recall@1/5/10 and mAP per direction, side by side with random and the zero-training bridge.

    Writes JSON and a Markdown table. Use the split flags of `xmodal train` to score its held-out
    concepts (--split test) or its held-out category (--split category).
    """
    from xmodal.encoders.registry import resolve_spec
    from xmodal.encoders.xmodal_base import heads_path
    from xmodal.encoders.xmodal_heads import load_heads
    from xmodal.training.bridge import bridge_heads
    from xmodal.training.data import embed_items, load_features
    from xmodal.training.evaluate import build_report, eval_items, fell_back, report_markdown, write_report
    from xmodal.training.manifest import SPLITS, load_split

    if split not in ("all", *SPLITS):
        err.print(f"xmodal: error: unknown split {split!r}; choose one of: all, {', '.join(SPLITS)}")
        raise typer.Exit(2)
    try:
        parts = load_split(manifests, holdout, holdout_category, test_fraction, val_fraction, seed, holdout_source)
        records = [r for name in SPLITS for r in getattr(parts, name)] if split == "all" else getattr(parts, split)
        systems_heads = {
            name_: load_heads(Path(path_)) for name_, _, path_ in (item.partition("=") for item in compare or [])
        }
        evaluated = None if model else load_heads(heads or heads_path(resolve_spec("xmodal-base")))
    except (OSError, ValueError) as error:
        err.print(f"xmodal: error: {error}", highlight=False)
        raise typer.Exit(2) from None
    if not records:
        err.print(f"xmodal: error: the {split!r} split is empty")
        raise typer.Exit(2)
    items = eval_items(records)
    with _progress() as progress:
        extractor = _extractor(device, seed, progress)
        table = load_features(records, extractor, 1, 1)
        bridges = bridge_heads(
            _class_embeddings(extractor) if table.image else None,
            _audio_class_embeddings(extractor) if table.audio else None,
        )
        systems = {"bridges (zero-training)": embed_items(bridges, items, table)}
        for label, other in systems_heads.items():
            systems[label] = embed_items(other, items, table)
        systems["model" if model is None else model] = (
            _encoder_embeddings(model, items, device) if model else embed_items(evaluated, items, table)
        )
    for failure in extractor.failures[:20]:
        err.print(f"skipped {failure.path}: {failure.reason}", highlight=False, markup=False)
    report = build_report(items, systems)
    notes = fell_back(report, systems)
    context = {
        "manifests": [str(p) for p in manifests],
        "split": split,
        "records": len(records),
        "model": model or str(heads or "xmodal-base (shipped heads)"),
        "seed": seed,
        "holdout": str(holdout) if holdout else None,
        "holdout_category": holdout_category,
        "holdout_source": holdout_source or [],
        "scored_as_random": {k: v for k, v in notes.items() if v},
    }
    json_path, md_path = write_report(report, out, name or split, context, notes)
    typer.echo(report_markdown(report, notes))
    typer.echo(f"wrote {json_path} and {md_path}")


def _encoder_embeddings(spec: str, items, device: str):
    """Any registry model through the Encoder contract (decoding media itself; nothing cached)."""
    import numpy as np

    from xmodal.config import Settings
    from xmodal.device import pick_device
    from xmodal.encoders import MediaError, load_audio, load_image, load_model

    settings = Settings()
    encoder = load_model(spec, pick_device(device))
    out = {}
    for modality in encoder.info.modalities:
        keys = items.keys.get(modality, [])
        if not keys:
            continue
        vectors = np.full((len(keys), encoder.info.dim), np.nan, dtype=np.float32)
        for index, key in enumerate(keys):
            try:
                value = (
                    key
                    if modality == "text"
                    else (
                        load_image(key, settings.max_image_pixels)
                        if modality == "image"
                        else load_audio(key, settings.max_audio_seconds)
                    )
                )
            except (MediaError, OSError) as error:
                err.print(f"skipped {key}: {error}", highlight=False, markup=False)
                continue
            vectors[index] = encoder.encode(modality, [value])[0]
        out[modality] = vectors
    return out
