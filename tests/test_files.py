"""Opening files without following links: the guard under media serving."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xmodal.files import UnsafeFile, open_without_links


def read(path: Path) -> bytes:
    descriptor, info = open_without_links(str(path))
    try:
        assert info.st_size == path.stat().st_size
        return os.read(descriptor, 1 << 16)
    finally:
        os.close(descriptor)


def test_a_regular_file_opens(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "file.txt").write_text("hello")
    assert read(tmp_path / "a" / "file.txt") == b"hello"


def test_links_anywhere_on_the_path_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "file.txt").write_text("fine")
    (tmp_path / "link.txt").symlink_to(secret)
    (tmp_path / "linked-dir").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafeFile):
        read(tmp_path / "link.txt")
    with pytest.raises(UnsafeFile):
        read(tmp_path / "linked-dir" / "file.txt")


def test_special_files_are_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.wav")
    with pytest.raises(UnsafeFile, match="not a regular file"):
        read(tmp_path / "pipe.wav")
    with pytest.raises(UnsafeFile):
        read(tmp_path)  # a directory where a file should be


def test_missing_files_are_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError):
        read(tmp_path / "nope" / "file.txt")
