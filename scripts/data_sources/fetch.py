"""Fetch Debian and npm packages into the data cache, with their ordinary clients.

Each package is downloaded once (``apt-get download`` / ``npm pack``) and extracted once (``dpkg -x``
or ``tar``); a marker file per package makes both steps resumable. Every name is checked against
the reserved-for-evaluation deny-list first, so no builder can fetch an evaluation source.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

from data_sources.reserved import require_allowed


def cache_root() -> Path:
    return Path(os.environ.get("XMODAL_CACHE") or "~/.cache/xmodal").expanduser()


def source_dir(source: str) -> Path:
    return cache_root() / "data" / source


def fetch_debs(packages: tuple[str, ...], cache: Path, members: tuple[str, ...] = ()) -> tuple[Path, dict[str, str]]:
    """Download and extract Debian packages into ``cache/root``; return the root and their versions.

    With ``members``, only those paths (as ``./usr/...``) are extracted: 0 A.D.'s package is 1.4 GB
    and its builder needs one archive out of it.
    """
    for package in packages:
        require_allowed("debian", package)
    deb_dir, root = cache / "deb", cache / "root"
    versions = {}
    for package in packages:
        deb = _downloaded_deb(deb_dir, package)
        marker = root / f".extracted-{package}"
        if not marker.exists():
            root.mkdir(parents=True, exist_ok=True)
            print(f"extracting {deb.name} ...", flush=True)
            if members:
                unpack = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
                subprocess.run(["tar", "-x", "-C", str(root), *members], stdin=unpack.stdout, check=True)
                if unpack.wait() != 0:
                    sys.exit(f"dpkg-deb could not read {deb}")
            else:
                subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
            marker.touch()
        versions[package] = deb.name.split("_")[1].replace("%3a", ":")
    return root, versions


def _downloaded_deb(deb_dir: Path, package: str) -> Path:
    debs = sorted(deb_dir.glob(f"{package}_*.deb"))
    if not debs:
        deb_dir.mkdir(parents=True, exist_ok=True)
        print(f"downloading {package} into {deb_dir} ...", flush=True)
        result = subprocess.run(["apt-get", "download", package], cwd=deb_dir, capture_output=True, text=True)
        debs = sorted(deb_dir.glob(f"{package}_*.deb"))
        if result.returncode != 0 or not debs:
            sys.exit(f"apt-get download {package} failed (run `apt-get update` first): {result.stderr.strip()[-300:]}")
    return debs[-1]


def fetch_npm(spec: str, cache: Path) -> Path:
    """``npm pack name@version`` into ``cache/npm`` and unpack it; return the package folder.

    ``npm pack`` fetches the published tarball only: nothing is installed, no install scripts run,
    and the repository never gets a node_modules folder.
    """
    name, _, version = spec.rpartition("@") if spec.count("@") > spec.startswith("@") else (spec, "", "")
    require_allowed("npm", name)
    npm_dir, root = cache / "npm", cache / "root" / _safe(name)
    marker = root / ".extracted"
    if marker.exists():
        return root / "package"
    npm_dir.mkdir(parents=True, exist_ok=True)
    tarballs = sorted(npm_dir.glob(f"{_safe(name)}-{version or '*'}.tgz"))
    if not tarballs:
        print(f"npm pack {spec} into {npm_dir} ...", flush=True)
        result = subprocess.run(["npm", "pack", "--silent", spec], cwd=npm_dir, capture_output=True, text=True)
        tarballs = sorted(npm_dir.glob(f"{_safe(name)}-{version or '*'}.tgz"))
        if result.returncode != 0 or not tarballs:
            sys.exit(f"npm pack {spec} failed: {result.stderr.strip()[-300:]}")
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarballs[-1]) as archive:
        archive.extractall(root, filter="data")
    marker.touch()
    return root / "package"


def _safe(npm_name: str) -> str:
    """The file-name form npm pack gives a package: ``@mdi/svg`` -> ``mdi-svg``."""
    return re.sub(r"[@/]", "-", npm_name).strip("-")
