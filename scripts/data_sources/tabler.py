"""Tabler icons (npm ``@tabler/icons``, MIT): ~5,500 outline icons with categories and tags (``icons.json``).

The "Mood" category (faces) is left out with the emoji sets, and so are interface categories.
"""

from __future__ import annotations

import json
from pathlib import Path

from data_sources.fetch import fetch_npm
from data_sources.icons import Icon, build_icon_set
from data_sources.manifest import ManifestBuild

NAME = "tabler"
PACKAGE = "@tabler/icons@3.52.0"
CONCRETE_CATEGORIES = frozenset({"animals", "buildings", "food", "vehicles", "health", "sport", "weather", "nature",
                                 "games", "devices", "electrical", "laundry", "photography", "computers", "map",
                                 "e-commerce", "media", ""})
CREDITS = """Source: npm package `{package}` (Tabler Icons, https://tabler.io/icons).
Licence: MIT, Copyright (c) 2020-2024 Paweł Kuna. Outline icons were rendered to PNG; captions were
made from the icon names."""


def build(cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    package = fetch_npm(PACKAGE, cache)
    catalogue = json.loads((package / "icons.json").read_text(encoding="utf-8"))
    icons = []
    for name, entry in catalogue.items():
        svg = package / "icons" / "outline" / f"{name}.svg"
        if svg.exists():
            icons.append(Icon(name, svg, (entry.get("category") or "").lower(), tags=list(entry.get("tags", []))))
    return build_icon_set(NAME, icons, cache, reserved, CREDITS.format(package=PACKAGE), CONCRETE_CATEGORIES)
