"""Named icon sets (npm): keep the icons that picture a thing, caption them from their names, render them.

An icon set mixes pictures of things ("cow", "fire-truck") with interface glyphs ("arrow-left-bold",
"sync-off", "format-bold"). An icon is kept when, after its style words are dropped ("outline",
"variant", "fill"):
  - it is in one of the set's concrete categories (when the set has categories),
  - no word is an interface word ("off", "plus", "check", "arrow", ...) or a digit/abbreviation,
  - every word is an English word (the MiniLM vocabulary), and
  - WordNet files its longest known tail ("fire truck", else "truck") under a concrete kind
    (animal, artifact, food, plant, ...; see ``wordnet``).
Icons whose names are reserved (MDI ``emoticon-*``, anything "emoji") are refused. One record per
caption: variants of one thing collapse onto the first. Rendered to ``ICON_SIDE`` px PNG with alpha.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from data_sources.captions import all_english, english_vocabulary, with_article
from data_sources.manifest import ManifestBuild
from data_sources.media import make_thumbnail
from data_sources.reserved import reserved_reason
from data_sources.wordnet import WordNet, concrete_head, wordnet

ICON_SIDE = 256
STYLE_WORDS = frozenset("outline outlined variant filled fill solid bold thin duotone regular alt two tone simple".split())
UI_WORDS = frozenset("""
off on plus minus remove add check checked cancel close edit alert lock unlock locked sync settings cog search
arrow arrows up down left right multiple star network wireless bluetooth wifi marker question help info account
badge cross slash refresh export import download upload share link open hidden hide show eye view plus
import outline box circle square hexagon octagon rhombus triangle fast slow auto start stop play pause next previous
one two three four five six seven eight nine ten number numeric alpha letter text format align cursor pointer
file folder document user group minus sign signal off symbol flat icon logo brand variant empty full half
top bottom front back side horizontal vertical diagonal north south east west small large big
percent high low medium error warning clock timer time history schedule pin location map unknown forward
skip backward rewind reverse led usb hdmi more less select zoom reset topology http mail contact binary commons
scratch blocks terminal archive sms vip automatic data sheet clear filter filters rotate exchange currency planner
manager assistant chart gender load bolt logs nutrition induction power domain shopping nature prescription record
album video cast panorama reproduction connection queue analytics invoice script sound audio switch motion
terror prohibit inset baseline like placeholder grid department menu navigation random grip female male
celsius fahrenheit kelvin hash divide minimal type twirl movement counter sliders
""".split())


@dataclass
class Icon:
    name: str
    svg: Path | str  # a file, or SVG text to write
    category: str = ""
    aliases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    caption_name: str = ""  # the name to caption when it differs (a style suffix cut off)


def icon_caption(name: str, net: WordNet, vocabulary: frozenset[str], senses: int = 1,
                 category_words: frozenset[str] = frozenset()) -> str | None:
    """``"fire-truck"`` -> ``"a fire truck"``; None for interface glyphs, abbreviations and abstract names.

    One word must be a concrete noun; a longer name must be a WordNet compound ("fire truck"), or two
    words whose first is not itself a thing ("chess rook", not "shield sun" or "car limousine", where
    icon sets put the category first). ``category_words`` are leading words a set uses as folders
    ("food-hot-dog"), dropped when what remains passes.
    """
    words = [w for w in re.split(r"[-_\s]+", name.lower()) if w and w not in STYLE_WORDS]
    if len(words) > 1 and words[0] in category_words:
        shorter = icon_caption("-".join(words[1:]), net, vocabulary, senses)
        if shorter:
            return shorter
    if not words or any(w in UI_WORDS or not w.isalpha() or len(w) < 3 for w in words):
        return None
    if not all_english([w for w in words if not net.knows(w)], vocabulary):
        return None  # English: a noun WordNet knows, or a whole word of the MiniLM vocabulary
    phrase = " ".join(words)
    if len(words) == 1 or net.knows(phrase):
        concrete = net.is_concrete(phrase, senses) and not net.is_proper(phrase)
    elif len(words) == 2 and net.is_concrete(words[0], 1) and net.is_adjective(words[1]):
        phrase = f"{words[1]} {words[0]}"  # MDI puts the noun first: "guitar-electric" is an electric guitar
        concrete = True
    elif len(words) == 2:
        concrete = (not net.is_concrete(words[0], 2) and net.is_concrete(words[1], 1)
                    and not net.is_adjective(words[1]))
    else:
        concrete = False
    return with_article(phrase) if concrete else None


def other_phrasings(icon: Icon, caption: str, net: WordNet, vocabulary: frozenset[str]) -> list[str]:
    """Aliases that read as captions themselves ("fire-engine" -> "a fire engine")."""
    texts = []
    for alias in icon.aliases:
        phrase = icon_caption(alias, net, vocabulary, senses=1)
        if phrase and phrase != caption:
            texts.append(phrase)
    return texts


def build_icon_set(source: str, icons: list[Icon], cache: Path, reserved: frozenset[str], credits: str,
                   categories: frozenset[str] | None = None, senses: int = 2,
                   category_words: frozenset[str] = frozenset()) -> ManifestBuild:
    """Filter, caption and render ``icons``; ``categories`` (lower case) are the set's concrete ones."""
    net, vocabulary = wordnet(), english_vocabulary()
    result = ManifestBuild(source, credits=credits)
    images = cache / f"images-{ICON_SIDE}"
    svg_dir = cache / "svg"
    seen: dict[str, str] = {}
    for icon in sorted(icons, key=lambda i: (len(i.name), i.name)):
        if reserved_reason("icon", f"{source}:{icon.name}"):
            result.drop("reserved for evaluation (emoji)", icon.name)
            continue
        if categories is not None and icon.category.lower() not in categories:
            result.drop("not in a category of things", icon.name)
            continue
        caption = icon_caption(icon.caption_name or icon.name, net, vocabulary, senses, category_words)
        if caption is None:
            result.drop("name is an interface glyph, an abbreviation or abstract", icon.name)
            continue
        if caption in seen:
            result.drop("another icon already shows this", f"{icon.name} (= {seen[caption]})")
            continue
        svg = icon.svg
        if isinstance(svg, str):
            svg_dir.mkdir(parents=True, exist_ok=True)
            path = svg_dir / f"{icon.name}.svg"
            if not path.exists() or path.read_text() != svg:
                path.write_text(svg)
            svg = path
        png = images / f"{icon.name}.png"
        if not png.exists():
            error = make_thumbnail(svg, png, ICON_SIDE, on_white=False)
            if error:
                result.drop(error.split(":")[0], icon.name)
                continue
        seen[caption] = icon.name
        category = (icon.category or "icons").lower().replace(" / ", "-").replace(" ", "-")
        result.add({"concept": f"{source}/{icon.name}", "category": f"icons/{category}", "image": png,
                    "text": caption, "texts": other_phrasings(icon, caption, net, vocabulary)}, (svg,))
    result.drop_reserved(reserved)
    return result
