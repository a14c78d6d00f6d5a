"""A tiny contrastive run on synthetic features: no real towers, a few seconds on a CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from xmodal.encoders.xmodal_heads import load_heads
from xmodal.training.data import FeatureTable, embed_items
from xmodal.training.evaluate import eval_items, score_system
from xmodal.training.manifest import Record
from xmodal.training.trainer import TrainConfig, train_heads

DIM, IMAGE_DIM, AUDIO_DIM, CLASSES = 16, 24, 12, 10


def synthetic(concepts: int, seed: int) -> tuple[list[Record], FeatureTable]:
    """Each concept: a caption vector; its image and sound features are fixed linear maps of it plus noise."""
    generator = torch.Generator().manual_seed(seed)
    to_image = torch.randn(DIM, IMAGE_DIM, generator=torch.Generator().manual_seed(1))
    to_audio = torch.randn(DIM, AUDIO_DIM, generator=torch.Generator().manual_seed(2))
    table = FeatureTable(classifier=torch.nn.Linear(IMAGE_DIM, CLASSES).requires_grad_(False))
    records = []
    for i in range(concepts):
        caption = f"concept {seed}-{i}"
        text = F.normalize(torch.randn(DIM, generator=generator), dim=0)
        table.text[caption] = text
        image, sound = Path(f"{caption}.png"), Path(f"{caption}.wav")
        table.image[image] = text @ to_image + 0.3 * torch.randn(3, IMAGE_DIM, generator=generator)
        table.audio[sound] = text @ to_audio + 0.3 * torch.randn(4, AUDIO_DIM, generator=generator)
        records.append(Record(caption, text=caption, image=image, audio=sound))
    return records, table


def merged(*tables: FeatureTable) -> FeatureTable:
    out = FeatureTable(classifier=tables[0].classifier)
    for table in tables:
        out.text.update(table.text)
        out.image.update(table.image)
        out.audio.update(table.audio)
    return out


def test_tiny_run_lowers_the_loss_and_raises_recall(tmp_path: Path) -> None:
    torch.manual_seed(0)
    train, train_table = synthetic(48, seed=10)
    val, val_table = synthetic(24, seed=20)
    table = merged(train_table, val_table)
    classes = F.normalize(torch.randn(CLASSES, DIM), dim=-1)
    config = TrainConfig(
        epochs=25,
        batch_size=16,
        lr=3e-3,
        weight_decay=0.0,
        image_adapter="mlp",
        image_hidden=32,
        audio_adapter="mlp",
        audio_init="random",
        audio_lr_scale=1.0,
        audio_hidden=32,
        dropout=0.0,
        seed=0,
    )
    start, _ = train_heads(TrainConfig(**{**config.__dict__, "epochs": 0}), train, val, table, classes)
    items = eval_items(val)
    before = score_system(items, embed_items(start, items, table))
    heads, history = train_heads(config, train, val, table, classes, checkpoints=tmp_path)
    after = score_system(items, embed_items(heads, items, table))

    assert history[-1].loss < 0.7 * history[0].loss
    for direction in ("text->image", "image->text", "audio->text", "text->audio", "image->audio", "audio->image"):
        assert after[direction].r5 > before[direction].r5 + 0.2, direction
        assert after[direction].r5 >= 0.6, direction  # chance: 5/24
    reloaded = load_heads(tmp_path / "best.safetensors")
    again = score_system(items, embed_items(reloaded, items, table))
    assert again["text->image"] == after["text->image"]


def test_same_seed_same_heads() -> None:
    records, table = synthetic(16, seed=3)
    classes = F.normalize(torch.randn(CLASSES, DIM, generator=torch.Generator().manual_seed(4)), dim=-1)
    config = TrainConfig(epochs=3, batch_size=8, image_hidden=8, audio_hidden=8, seed=7)
    first, _ = train_heads(config, records, [], table, classes)
    second, _ = train_heads(config, records, [], table, classes)
    for a, b in ((first.image, second.image), (first.audio, second.audio)):
        for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
            assert torch.equal(x, y), name


def test_an_untrained_image_head_is_exactly_the_bridge() -> None:
    records, table = synthetic(4, seed=5)
    classes = F.normalize(torch.randn(CLASSES, DIM), dim=-1)
    heads, _ = train_heads(TrainConfig(epochs=0, image_hidden=8), records, [], table, classes)
    features = torch.stack([table.image[r.image][0] for r in records])
    logits = table.classifier(features)
    expected = heads.image.bridge(logits)
    assert np.allclose(heads.image(features, logits).detach().numpy(), expected.detach().numpy())
