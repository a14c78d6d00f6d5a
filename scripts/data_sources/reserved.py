"""Sources reserved for independent evaluation: never fetched by a builder, never trained on.

Two guards. (a) A deny-list of package names (Debian, npm, PyPI) and icon-name patterns that every
fetch and every icon builder consults. (b) A list of SHA-256 hashes of every file those packages
ship (and of the files inside the archives they ship), built by ``scripts/hash_reserved_sources.py``
and cached; a builder drops any record whose source file or output file has one of those hashes,
so a copy of an evaluation file that reached a training package under another name is caught.
"""

from __future__ import annotations

import re
from pathlib import Path


class ReservedSourceError(RuntimeError):
    """A builder asked for a source that is reserved for independent evaluation."""


# Whole Debian packages; a name matches when it equals one of these or starts with it plus "-".
RESERVED_DEBIAN = (
    "gcompris",             # gcompris, gcompris-data, gcompris-qt, gcompris-qt-data, gcompris-sound-*
    "sound-icons",
    "sound-theme-freedesktop",
    "python3-pygame",       # ships pygame's example sounds and pictures
    "python-pygame",
    "pygame",
    "pysiogame",            # its Art4Apps pictures are shared with GCompris
    "fonts-noto-color-emoji",
    "fonts-openmoji",
    "fonts-twemoji",
    "fonts-emojione",
    "libjs-emojione",
)
RESERVED_PYPI = ("pygame", "pygame-ce", "pysiogame")
# npm: the emoji sets by name, and anything whose name says emoji (every @iconify-json emoji set).
RESERVED_NPM = ("openmoji", "twemoji", "@twemoji/svg", "@twemoji/api", "fluentui-emoji", "@iconify-json/noto",
                "@iconify-json/noto-v1", "@iconify-json/twemoji", "@iconify-json/openmoji", "@iconify-json/fxemoji",
                "@iconify-json/emojione", "@iconify-json/emojione-v1", "@iconify-json/emojione-monotone")
_EMOJI_NAME = re.compile(r"emoji|moji\b|emoticon", re.I)
# Icon names inside allowed sets that are emoji all the same (MDI's emoticon-* icons).
RESERVED_ICON_PREFIXES = {"mdi": ("emoticon",)}


def reserved_reason(kind: str, name: str) -> str | None:
    """Why ``name`` (a package of ``kind`` debian/npm/pypi, or an icon as ``set:name``) is reserved, or None."""
    lowered = name.lower()
    if kind == "debian":
        hit = next((p for p in RESERVED_DEBIAN if lowered == p or lowered.startswith(p + "-")), None)
        if hit is None and _EMOJI_NAME.search(lowered):
            hit = "an emoji set"
        return f"Debian package {name} is reserved for evaluation ({hit})" if hit else None
    if kind == "pypi":
        return f"PyPI package {name} is reserved for evaluation" if lowered in RESERVED_PYPI else None
    if kind == "npm":
        if lowered in RESERVED_NPM or _EMOJI_NAME.search(lowered):
            return f"npm package {name} is an emoji set, reserved for evaluation"
        return None
    if kind == "icon":
        icon_set, _, icon = lowered.partition(":")
        if _EMOJI_NAME.search(icon) or icon.startswith(RESERVED_ICON_PREFIXES.get(icon_set, ())):
            return f"icon {name} is an emoji, reserved for evaluation"
        return None
    raise ValueError(f"unknown kind {kind!r}: choose debian, npm, pypi or icon")


def require_allowed(kind: str, name: str) -> None:
    reason = reserved_reason(kind, name)
    if reason:
        raise ReservedSourceError(reason)


def hash_list_path(cache_root: Path) -> Path:
    return cache_root / "reserved" / "sha256.txt"


def load_hashes(cache_root: Path) -> frozenset[str]:
    """The cached hash list; empty (with no error) when it has not been built, so offline tests run."""
    path = hash_list_path(cache_root)
    if not path.exists():
        return frozenset()
    return frozenset(line.split()[0] for line in path.read_text().splitlines() if line.strip())
