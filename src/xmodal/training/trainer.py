"""Contrastive training of the image and audio heads against the frozen MiniLM text space.

Each step draws image-text, audio-text and image-audio pairs, each item as a random cached
view and each caption as a random phrasing. The text space is the anchor (as ImageBind binds
every modality to its image space): media queries are scored against *every* training caption
(the text tower is frozen, so the whole caption bank costs nothing), captions against the
media of the batch; image-audio pairs bind the two heads to each other directly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from xmodal.encoders.xmodal_heads import AudioHead, AudioHeadConfig, Heads, ImageHead, ImageHeadConfig, save_heads
from xmodal.training.data import TABLE_AUDIO_TOWERS, FeatureTable, embed_items, phrasings, select_audio_towers
from xmodal.training.evaluate import eval_items, score_system
from xmodal.training.loss import ContrastiveLoss
from xmodal.training.manifest import Record
from xmodal.training.metrics import Scores


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.05
    temperature: float = 0.07
    learn_temperature: bool = True
    image_views: int = 2
    audio_views: int = 8
    image_adapter: str = "mlp"
    image_hidden: int = 512
    audio_towers: tuple[str, ...] = ("yamnet", "aisfx")
    audio_adapter: str = "linear"
    audio_hidden: int = 512
    audio_top_k: int = 10
    dropout: float = 0.5
    train_class_embeddings: bool = False
    # zero: the YAMNet bridge plus an adapter that starts at zero (needs "yamnet" first in audio_towers);
    # ridge: closed-form linear start (no bridge); random: a plain adapter (no bridge)
    audio_init: str = "zero"
    ridge_alpha: float = 10.0
    audio_lr_scale: float = 1.0  # the audio head's learning rate relative to --lr (0: keep its start)
    freeze_image: bool = False  # keep a given image head as it is and train the audio head only
    # the trained audio residual is shrunk by this factor at the end (1: as trained): between the
    # bridge, which knows every AudioSet class, and the residual, which knows the training sources
    audio_residual_scale: float = 1.0
    caption_bank: bool = True
    weight_image_text: float = 1.0
    weight_audio_text: float = 1.0
    weight_image_audio: float = 0.5
    seed: int = 0


    def validate(self) -> None:
        choices = {
            "image_adapter": ("none", "linear", "mlp"),
            "audio_adapter": ("none", "linear", "mlp"),
            "audio_init": ("zero", "ridge", "random"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"unknown {name.replace('_', '-')} {getattr(self, name)!r}; choose one of: {', '.join(allowed)}"
                )
        unknown = [tower for tower in self.audio_towers if tower not in ("yamnet", "aisfx")]
        if unknown or not self.audio_towers or len(set(self.audio_towers)) != len(self.audio_towers):
            raise ValueError(f"audio towers {','.join(self.audio_towers)!r}: give yamnet and/or aisfx, once each")
        if self.audio_init == "zero" and self.audio_towers[0] != "yamnet":
            raise ValueError("--audio-init zero starts at the YAMNet bridge: list yamnet first in --audio-towers")
        if self.audio_init != "zero" and self.audio_adapter == "none":
            raise ValueError("--audio-adapter none is the YAMNet bridge alone: it needs --audio-init zero")
        if self.audio_lr_scale <= 0 and self.audio_init == "random":
            raise ValueError(
                "an audio head that starts random must train: give --audio-lr-scale > 0, or --audio-init zero/ridge"
            )

    @property
    def audio_bridge(self) -> bool:
        return self.audio_init == "zero"


@dataclass
class EpochLog:
    epoch: int
    loss: float
    temperatures: dict[str, float]
    val: dict[str, Scores]

    @property
    def val_r10(self) -> float:
        """Mean validation R@10 over directions, weighted by their queries: a direction with a
        handful of queries (few sounds) is noise and must not pick the epoch."""
        if not self.val:
            return float("nan")
        weights = np.array([s.queries for s in self.val.values()], dtype=np.float64)
        return float(np.average([s.r10 for s in self.val.values()], weights=weights)) if weights.sum() else float("nan")


@dataclass
class _Pairs:
    """Training rows of one pair type: record indices into the table's features."""

    media_a: list[Tensor] = field(default_factory=list)  # [views, dim] per row
    media_b: list[Tensor] = field(default_factory=list)
    phrases: list[Tensor] = field(default_factory=list)  # [phrasings, 384] per row
    groups: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.groups)


