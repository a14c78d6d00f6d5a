"""Lucide icons (npm ``lucide-static``, ISC): ~1,600 outline icons with tags (``tags.json``), no categories.

The word checks of ``icons`` decide which icons picture a thing.
"""

from __future__ import annotations

import json
from pathlib import Path

from data_sources.fetch import fetch_npm
from data_sources.icons import Icon, build_icon_set
from data_sources.manifest import ManifestBuild

NAME = "lucide"
PACKAGE = "lucide-static@1.62.0"
CREDITS = """Source: npm package `{package}` (Lucide, https://lucide.dev; a fork of Feather Icons).
Licence: ISC, Copyright (c) Lucide Contributors; parts MIT, Copyright (c) 2013-2022 Cole Bemis (Feather).
Icons were rendered to PNG; captions were made from the icon names."""


def build(cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    package = fetch_npm(PACKAGE, cache)
    tags = json.loads((package / "tags.json").read_text(encoding="utf-8"))
    icons = [Icon(svg.stem, svg, tags=list(tags.get(svg.stem, []))) for svg in sorted((package / "icons").glob("*.svg"))]
    return build_icon_set(NAME, icons, cache, reserved, CREDITS.format(package=PACKAGE))
