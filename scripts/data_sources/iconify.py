"""Icon sets in Iconify JSON form (npm ``@iconify-json/<set>``): one builder, a table of sets.

Each package holds ``icons.json`` (every icon's SVG body under its name, plus the view box) and,
for most sets, ``metadata.json`` with categories (lists of icon names) and style suffixes
(``-linear``, ``-outline-rounded``). A set's entry says which categories picture things; the style
suffix is cut from each name before the word checks of ``icons`` caption it, so "cow-bold-duotone"
and "cow-linear" both read "a cow" and collapse onto one record. Coloured sets keep their colours;
``currentColor`` (mono sets) becomes black. Emoji sets are reserved for evaluation and refused by
``fetch_npm``; categories of faces and smileys are left out here too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from data_sources.fetch import fetch_npm
from data_sources.icons import Icon, build_icon_set
from data_sources.manifest import ManifestBuild


@dataclass(frozen=True)
class IconifySet:
    package: str  # npm spec, pinned
    categories: frozenset[str] | None = None  # concrete categories, lower case; None: decide by the words alone


def _set(package: str, *categories: str) -> IconifySet:
    return IconifySet(package, frozenset(name.lower() for name in categories) if categories else None)


# Sets with categories list only those that picture things (faces, emoji and interface categories stay out).
# Lucide and its relatives (Feather, Lucide Lab) are absent on purpose: Lucide is the held-out icon source.
_STREAMLINE = ("ComputerDevices", "Culture", "Entertainment", "FoodDrink", "Health", "MapTravel", "NatureEcology")
_FONT_AWESOME = ("Animals", "Automotive", "Autumn", "Beverage", "Buildings", "Camping", "Childhood", "Clothing",
                 "Construction", "Energy", "Fitness", "Food", "Fruits & Vegetables", "Games", "Halloween", "Holiday",
                 "Hotel", "Household", "Maritime", "Medical", "Music", "Objects", "Science", "Science Fiction",
                 "Sports", "Spring", "Summer", "Tabletop Gaming", "Travel", "Vehicles", "Weather", "Winter", "Chess")
SETS = {
    "game-icons": _set("@iconify-json/game-icons@1.2.4"),
    "icon-park": _set("@iconify-json/icon-park@1.2.4", "Animals", "Baby", "Build", "Clothes", "Energy", "Foods",
                      "Game", "Hardware", "Health", "Industry", "Life", "Makeups", "Music", "Office", "Others",
                      "Sports", "Travel", "Weather"),
    "fa6-solid": _set("@iconify-json/fa6-solid@1.2.4", *_FONT_AWESOME),
    "streamline-ultimate-color": _set("@iconify-json/streamline-ultimate-color@1.2.2", "BusinessProducts",
                                      "ComputersDevicesElectronics", "EntertainmentEventsHobbies", "FoodDrinks",
                                      "HealthBeauty", "MusicAudio", "PhonesMobileDevices", "Science",
                                      "ShippingDelivery", "ShoppingEcommerce", "Sports", "Transportation",
                                      "VideoMoviesTv", "Weather", "WorkOfficeCompanies"),
    "streamline-freehand-color": _set("@iconify-json/streamline-freehand-color@1.2.2", "Business",
                                      "ComputersDevicesElectronics", "Design", "MusicVideoEntertainment",
                                      "PhonesMobileDevices", "ShoppingEcommerce", "Wayfinding", "WorkOfficeCompanies"),
    "material-symbols": _set("@iconify-json/material-symbols@1.2.98", "Activities", "Hardware", "Home", "Household",
                             "Transit", "Travel"),
    "solar": _set("@iconify-json/solar@1.2.13", "Astronomy", "Building", "Devices", "Food", "Home", "Medicine",
                  "Nature", "School", "Sports", "Tools", "Weather"),
    "streamline-flex": _set("@iconify-json/streamline-flex@1.2.3", *_STREAMLINE),
    "hugeicons": _set("@iconify-json/hugeicons@1.2.35"),
    "mingcute": _set("@iconify-json/mingcute@1.2.8"),
    "tdesign": _set("@iconify-json/tdesign@1.2.19"),
    "ri": _set("@iconify-json/ri@1.2.10", "Buildings", "Device", "Food", "Game & Sports", "Health & Medical",
               "Weather"),
    # Added after 0.4.0's first eleven.
    "bi": _set("@iconify-json/bi@1.2.7"),
    "ion": _set("@iconify-json/ion@1.2.7"),
    "la": _set("@iconify-json/la@1.2.1", *_FONT_AWESOME),
    "uil": _set("@iconify-json/uil@1.2.3", "Construction", "Devices", "Education", "Medical", "Shopping", "Sports",
                "Transport", "Weather"),
    "iconoir": _set("@iconify-json/iconoir@1.2.11", "Animals", "Buildings", "Clothing", "Devices", "Food", "Gaming",
                    "Health", "Home", "Music", "Nature", "Science", "Shopping", "Sports", "Tools", "Transport",
                    "Transportation", "Weather"),
    "healthicons": _set("@iconify-json/healthicons@1.2.13", "Devices", "Exercise", "Nutrition", "Objects", "Places",
                        "Vehicles", "Zoonoses"),
    "streamline": _set("@iconify-json/streamline@1.2.5", *_STREAMLINE),
    "streamline-plump": _set("@iconify-json/streamline-plump@1.2.0", *_STREAMLINE),
    "fluent-color": _set("@iconify-json/fluent-color@1.2.21"),
    "meteocons": _set("@iconify-json/meteocons@1.2.4"),
    "maki": _set("@iconify-json/maki@1.2.5"),
    "map": _set("@iconify-json/map@1.2.2"),
    "icons8": _set("@iconify-json/icons8@1.2.1"),
    "wpf": _set("@iconify-json/wpf@1.2.0"),
}

PACKAGES = tuple(spec.package for spec in SETS.values())


def build(name: str, cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    """The manifest of the Iconify set ``name`` (a key of ``SETS``)."""
    spec = SETS[name]
    package = fetch_npm(spec.package, cache)
    data = json.loads((package / "icons.json").read_text(encoding="utf-8"))
    metadata_path = package / "metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8")) if metadata_path.exists() else {}
    category_of = {icon: category for category, icons in metadata.get("categories", {}).items() for icon in icons}
    suffixes = sorted((s for s in metadata.get("suffixes", {}) if s), key=len, reverse=True)
    width, height = data.get("width", 16), data.get("height", 16)
    icons = []
    for icon_name, entry in data["icons"].items():
        if entry.get("hidden"):
            continue
        svg = iconify_svg(entry["body"], entry.get("width", width), entry.get("height", height))
        caption_name = strip_suffix(icon_name, suffixes)
        icons.append(Icon(icon_name, svg, category_of.get(icon_name, ""), caption_name=caption_name))
    return build_icon_set(name, icons, cache, reserved, credits(spec.package, package), spec.categories)


def credits(spec: str, package: Path) -> str:
    """Name, author and licence as the package's ``info.json`` states them."""
    info = json.loads((package / "info.json").read_text(encoding="utf-8"))
    author, licence = info.get("author", {}), info.get("license", {})
    by = f" by {author['name']}" + (f" ({author['url']})" if author.get("url") else "") if author.get("name") else ""
    terms = licence.get("title") or licence.get("spdx") or "see the package"
    return (f"Source: npm package `{spec}`: {info.get('name', spec)}{by}.\nLicence: {terms}"
            + (f" ({licence['url']})" if licence.get("url") else "")
            + ". Icons were rendered to PNG; captions were made from the icon names.")


def strip_suffix(name: str, suffixes: list[str]) -> str:
    """``"cow-bold-duotone"`` -> ``"cow"`` given the set's style suffixes (longest first); a variant
    number goes too (``"bus-2"`` -> ``"bus"``)."""
    for suffix in suffixes:
        if name.endswith(f"-{suffix}"):
            name = name[: -len(suffix) - 1]
            break
    return re.sub(r"(?<=[a-z])-\d+$", "", name)


def iconify_svg(body: str, width: int, height: int) -> str:
    """A standalone SVG document for an Iconify icon body; ``currentColor`` becomes black."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{body.replace("currentColor", "#000")}</svg>')
