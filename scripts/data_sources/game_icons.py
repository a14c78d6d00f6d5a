"""Game-icons.net (npm ``@iconify-json/game-icons``, CC-BY-3.0): ~4,100 named silhouettes.

The Iconify JSON holds each icon's SVG body (a 512 x 512 view box) under its name; there are no
categories, so the word checks of ``icons`` decide ("cow", "anvil", not "abstract-001").
"""

from __future__ import annotations

import json
from pathlib import Path

from data_sources.fetch import fetch_npm
from data_sources.icons import Icon, build_icon_set
from data_sources.manifest import ManifestBuild

NAME = "game-icons"
PACKAGE = "@iconify-json/game-icons@1.2.4"
CREDITS = """Source: npm package `{package}` (game-icons.net in Iconify JSON form).
Licence: CC-BY-3.0. Icons by Lorc, Delapouite and the game-icons.net contributors
(https://game-icons.net). Icons were rendered to PNG (black on transparent); captions were made
from the icon names."""


def build(cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    package = fetch_npm(PACKAGE, cache)
    data = json.loads((package / "icons.json").read_text(encoding="utf-8"))
    icons = [Icon(name, iconify_svg(entry["body"], entry.get("width", data.get("width", 512)),
                                    entry.get("height", data.get("height", 512))))
             for name, entry in data["icons"].items()]
    return build_icon_set(NAME, icons, cache, reserved, CREDITS.format(package=PACKAGE))


def iconify_svg(body: str, width: int, height: int) -> str:
    """A standalone SVG document for an Iconify icon body; ``currentColor`` becomes black."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{body.replace("currentColor", "#000")}</svg>')
