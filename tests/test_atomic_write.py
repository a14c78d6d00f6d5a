"""atomic_write: a file is replaced whole or not at all, with the umask's mode, and no leftovers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xmodal.files import atomic_write


def test_a_file_is_written_whole_in_new_folders_with_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "index.bin"
    atomic_write(target, lambda temporary: temporary.write_bytes(b"first"))
    atomic_write(target, lambda temporary: temporary.write_bytes(b"second"))
    assert target.read_bytes() == b"second" and os.listdir(target.parent) == ["index.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "index.bin"
    target.write_bytes(b"old")

    def half_then_fail(temporary: Path) -> None:
        temporary.write_bytes(b"ha")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["index.bin"]
