"""Phosphor icons (npm ``@phosphor-icons/core``, MIT): ~1,500 icons with categories and tags.

The catalogue (names, categories, tags) is an ES module, read with ``node``; the regular-weight
SVGs are under ``assets/regular``. Tags that read as captions go into ``texts``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from data_sources.fetch import fetch_npm
from data_sources.icons import Icon, build_icon_set
from data_sources.manifest import ManifestBuild

NAME = "phosphor"
PACKAGE = "@phosphor-icons/core@2.1.1"
CONCRETE_CATEGORIES = frozenset({"nature", "objects", "people", "weather", "games", "health & wellness",
                                 "maps & travel", "commerce", "office", "media"})
CREDITS = """Source: npm package `{package}` (Phosphor Icons, https://phosphoricons.com).
Licence: MIT, Copyright (c) Phosphor Icons (Helena Zhang and Tobias Fried). Regular-weight icons were
rendered to PNG; captions were made from the icon names and tags."""


def build(cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    package = fetch_npm(PACKAGE, cache)
    script = f"import({json.dumps(str(package / 'dist' / 'index.mjs'))}).then(m => console.log(JSON.stringify(m.icons)))"
    catalogue = json.loads(subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout)
    icons = []
    for entry in catalogue:
        svg = package / "assets" / "regular" / f"{entry['name']}.svg"
        category = next((c for c in entry.get("categories", []) if c in CONCRETE_CATEGORIES), "")
        tags = [t for t in entry.get("tags", []) if not t.startswith("*")]
        if svg.exists():
            icons.append(Icon(entry["name"], svg, category, aliases=tags, tags=tags))
    return build_icon_set(NAME, icons, cache, reserved, CREDITS.format(package=PACKAGE), CONCRETE_CATEGORIES)
