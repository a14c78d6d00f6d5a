"""Issue 11: a walk never enters an xmodal store, and a path that does not exist stops the job."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import solid
from xmodal.errors import NotFound
from xmodal.indexer import Skipped, Source, check_paths, collect_sources


def make_store_folder(folder: Path, *parts: str) -> Path:
    folder.mkdir(parents=True)
    for part in parts:
        if part == "vectors":
            (folder / part).mkdir()
        else:
            (folder / part).write_bytes(b"")
    solid(folder / "thumbnail.png", (1, 2, 3))
    return folder


def test_stores_under_a_root_are_skipped_with_a_note(tmp_path: Path) -> None:
    solid(tmp_path / "cow.png", (120, 90, 60))
    make_store_folder(tmp_path / "a", "xmodal.db", "writer.lock")
    make_store_folder(tmp_path / "b", "xmodal.db", "vectors")
    make_store_folder(tmp_path / "c", "writer.lock", "vectors")  # its database elsewhere (a database URL)
    make_store_folder(tmp_path / "not-a-store", "xmodal.db")  # a lone database file is somebody's data
    own = tmp_path / "own"  # the job's own store, before it has any files
    own.mkdir()
    solid(own / "thumbnail.png", (1, 2, 3))

    found = list(collect_sources([tmp_path], skip=[own]))
    files = sorted(Path(source.path).relative_to(tmp_path).as_posix() for source in found if isinstance(source, Source))
    assert files == ["cow.png", "not-a-store/thumbnail.png"]
    notes = {Path(note.where).name: note.reason for note in found if isinstance(note, Skipped)}
    assert notes == {
        "a": "an xmodal store",
        "b": "an xmodal store",
        "c": "an xmodal store",
        "own": "the xmodal store this job writes to",
    }


def test_a_root_that_is_a_store_is_skipped(tmp_path: Path) -> None:
    store = make_store_folder(tmp_path / "store", "xmodal.db", "writer.lock")
    assert list(collect_sources([store])) == [Skipped(str(store.resolve()), "an xmodal store")]


def test_a_missing_path_is_not_found(tmp_path: Path) -> None:
    solid(tmp_path / "cow.png", (120, 90, 60))
    check_paths([tmp_path, tmp_path / "cow.png"])
    with pytest.raises(NotFound, match="does-not-exist: no such file or directory"):
        check_paths([tmp_path, tmp_path / "does-not-exist"])


def test_links_out_of_the_given_folders_are_skipped_with_the_reason(tmp_path: Path) -> None:
    """Issue 8 #5: a link to /etc/passwd (here: a file beside the root) must not be indexed and served."""
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    (root / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    secret = elsewhere / "secret.txt"
    secret.write_text("password")
    solid(root / "cow.png", (120, 90, 60))
    (root / "leak.txt").symlink_to(secret)
    (root / "sub" / "leak.md").symlink_to("../../elsewhere/secret.txt")  # relative, through a subfolder
    (root / "sub" / "cow-again.png").symlink_to(root / "cow.png")  # a link that stays inside is fine
    (root / "elsewhere").symlink_to(elsewhere)  # a link to a folder is not walked into at all

    found = list(collect_sources([root]))
    files = sorted(Path(source.path).name for source in found if isinstance(source, Source))
    assert files == ["cow.png", "cow.png"]
    notes = {Path(note.where).relative_to(root).as_posix(): note.reason for note in found if isinstance(note, Skipped)}
    assert set(notes) == {"leak.txt", "sub/leak.md"}
    assert all("outside" in reason and "link" in reason for reason in notes.values())
    # two roots: a link from one to the other stays inside what was given
    both = list(collect_sources([root, elsewhere]))
    assert [note for note in both if isinstance(note, Skipped)] == []