def _rows(records: Sequence[Record], table: FeatureTable, group_ids: dict[str, int], a: str, b: str) -> _Pairs:
    rows = _Pairs()
    for record in records:
        feats = []
        for modality in (a, b):
            if modality == "text":
                vectors = [table.text[p] for p in phrasings(record, a if b == "text" else b) if p in table.text]
                feats.append(torch.stack(vectors) if record.text and vectors else None)
            else:
                path = getattr(record, modality)
                feats.append(getattr(table, modality).get(path) if path else None)
        if all(f is not None for f in feats):
            rows.media_a.append(feats[0])
            (rows.phrases if b == "text" else rows.media_b).append(feats[1])
            rows.groups.append(group_ids[record.group])
    return rows


def _pick(rows: list[Tensor], index: Sequence[int], rng: random.Random) -> Tensor:
    return torch.stack([rows[i][rng.randrange(rows[i].shape[0])] for i in index])


def build_heads(
    config: TrainConfig,
    train: Sequence[Record],
    table: FeatureTable,
    class_embeddings: Tensor | None,
    audio_classes: Tensor | None = None,
    image_head: ImageHead | None = None,
) -> tuple[ImageHead | None, AudioHead | None]:
    """New heads at their starting points; `image_head` (with config.freeze_image) is kept as given."""
    image = audio = None
    images = [table.image[r.image][0] for r in train if r.image in table.image]
    if config.freeze_image:
        if image_head is None:
            raise ValueError("freezing the image head needs one: give --image-head HEADS.safetensors")
        image = image_head.eval().requires_grad_(False)
    elif images and class_embeddings is not None:
        image = ImageHead(
            ImageHeadConfig(
                feature_dim=images[0].shape[0],
                num_classes=class_embeddings.shape[0],
                dim=class_embeddings.shape[1],
                adapter=config.image_adapter,
                hidden=config.image_hidden,
                dropout=config.dropout,
            )
        )  # type: ignore[arg-type]
        image.class_embeddings.data.copy_(class_embeddings)
        image.class_embeddings.requires_grad_(config.train_class_embeddings)
        image.standardise.fit(torch.stack(images))
    sounds = [table.audio[r.audio] for r in train if r.audio in table.audio]
    if sounds:
        dim = next(iter(table.text.values())).shape[0]
        if config.audio_bridge and audio_classes is None:
            raise ValueError("the YAMNet bridge needs the AudioSet class embeddings")
        audio = AudioHead(
            AudioHeadConfig(
                feature_dim=sounds[0].shape[1],
                dim=dim,
                adapter=config.audio_adapter,  # type: ignore[arg-type]
                hidden=config.audio_hidden,
                dropout=config.dropout,
                towers=tuple(config.audio_towers),  # type: ignore[arg-type]
                num_classes=audio_classes.shape[0] if config.audio_bridge else 0,
                top_k=config.audio_top_k,
            )
        )
        if audio.class_embeddings is not None:
            audio.class_embeddings.data.copy_(audio_classes)
            audio.class_embeddings.requires_grad_(config.train_class_embeddings)
        audio.standardise.fit(torch.cat(sounds))
        if config.audio_init == "ridge" and config.audio_adapter == "linear":
            _ridge_init(audio, train, table, config.ridge_alpha)
    return image, audio


