"""The sources reserved for evaluation can be neither fetched nor trained on."""

from __future__ import annotations

import importlib
import io
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from build_manifests import SOURCES
from data_sources.manifest import RESERVED_DROP, ManifestBuild
from data_sources.media import sha256_file
from data_sources.reserved import ReservedSourceError, hash_list_path, load_hashes, require_allowed, reserved_reason
from data_sources.reserved_hashes import qt_rcc_members

from data_sources import fetch


@pytest.mark.parametrize(
    "kind, name",
    [
        ("debian", "gcompris-qt-data"),
        ("debian", "gcompris-qt"),
        ("debian", "gcompris-sound-en"),
        ("debian", "sound-icons"),
        ("debian", "sound-theme-freedesktop"),
        ("debian", "python3-pygame"),
        ("debian", "python-pygame-doc"),
        ("debian", "pysiogame"),
        ("debian", "fonts-noto-color-emoji"),
        ("debian", "libjs-emojione"),
        ("pypi", "pygame"),
        ("pypi", "pysiogame"),
        ("npm", "openmoji"),
        ("npm", "twemoji"),
        ("npm", "@twemoji/svg"),
        ("npm", "fluentui-emoji"),
        ("npm", "@iconify-json/fluent-emoji-flat"),
        ("npm", "@iconify-json/noto"),
        ("npm", "@iconify-json/streamline-emojis"),
        ("icon", "mdi:emoticon-happy-outline"),
        ("icon", "mdi:emoticon"),
        ("icon", "tabler:mood-emoji"),
    ],
)
def test_reserved_names_are_refused(kind: str, name: str) -> None:
    assert reserved_reason(kind, name)
    with pytest.raises(ReservedSourceError):
        require_allowed(kind, name)


@pytest.mark.parametrize(
    "kind, name",
    [
        ("debian", "scratch"),
        ("debian", "tuxpaint-stamps-default"),
        ("debian", "0ad-data"),
        ("debian", "openttd-opensfx"),
        ("debian", "fluid-soundfont-gs"),
        ("debian", "sound-juicer"),
        ("npm", "@mdi/svg"),
        ("npm", "@iconify-json/game-icons"),
        ("npm", "lucide-static"),
        ("icon", "mdi:cow"),
        ("icon", "mdi:face-man"),
        ("pypi", "aisfx"),
    ],
)
def test_training_sources_are_allowed(kind: str, name: str) -> None:
    assert reserved_reason(kind, name) is None
    require_allowed(kind, name)


def test_no_builder_names_a_reserved_package() -> None:
    for module_name in SOURCES.values():
        module = importlib.import_module(f"data_sources.{module_name}")
        packages = getattr(module, "PACKAGES", ()) + ((module.PACKAGE,) if hasattr(module, "PACKAGE") else ())
        assert packages, module_name
        for package in packages:
            kind = "npm" if "@" in package[1:] or package.startswith("@") else "debian"
            assert reserved_reason(kind, package.rsplit("@", 1)[0] if kind == "npm" else package) is None


def test_fetching_a_reserved_package_fails_before_any_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_download(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args}")

    monkeypatch.setattr(subprocess, "run", no_download)
    monkeypatch.setattr(subprocess, "Popen", no_download)
    with pytest.raises(ReservedSourceError):
        fetch.fetch_debs(("scratch", "gcompris-qt-data"), tmp_path)
    with pytest.raises(ReservedSourceError):
        fetch.fetch_npm("@iconify-json/twemoji@1.2.5", tmp_path)
    assert not any(tmp_path.iterdir())


def test_records_whose_files_match_a_reserved_hash_are_dropped_and_counted(tmp_path: Path) -> None:
    kept_image, copied_sound, source_svg = tmp_path / "cow.png", tmp_path / "moo.wav", tmp_path / "cow.svg"
    kept_image.write_bytes(b"a picture of a cow")
    copied_sound.write_bytes(b"bytes identical to a reserved sound")
    source_svg.write_bytes(b"<svg>identical to a reserved picture</svg>")
    reserved = frozenset({sha256_file(copied_sound), sha256_file(source_svg)})
    build = ManifestBuild("test")
    build.add({"concept": "cow", "category": "animals", "image": kept_image, "text": "a cow"})
    build.add({"concept": "moo", "category": "animals", "audio": copied_sound, "text": "a cow mooing"})
    build.add({"concept": "cow-2", "category": "animals", "image": kept_image, "text": "a cow"}, origins=(source_svg,))
    build.drop_reserved(reserved)
    assert [r["concept"] for r in build.records] == ["cow"]
    assert build.dropped[RESERVED_DROP] == ["moo", "cow-2"]
    assert build.counts()["dropped"] == 2


def test_hash_list_is_read_from_the_cache_and_absent_means_empty(tmp_path: Path) -> None:
    assert load_hashes(tmp_path) == frozenset()
    path = hash_list_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("ab" * 32 + "\n" + "cd" * 32 + "\n")
    assert load_hashes(tmp_path) == {"ab" * 32, "cd" * 32}


def _rcc(files: dict[str, tuple[bytes, bool]]) -> bytes:
    """A Qt resource file (format version 1): a root folder holding ``files`` (name -> (data, zlib?))."""
    names, payloads, tree = bytearray(), bytearray(), bytearray()

    def name_offset(name: str) -> int:
        offset = len(names)
        encoded = name.encode("utf-16-be")
        names.extend(struct.pack(">HI", len(name), 0) + encoded)
        return offset

    tree += struct.pack(">IHII", name_offset(""), 0x02, len(files), 1)
    for name, (data, compressed) in files.items():
        stored = struct.pack(">I", len(data)) + zlib.compress(data) if compressed else data
        tree += struct.pack(">IHHHI", name_offset(name), 0x01 if compressed else 0, 0, 0, len(payloads))
        payloads.extend(struct.pack(">I", len(stored)) + stored)
    header = 20
    return (
        b"qres"
        + struct.pack(">IIII", 1, header, header + len(tree), header + len(tree) + len(payloads))
        + bytes(tree)
        + bytes(payloads)
        + bytes(names)
    )


def test_files_inside_a_qt_resource_bundle_are_read_for_hashing() -> None:
    bundle = _rcc({"bark.ogg": (b"OggS plain", False), "dog.svg": (b"<svg>" * 20, True)})
    assert dict(qt_rcc_members(bundle)) == {"/bark.ogg": b"OggS plain", "/dog.svg": b"<svg>" * 20}
    with pytest.raises(ValueError):
        list(qt_rcc_members(io.BytesIO(b"not a resource").read()))
