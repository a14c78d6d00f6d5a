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
    credits: str
    categories: frozenset[str] | None = None  # concrete categories, lower case; None: the set has none


def _categories(*names: str) -> frozenset[str]:
    return frozenset(name.lower() for name in names)


_RENDER = "Icons were rendered to PNG; captions were made from the icon names."
SETS = {
    "game-icons": IconifySet(
        "@iconify-json/game-icons@1.2.4",
        "game-icons.net. Licence: CC-BY-3.0. Icons by Lorc, Delapouite and the game-icons.net contributors "
        "(https://game-icons.net). Rendered black on transparent; captions were made from the icon names."),
    "icon-park": IconifySet(
        "@iconify-json/icon-park@1.2.4",
        "IconPark by ByteDance (https://github.com/bytedance/IconPark). Licence: Apache-2.0. " + _RENDER,
        _categories("Animals", "Baby", "Build", "Clothes", "Energy", "Foods", "Game", "Hardware", "Health",
                    "Industry", "Life", "Makeups", "Music", "Office", "Others", "Sports", "Travel", "Weather")),
    "fa6-solid": IconifySet(
        "@iconify-json/fa6-solid@1.2.4",
        "Font Awesome 6 Free Solid by Fonticons, Inc. (https://fontawesome.com). Licence: CC-BY-4.0. " + _RENDER,
        _categories("Animals", "Automotive", "Autumn", "Beverage", "Buildings", "Camping", "Childhood", "Clothing",
                    "Construction", "Energy", "Fitness", "Food", "Fruits & Vegetables", "Games", "Halloween",
                    "Holiday", "Hotel", "Household", "Maritime", "Medical", "Music", "Objects", "Science",
                    "Science Fiction", "Sports", "Spring", "Summer", "Tabletop Gaming", "Travel", "Vehicles",
                    "Weather", "Winter", "Chess")),
    "streamline-ultimate-color": IconifySet(
        "@iconify-json/streamline-ultimate-color@1.2.2",
        "Streamline Ultimate Colors free icons (https://www.streamlinehq.com). Licence: CC-BY-4.0. " + _RENDER,
        _categories("BusinessProducts", "ComputersDevicesElectronics", "EntertainmentEventsHobbies", "FoodDrinks",
                    "HealthBeauty", "MusicAudio", "PhonesMobileDevices", "Science", "ShippingDelivery",
                    "ShoppingEcommerce", "Sports", "Transportation", "VideoMoviesTv", "Weather",
                    "WorkOfficeCompanies")),
    "streamline-freehand-color": IconifySet(
        "@iconify-json/streamline-freehand-color@1.2.2",
        "Streamline Freehand Colors free icons (https://www.streamlinehq.com). Licence: CC-BY-4.0. " + _RENDER,
        _categories("Business", "ComputersDevicesElectronics", "Design", "MusicVideoEntertainment",
                    "PhonesMobileDevices", "ShoppingEcommerce", "Wayfinding", "WorkOfficeCompanies")),
    "material-symbols": IconifySet(
        "@iconify-json/material-symbols@1.2.98",
        "Material Symbols by Google (https://github.com/google/material-design-icons). Licence: Apache-2.0. "
        + _RENDER,
        _categories("Activities", "Hardware", "Home", "Household", "Transit", "Travel")),
    "solar": IconifySet(
        "@iconify-json/solar@1.2.13",
        "Solar icons by 480 Design (https://www.figma.com/community/file/1166831539721848736). "
        "Licence: CC-BY-4.0. " + _RENDER,
        _categories("Astronomy", "Building", "Devices", "Food", "Home", "Medicine", "Nature", "School", "Sports",
                    "Tools", "Weather")),
    "streamline-flex": IconifySet(
        "@iconify-json/streamline-flex@1.2.3",
        "Streamline Flex free icons (https://www.streamlinehq.com). Licence: CC-BY-4.0. " + _RENDER,
        _categories("ComputerDevices", "Culture", "Entertainment", "FoodDrink", "Health", "MapTravel",
                    "NatureEcology")),
    "hugeicons": IconifySet(
        "@iconify-json/hugeicons@1.2.35",
        "Hugeicons free set (https://hugeicons.com). Licence: MIT. " + _RENDER),
    "mingcute": IconifySet(
        "@iconify-json/mingcute@1.2.8",
        "MingCute icons (https://www.mingcute.com). Licence: Apache-2.0. " + _RENDER),
    "tdesign": IconifySet(
        "@iconify-json/tdesign@1.2.19",
        "TDesign icons by Tencent (https://github.com/Tencent/tdesign-icons). Licence: MIT. " + _RENDER),
    "ri": IconifySet(
        "@iconify-json/ri@1.2.10",
        "Remix Icon (https://remixicon.com). Licence: Apache-2.0. " + _RENDER,
        _categories("Buildings", "Device", "Food", "Game & Sports", "Health & Medical", "Weather")),
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
    return build_icon_set(name, icons, cache, reserved, f"Source: npm package `{spec.package}`: {spec.credits}",
                          spec.categories)


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
