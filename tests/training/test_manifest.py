"""Pair manifests, concept-level splits, the feature bank and the CLI's help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from xmodal.training.features import FeatureBank
from xmodal.training.manifest import Record, caption_key, read_manifest, split_records


def test_manifest_lines_are_pairs_with_paths_relative_to_the_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "pairs.jsonl"
    lines = [
        {"image": "a.png", "text": "A dog."},
        {"audio": "/abs/bark.ogg", "text": "Barking"},
        {"image": "b.png", "audio": "b.ogg", "concept": "c", "category": "x", "texts": ["other"], "source": "scratch"},
    ]
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    first, second, third = read_manifest(manifest)
    assert (first.image, first.concept, first.group) == (tmp_path / "a.png", "dog", "dog")
    assert second.audio == Path("/abs/bark.ogg")
    assert (third.concept, third.category, third.texts, third.group) == ("c", "x", ("other",), "c")
    assert (first.source, third.source) == ("", "scratch")


def test_a_line_that_is_not_a_pair_names_its_line(tmp_path: Path) -> None:
    manifest = tmp_path / "bad.jsonl"
    manifest.write_text('{"image": "a.png", "text": "A dog."}\n{"text": "alone"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2: a pair needs two"):
        read_manifest(manifest)


def test_split_keeps_twins_together_and_holds_out_concepts_and_a_category() -> None:
    assert caption_key("A dog.") == caption_key("dog") == "dog"
    records = [Record(f"c{i}", "animals", f"Thing number {i}.", image=Path(f"{i}.png")) for i in range(200)]
    records += [
        Record("dog", "animals", "A dog."),
        Record("dog-2", "animals", "Dog"),
        Record("mug", "household", "A mug."),
        Record("mug-2", "kitchen", "mug"),
    ]
    split = split_records(
        records, holdout_concepts={"dog"}, holdout_category="household", test_fraction=0.2, val_fraction=0.1
    )
    assert {r.concept for r in split.test} >= {"dog", "dog-2"}
    assert [r.concept for r in split.category] == ["mug"]
    everywhere = [r.concept for part in (split.train, split.val, split.test, split.category) for r in part]
    assert "mug-2" not in everywhere  # a twin of the held-out category is neither trained on nor scored
    assert 20 < len(split.test) < 70 and 5 < len(split.val) < 40
    again = split_records(
        records, holdout_concepts={"dog"}, holdout_category="household", test_fraction=0.2, val_fraction=0.1
    )
    assert [r.concept for r in again.train] == [r.concept for r in split.train]


def test_feature_bank_round_trip(tmp_path: Path) -> None:
    bank = FeatureBank(tmp_path / "bank.safetensors")
    bank.put(-5, torch.arange(3.0))
    bank.put(2**62, torch.ones(3))
    bank.save()
    again = FeatureBank(tmp_path / "bank.safetensors")
    assert torch.equal(again.get(-5), torch.arange(3.0)) and torch.equal(again.get(2**62), torch.ones(3))
    assert again.get(7) is None


@pytest.mark.parametrize("command", ["train", "eval"])
def test_cli_commands_have_help(command: str) -> None:
    from xmodal.cli import app

    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--holdout-category" in result.output and "--seed" in result.output


def test_a_held_out_source_trains_nowhere_and_is_its_own_split() -> None:
    records = [
        Record("a/dog", text="A dog.", source="tuxpaint"),
        Record("b/dog", text="a dog", source="opensfx"),  # same caption group as the Tux Paint dog
        Record("b/rain", text="Rain.", source="opensfx"),
        Record("a/cat", text="A cat.", source="tuxpaint"),
    ]
    split = split_records(records, test_fraction=0.0, val_fraction=0.0, holdout_sources={"opensfx"})
    assert [r.concept for r in split.source] == ["b/dog", "b/rain"]
    assert [r.concept for r in split.train] == ["a/cat"]  # the dog's twin is neither trained on nor scored
    assert split.sizes()["source"] == 2
