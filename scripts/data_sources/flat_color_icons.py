"""Icons8 Flat Color Icons (npm ``flat-color-icons``, MIT): 329 coloured icons named by file.

No categories; the word checks of ``icons`` decide ("binoculars", not "add_database").
"""

from __future__ import annotations

from pathlib import Path

from data_sources.fetch import fetch_npm
from data_sources.icons import Icon, build_icon_set
from data_sources.manifest import ManifestBuild

NAME = "flat-color-icons"
PACKAGE = "flat-color-icons@1.1.0"
CREDITS = """Source: npm package `{package}` (Flat Color Icons by Icons8, https://github.com/icons8/flat-color-icons).
Licence: MIT (the package's "MIT OR Good-Boy" licence). Icons were rendered to PNG; captions were made
from the file names."""


def build(cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    package = fetch_npm(PACKAGE, cache)
    icons = [Icon(svg.stem, svg) for svg in sorted((package / "svg").glob("*.svg"))]
    return build_icon_set(NAME, icons, cache, reserved, CREDITS.format(package=PACKAGE))
