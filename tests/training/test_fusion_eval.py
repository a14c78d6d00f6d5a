"""The items-with-parts evaluation runs end to end through the index job and the searcher (fake encoder)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import solid, tone
from tests.fakes import FakeEncoder
from xmodal.training.fusion_eval import markdown, run


def test_recall_of_fused_and_single_parts(tmp_path: Path) -> None:
    rows = []
    for name, colour, hz, caption in (
        ("ember", (250, 10, 10), 220, "A red low glow."),
        ("sea", (10, 10, 250), 3000, "A blue high wave."),
        ("moss", (10, 240, 10), 3000, "A green high leaf."),
    ):
        solid(tmp_path / f"{name}.png", colour)
        tone(tmp_path / f"{name}.wav", hz)
        rows.append({"name": name, "concept": f"c/{name}", "image": f"{name}.png", "audio": f"{name}.wav",
                     "caption": caption})
    solid(tmp_path / "rock.png", (240, 20, 20))
    rows.append({"name": "rock", "concept": "c/rock", "image": "rock.png", "caption": "A red rock."})  # a distractor
    rows.append({"name": "skip", "concept": "c/skip", "image": "sea.png", "audio": "sea.wav", "caption": "x"})
    manifest = tmp_path / "concepts.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    holdout = {"c/ember", "c/sea", "c/moss", "c/rock"}
    report = run(manifest, holdout, None, tmp_path / "stores", encoder=FakeEncoder())
    assert (report["queries"], report["items"]) == (3, 4)
    media = report["settings"]["media"]
    assert set(media) == {"late fusion (sum)", "late fusion (max)", "early fusion", "picture alone", "sound alone"}
    assert media["sound alone"]["R@1"] < 1.0 and media["late fusion (sum)"]["R@1"] == 1.0  # two high sounds
    assert report["settings"]["caption"]["caption alone"]["R@10"] == 1.0
    assert "| late fusion (sum) | 1.00 |" in markdown(report)