def _ridge_init(head: AudioHead, train: Sequence[Record], table: FeatureTable, alpha: float) -> None:
    """Closed-form start: ridge regression from standardised features to the mean caption embedding."""
    xs, ys = [], []
    for record in train:
        if record.audio in table.audio and record.text:
            target = F.normalize(
                torch.stack([table.text[p] for p in phrasings(record, "audio") if p in table.text]).mean(0), dim=0
            )
            views = table.audio[record.audio]
            xs.append(head.standardise(views))
            ys.append(target.expand(views.shape[0], -1))
    x, y = torch.cat(xs).double(), torch.cat(ys).double()
    y_mean = y.mean(0)
    weight = torch.linalg.solve(x.T @ x + alpha * torch.eye(x.shape[1], dtype=x.dtype), x.T @ (y - y_mean))
    linear = head.adapter[-1]
    linear.weight.data.copy_(weight.T.float())
    linear.bias.data.copy_(y_mean.float())


def train_heads(
    config: TrainConfig,
    train: Sequence[Record],
    val: Sequence[Record],
    table: FeatureTable,
    class_embeddings: Tensor | None,
    checkpoints: Path | None = None,
    on_step: Callable[[], None] | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    audio_classes: Tensor | None = None,
    image_head: ImageHead | None = None,
) -> tuple[Heads, list[EpochLog]]:
    config.validate()
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    if table.audio and tuple(config.audio_towers) != TABLE_AUDIO_TOWERS:
        table = replace(
            table, audio={path: select_audio_towers(v, config.audio_towers) for path, v in table.audio.items()}
        )
    group_ids = {group: i for i, group in enumerate(dict.fromkeys(r.group for r in train))}
    image, audio = build_heads(config, train, table, class_embeddings, audio_classes, image_head)
    image_text = _rows(train, table, group_ids, "image", "text") if image and not config.freeze_image else _Pairs()
    audio_text = _rows(train, table, group_ids, "audio", "text") if audio else _Pairs()
    image_audio = _rows(train, table, group_ids, "image", "audio") if image and audio else _Pairs()
    bank = _caption_bank(train, table, group_ids)
    losses = {
        name: ContrastiveLoss(config.temperature, learnable=config.learn_temperature)
        for name in ("image_text", "audio_text", "image_audio")
    }
    groups = [
        {
            "params": [
                p for m in (image, *losses.values()) if m is not None for p in m.parameters() if p.requires_grad
            ],
            "lr": config.lr,
        },
        {
            "params": [p for p in audio.parameters() if p.requires_grad] if audio is not None else [],
            "lr": config.lr * config.audio_lr_scale,
        },
    ]
    groups = [group for group in groups if group["params"] and group["lr"] > 0]
    optimiser = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay) if groups else None
    steps = max(1, math.ceil(max(len(image_text), len(audio_text)) / config.batch_size))
    peaks = [group["lr"] for group in groups]
    scheduler = (
        torch.optim.lr_scheduler.OneCycleLR(optimiser, peaks, total_steps=max(1, steps * config.epochs), pct_start=0.1)
        if optimiser and config.epochs
        else None
    )
    val_items = eval_items(val)
    history: list[EpochLog] = []
    best: tuple[float, dict] | None = None
    for epoch in range(1, config.epochs + 1):
        _set_train(None if config.freeze_image else image, audio, True)
        order = {
            name: _epoch_order(len(rows), steps, config.batch_size, rng)
            for name, rows in (("image_text", image_text), ("audio_text", audio_text), ("image_audio", image_audio))
        }
        total = 0.0
        for step in range(steps):
            loss = image.class_embeddings.new_zeros(()) if image else torch.zeros(())
            if len(image_text):
                loss = loss + config.weight_image_text * _media_text_loss(
                    lambda f: image(f, table.image_logits(f)),
                    image_text,
                    order["image_text"][step],
                    bank,
                    losses["image_text"],
                    config,
                    rng,
                )
            if len(audio_text):
                loss = loss + config.weight_audio_text * _media_text_loss(
                    audio, audio_text, order["audio_text"][step], bank, losses["audio_text"], config, rng
                )
            if len(image_audio) > 1 and config.weight_image_audio:
                loss = loss + config.weight_image_audio * _image_audio_loss(
                    image, audio, table, image_audio, order["image_audio"][step], losses["image_audio"], rng
                )
            if optimiser and loss.requires_grad:
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                scheduler.step()
            total += float(loss.detach())
            if on_step:
                on_step()
        heads = Heads(image, audio, {})
        log = EpochLog(
            epoch,
            total / steps,
            {name: loss.temperature for name, loss in losses.items()},
            score_system(val_items, embed_items(heads, val_items, table)) if val else {},
        )
        history.append(log)
        if best is None or not (log.val_r10 <= best[0]):  # NaN (no validation) keeps the last epoch
            best = (log.val_r10, _snapshot(image, audio))
            if checkpoints:
                save_heads(checkpoints / "best.safetensors", image, audio, {"epoch": str(epoch)})
        if checkpoints:
            save_heads(checkpoints / "last.safetensors", image, audio, {"epoch": str(epoch)})
        if on_epoch:
            on_epoch(log)
    if best is not None:
        _restore(image, audio, best[1])
    if audio is not None and audio.class_embeddings is not None and audio.adapter is not None:
        with torch.no_grad():
            audio.adapter[-1].weight.mul_(config.audio_residual_scale)
            audio.adapter[-1].bias.mul_(config.audio_residual_scale)
    _set_train(image, audio, False)
    return Heads(image, audio, {}), history


