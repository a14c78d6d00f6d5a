"""Material Design Icons (npm ``@mdi/svg``, Apache-2.0): concrete icons with names, aliases and tags.

``meta.json`` gives each icon's name, aliases and tags (categories such as "Animal" or
"Food / Drink"). Only icons tagged with a category of things are considered, never an
``emoticon-*`` icon (reserved for evaluation with every emoji set); see ``icons`` for the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

from data_sources.fetch import fetch_npm
from data_sources.icons import Icon, build_icon_set
from data_sources.manifest import ManifestBuild

NAME = "mdi"
PACKAGE = "@mdi/svg@7.4.47"
CONCRETE_TAGS = ("Animal", "Food / Drink", "Nature", "Agriculture", "Sport", "Transportation + Road",
                 "Transportation + Other", "Transportation + Flying", "Transportation + Water", "Automotive",
                 "Clothing", "Music", "Medical / Hospital", "Hardware / Tools", "Holiday", "Weather", "Places",
                 "People / Family", "Science", "Health / Beauty", "Home Automation", "Gaming / RPG", "Religion",
                 "Drawing / Art", "Shopping", "Device / Tech", "Photography")
CATEGORY_WORDS = frozenset({"food", "fruit", "human"})  # "food-hot-dog" is a hot dog
EXCLUDED_TAGS = frozenset({"Emoji", "Brand / Logo", "Alpha / Numeric", "Arrow", "Math", "Shape"})
CREDITS = """Source: npm package `{package}` (Material Design Icons, https://pictogrammers.com/library/mdi/).
Licence: Apache-2.0 (icons by Google and the Pictogrammers community; each icon's author is in
`meta.json`). Icons were rendered to PNG; captions were made from the icon names and aliases."""


def build(cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    package = fetch_npm(PACKAGE, cache)
    meta = json.loads((package / "meta.json").read_text(encoding="utf-8"))
    icons = []
    for entry in meta:
        tags = [t for t in entry.get("tags", []) if t]
        if entry.get("deprecated") or EXCLUDED_TAGS.intersection(tags):
            continue
        category = next((t for t in tags if t in CONCRETE_TAGS), "")
        icons.append(Icon(entry["name"], package / "svg" / f"{entry['name']}.svg", category,
                          list(entry.get("aliases", [])), tags))
    categories = frozenset(tag.lower() for tag in CONCRETE_TAGS)  # untagged icons are mostly interface glyphs
    return build_icon_set(NAME, icons, cache, reserved, CREDITS.format(package=PACKAGE), categories,
                          category_words=CATEGORY_WORDS)
