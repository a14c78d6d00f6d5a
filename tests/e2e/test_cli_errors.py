"""Issue 11: honest exit codes and one-line errors, run as a user runs the CLI (a subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import solid, tone
from tests.e2e.runner import error_lines, xmodal, xmodal_in_terminal


def assert_one_line_error(stderr: str, *expected: str) -> str:
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("xmodal: error: "), lines
    for text in expected:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def test_an_error_is_one_line_in_a_pipe_and_in_a_narrow_terminal(tmp_path: Path) -> None:
    missing = tmp_path / ("a-long-folder-name-" * 5) / "no-store-here"
    piped = xmodal("search", "--store", missing, "--text", "a cow", cwd=tmp_path)
    assert piped.returncode == 2
    assert_one_line_error(piped.stderr, str(missing))

    code, shown = xmodal_in_terminal("search", "--store", missing, "--text", "a cow", cwd=tmp_path, columns=40)
    assert code == 2
    assert [line for line in shown.splitlines() if str(missing) in line], shown  # the whole path on one line


def test_indexing_a_missing_path_exits_2_and_creates_no_store(
    tmp_path: Path, corpus: Path, tiny_clip_spec: str
) -> None:
    store = tmp_path / "store"
    result = xmodal(
        "index", "--store", store, "--model", tiny_clip_spec, corpus, tmp_path / "does-not-exist", cwd=tmp_path
    )
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "does-not-exist")
    assert not store.exists()


def test_an_empty_manifest_exits_2_and_creates_no_store(tmp_path: Path, tiny_clip_spec: str) -> None:
    manifest = tmp_path / "empty.jsonl"
    manifest.write_text("\n")
    store = tmp_path / "store"
    result = xmodal("index", "--store", store, "--model", tiny_clip_spec, manifest, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "empty.jsonl")
    assert not store.exists()


def test_a_job_where_every_file_failed_exits_1(tmp_path: Path, tiny_clip_spec: str) -> None:
    manifest = tmp_path / "bad.jsonl"
    manifest.write_text(json.dumps({"path": "gone.png"}) + "\nnot json\n" + json.dumps({"path": "gone.wav"}) + "\n")
    bad_manifest = xmodal("index", "--store", tmp_path / "s1", "--model", tiny_clip_spec, manifest, cwd=tmp_path)
    assert bad_manifest.returncode == 1, bad_manifest.stderr
    assert "indexed 0, unchanged 0, failed 3" in bad_manifest.stdout

    folder = tmp_path / "bad-files"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"not a png")
    tone(folder / "hum.wav", 220)  # the tiny model has no audio tower
    bad_files = xmodal("index", "--store", tmp_path / "s2", "--model", tiny_clip_spec, folder, cwd=tmp_path)
    assert bad_files.returncode == 1, bad_files.stderr
    assert "failed 2" in bad_files.stdout and "broken.png: not a readable image" in bad_files.stderr

    solid(folder / "red.png", (250, 10, 10))  # one good file: the job did its work
    some_good = xmodal("index", "--store", tmp_path / "s2", folder, cwd=tmp_path)
    assert some_good.returncode == 0, some_good.stderr


def test_a_pretrained_tag_without_the_model_hub_is_one_line_naming_the_local_file_alternative(
    tmp_path: Path, corpus: Path
) -> None:
    store = tmp_path / "store"
    result = xmodal(
        "index", "--store", store, "--model", "open_clip:ViT-B-32@openai", corpus, cwd=tmp_path, HF_HUB_OFFLINE="1"
    )
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "open_clip:ViT-B-32@", "checkpoint file")  # the offline alternative
    assert not store.exists()


def test_queries_are_checked_before_the_model_loads(tmp_path: Path, broken_model_store: Path) -> None:
    store = broken_model_store
    model_error = xmodal("search", "--store", store, "--text", "a cow", cwd=tmp_path)
    assert model_error.returncode == 2  # this store's model cannot load: the cases below never get that far
    assert_one_line_error(model_error.stderr)

    for blank in ("", "   ", "\t\n"):
        result = xmodal("search", "--store", store, "--text", blank, cwd=tmp_path)
        assert result.returncode == 2
        assert_one_line_error(result.stderr, "empty")

    folder = tmp_path / "queries-folder"
    folder.mkdir()
    as_folder = xmodal("search", "--store", store, "--queries", folder, cwd=tmp_path)
    assert as_folder.returncode == 2
    assert_one_line_error(as_folder.stderr, str(folder), "directory")

    missing = xmodal("search", "--store", store, "--queries", tmp_path / "missing.jsonl", cwd=tmp_path)
    assert missing.returncode == 2
    assert_one_line_error(missing.stderr, "missing.jsonl")

    no_image = xmodal("search", "--store", store, "--image", tmp_path / "missing.png", cwd=tmp_path)
    assert no_image.returncode == 2
    assert_one_line_error(no_image.stderr, "missing.png")