def _caption_bank(
    train: Sequence[Record], table: FeatureTable, group_ids: dict[str, int]
) -> tuple[list[Tensor], Tensor]:
    """Per training group, every phrasing of its captions (for both media)."""
    by_group: dict[int, list[Tensor]] = {}
    for record in train:
        if record.text:
            for modality in ("image", "audio"):
                by_group.setdefault(group_ids[record.group], []).extend(
                    table.text[p] for p in phrasings(record, modality) if p in table.text
                )
    groups = sorted(by_group)
    return [torch.stack(by_group[g]) for g in groups], torch.tensor(groups)


def _epoch_order(count: int, steps: int, batch: int, rng: random.Random) -> list[list[int]]:
    """`steps` batches of at most `batch` rows; smaller sets are cycled so every step has pairs."""
    if not count:
        return [[] for _ in range(steps)]
    size = min(batch, count)
    stream: list[int] = []
    while len(stream) < steps * size:
        chunk = list(range(count))
        rng.shuffle(chunk)
        stream += chunk
    return [stream[i * size : (i + 1) * size] for i in range(steps)]


def _media_text_loss(
    head, rows: _Pairs, index: list[int], bank, loss: ContrastiveLoss, config: TrainConfig, rng: random.Random
) -> Tensor:
    media = F.normalize(head(_pick(rows.media_a, index, rng)), dim=-1)
    texts = F.normalize(_pick(rows.phrases, index, rng), dim=-1)
    groups = torch.tensor([rows.groups[i] for i in index])
    if not config.caption_bank:
        return loss(media, texts, groups, groups)
    phrases, bank_groups = bank
    captions = F.normalize(_pick(phrases, range(len(phrases)), rng), dim=-1)
    return (
        loss(media, captions, groups, bank_groups, symmetric=False)
        + loss(texts, media, groups, groups, symmetric=False)
    ) / 2


def _image_audio_loss(
    image: ImageHead,
    audio: AudioHead,
    table: FeatureTable,
    rows: _Pairs,
    index: list[int],
    loss: ContrastiveLoss,
    rng: random.Random,
) -> Tensor:
    features = _pick(rows.media_a, index, rng)
    images = F.normalize(image(features, table.image_logits(features)), dim=-1)
    sounds = F.normalize(audio(_pick(rows.media_b, index, rng)), dim=-1)
    groups = torch.tensor([rows.groups[i] for i in index])
    return loss(images, sounds, groups, groups)


def _set_train(image, audio, mode: bool) -> None:
    for head in (image, audio):
        if head is not None:
            head.train(mode)


def _snapshot(image, audio) -> dict:
    return {
        name: {k: v.detach().clone() for k, v in head.state_dict().items()}
        for name, head in (("image", image), ("audio", audio))
        if head is not None
    }


def _restore(image, audio, state: dict) -> None:
    for name, head in (("image", image), ("audio", audio)):
        if head is not None:
            head.load_state_dict(state[name])
