"""A tiny contrastive run on synthetic features: no real towers, a few seconds on a CPU."""

from __future__ import annotations

from dataclasses import replace
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


SOUND_CLASSES = 6  # the first features of a synthetic sound play YAMNet's class scores


def sound_classes(seed: int = 5) -> torch.Tensor:
    return F.normalize(torch.randn(SOUND_CLASSES, DIM, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_same_seed_same_heads() -> None:
    records, table = synthetic(16, seed=3)
    classes = F.normalize(torch.randn(CLASSES, DIM, generator=torch.Generator().manual_seed(4)), dim=-1)
    config = TrainConfig(epochs=3, batch_size=8, image_hidden=8, audio_hidden=8, seed=7)
    first, _ = train_heads(config, records, [], table, classes, audio_classes=sound_classes())
    second, _ = train_heads(config, records, [], table, classes, audio_classes=sound_classes())
    for a, b in ((first.image, second.image), (first.audio, second.audio)):
        for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
            assert torch.equal(x, y), name


def test_an_untrained_image_head_is_exactly_the_bridge() -> None:
    records, table = synthetic(4, seed=5)
    classes = F.normalize(torch.randn(CLASSES, DIM), dim=-1)
    heads, _ = train_heads(
        TrainConfig(epochs=0, image_hidden=8), records, [], table, classes, audio_classes=sound_classes()
    )
    features = torch.stack([table.image[r.image][0] for r in records])
    logits = table.classifier(features)
    expected = heads.image.bridge(logits)
    assert np.allclose(heads.image(features, logits).detach().numpy(), expected.detach().numpy())


def test_an_untrained_audio_head_is_exactly_the_yamnet_bridge() -> None:
    records, table = synthetic(4, seed=6)
    classes = F.normalize(torch.randn(CLASSES, DIM), dim=-1)
    heads, _ = train_heads(
        TrainConfig(epochs=0, audio_hidden=8), records, [], table, classes, audio_classes=sound_classes()
    )
    features = torch.stack([table.audio[r.audio][0] for r in records]).abs()
    expected = heads.audio.bridge(features)
    assert heads.audio.config.num_classes == SOUND_CLASSES
    assert np.allclose(heads.audio(features).detach().numpy(), expected.detach().numpy())
    # the bridge mixes the top-k classes' embeddings, weighted by their scores
    top = features[0, :SOUND_CLASSES].topk(min(heads.audio.config.top_k, SOUND_CLASSES))
    mixed = F.normalize(top.values @ sound_classes()[top.indices], dim=0)
    assert torch.allclose(expected[0], mixed, atol=1e-6)


def test_training_from_the_bridge_adds_what_it_lacks(tmp_path: Path) -> None:
    """The synthetic sounds' first features carry no caption information, so the bridge is near chance;
    the residual adapter must learn the rest."""
    torch.manual_seed(0)
    train, train_table = synthetic(48, seed=11)
    val, val_table = synthetic(24, seed=21)
    table = merged(train_table, val_table)
    classes = F.normalize(torch.randn(CLASSES, DIM), dim=-1)
    config = TrainConfig(
        epochs=25,
        batch_size=16,
        lr=3e-3,
        weight_decay=0.0,
        image_hidden=32,
        audio_adapter="mlp",
        audio_hidden=32,
        dropout=0.0,
        seed=0,
    )
    items = eval_items(val)
    start, _ = train_heads(replace(config, epochs=0), train, val, table, classes, audio_classes=sound_classes())
    heads, _ = train_heads(config, train, val, table, classes, audio_classes=sound_classes())
    before = score_system(items, embed_items(start, items, table))
    after = score_system(items, embed_items(heads, items, table))
    assert after["audio->text"].r5 > before["audio->text"].r5 + 0.2
    assert after["audio->text"].r5 >= 0.6


def test_a_frozen_image_head_stays_as_given() -> None:
    records, table = synthetic(16, seed=8)
    classes = F.normalize(torch.randn(CLASSES, DIM), dim=-1)
    given, _ = train_heads(
        TrainConfig(epochs=2, batch_size=8, image_hidden=8), records, [], table, classes, audio_classes=sound_classes()
    )
    before = {k: v.clone() for k, v in given.image.state_dict().items()}
    config = TrainConfig(epochs=3, batch_size=8, audio_hidden=8, freeze_image=True)
    heads, _ = train_heads(config, records, [], table, None, audio_classes=sound_classes(), image_head=given.image)
    assert all(torch.equal(before[k], v) for k, v in heads.image.state_dict().items())
    assert heads.audio is not None and not torch.equal(
        heads.audio.adapter[-1].weight, torch.zeros_like(heads.audio.adapter[-1].weight)
    )


def test_configs_that_cannot_work_are_refused() -> None:
    import pytest

    for bad in (
        {"audio_towers": ("aisfx", "yamnet")},  # the bridge reads YAMNet's scores first
        {"audio_towers": ("vggish",)},
        {"audio_adapter": "none", "audio_init": "ridge"},
        {"audio_init": "random", "audio_lr_scale": 0.0},
    ):
        with pytest.raises(ValueError):
            TrainConfig(**bad).validate()
