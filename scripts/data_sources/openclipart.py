"""OpenClipart (Debian ``openclipart-png`` / ``openclipart-svg``, public domain): captioned clip art.

Titles, descriptions and keywords sit in each SVG's RDF metadata (``dc:title``, ``dc:description``,
``dc:subject``). Most of the collection needs cleaning: collection names used as titles
("gramastar", "Part of the Flat Icon Collection ..."), titles in other languages ("Cavallo"), hash
codes and e-mail addresses as descriptions. A title is kept when it is not shared by many files,
has no junk marker, and all its words are English words known to the MiniLM tokenizer; otherwise
the file name is tried the same way. Each kept PNG is thumbnailed with its alpha kept (training
can change the background)::

    {"source": "openclipart", "concept": "openclipart/animals/mammals/dogs/bored_dog_01", "category": "animals",
     "image": "/abs/thumb.png", "text": "Bored dog", "texts": ["bored dog, mammal, dog, animal", ...]}

Images over the decompression-bomb limit and duplicate images are skipped.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from pathlib import Path

from data_sources.captions import english_vocabulary
from data_sources.fetch import fetch_debs
from data_sources.manifest import ManifestBuild
from data_sources.media import MAX_PIXELS, make_thumbnail

NAME = "openclipart"
PACKAGES = ("openclipart-png", "openclipart-svg")
ROOT_SUBDIR = Path("usr/share/openclipart")

JUNK_MARKERS = ("clipart by", "collection", "theme", "icon", "svg", "hash", "http", "@", "untitled",
                "layer", "sibmission", "submission", "cliparts", "iconset", "rpg map", "aiga")
GENERIC_KEYWORDS = {"hash", "icons", "icon", "computer", "theme", "shape", "shapes", "signs_and_symbols",
                    "clip art", "clipart", "svg", "png", "image", "symbol", "sign", "mapsym", "unsorted",
                    "special", "people", "office", "work", "media", "action", "application", "device",
                    "filesystem", "lemon_theme_icon", "etiquette", "architetto", "francesco", "rollandin"}
# Folders of near-anonymous pictures: playing cards ("white s"), GUI action icons ("next"), gradients.
DENY_DIRS = ("recreation/games/cards/", "computer/icons/flat-theme/action/", "computer/icons/lemon-theme/actions/",
             "computer/buttons/", "special/gradients/", "buttons/")
MAX_TITLE_SHARE = 3  # a title on more files than this is a collection name, not a caption
_WORD = re.compile(r"[a-z]+")
CREDITS = """Source: Debian packages `openclipart-png` and `openclipart-svg` {version} (Open Clip Art Library 0.18).
Licence: public domain (CC0 / Public Domain Dedication); no attribution is required. Titles, descriptions
and keywords come from each SVG's RDF metadata; the PNGs were resized with their alpha kept."""


def build(cache: Path, reserved: frozenset[str], *, source: Path | None = None, max_side: int = 512,
          max_pixels: int = MAX_PIXELS) -> ManifestBuild:
    if source is None:
        root, versions = fetch_debs(PACKAGES, cache)
        version = versions[PACKAGES[0]]
    else:
        root, version = source, "(from an extracted tree)"
    root = root / ROOT_SUBDIR
    if not (root / "svg").is_dir():
        raise FileNotFoundError(f"no OpenClipart tree under {root}")
    thumbs = cache / f"images-{max_side}"
    vocabulary = english_vocabulary()
    svgs = sorted((root / "svg").rglob("*.svg"))
    metas = {svg: read_metadata(svg) for svg in svgs}
    title_counts = Counter(str(meta["title"]).lower() for meta in metas.values())
    result = ManifestBuild(NAME, credits=CREDITS.format(version=version))
    result.notes["SVG files"] = len(svgs)
    seen_images: dict[str, str] = {}
    for svg in svgs:
        relative = svg.relative_to(root / "svg")
        png = (root / "png" / relative).with_suffix(".png")
        concept = f"openclipart/{relative.with_suffix('').as_posix()}"
        if relative.as_posix().startswith(DENY_DIRS):
            result.drop("anonymous folder (cards, GUI actions, gradients)", concept)
            continue
        caption = caption_for(svg, metas[svg], title_counts, vocabulary)
        if caption is None:
            result.drop("junk or non-English title", concept)
            continue
        if not png.is_file():
            result.drop("no PNG", concept)
            continue
        digest = hashlib.sha256(png.read_bytes()).hexdigest()
        if digest in seen_images:
            result.drop("duplicate image", f"{concept} (= {seen_images[digest]})")
            continue
        seen_images[digest] = concept
        dst = thumbs / relative.with_suffix(".png")
        if not dst.exists():
            problem = make_thumbnail(png, dst, max_side, on_white=False, max_pixels=max_pixels)
            if problem:
                result.drop(problem.split(" (")[0].split(":")[0], concept)
                continue
        texts = extra_phrasings(svg, relative, metas[svg], caption, vocabulary)
        result.add({"concept": concept, "category": relative.parts[0], "image": dst, "text": caption, "texts": texts},
                   (png, svg))
    result.drop_reserved(reserved)
    return result


def read_metadata(svg: Path) -> dict[str, object]:
    """Title, description and keywords of the cc:Work in an SVG's RDF block (regex: many files are not valid XML)."""
    text = svg.read_text(encoding="utf-8", errors="replace")[:300_000]
    work = re.search(r"<cc:Work.*?</cc:Work>", text, re.S)
    block = work.group(0) if work else ""

    def first(tag: str) -> str:
        found = re.search(rf"<dc:{tag}>(.*?)</dc:{tag}>", block, re.S)
        return " ".join(html.unescape(found.group(1)).split()) if found else ""

    subject = re.search(r"<dc:subject>(.*?)</dc:subject>", block, re.S)
    keywords = re.findall(r"<rdf:li>(.*?)</rdf:li>", subject.group(1), re.S) if subject else []
    return {"title": first("title"), "description": first("description"),
            "keywords": [" ".join(html.unescape(k).split()) for k in keywords if k.strip()]}


def clean_phrase(text: str, vocabulary: frozenset[str]) -> str | None:
    """`text` with underscores and dashes as spaces, if it reads as an English caption; else None."""
    phrase = " ".join(re.sub(r"[_\-]+", " ", text).split()).strip(" .,:;")
    lowered = phrase.lower()
    if not 3 <= len(phrase) <= 60 or any(marker in lowered for marker in JUNK_MARKERS):
        return None
    tokens = lowered.split()
    words = _WORD.findall(lowered)
    if not words or any(not token.strip("().,'!&").isalpha() for token in tokens):
        return None  # digits, version numbers, file-name debris
    return phrase if all(word in vocabulary for word in words if len(word) > 2) else None


def caption_for(svg: Path, meta: dict, title_counts: Counter, vocabulary: frozenset[str]) -> str | None:
    title = str(meta["title"])
    caption = None
    if title and title_counts[title.lower()] <= MAX_TITLE_SHARE:
        caption = clean_phrase(title, vocabulary)
    if caption is None:
        stem = re.sub(r"(_\d+[a-z]?)+$", "", svg.stem)  # "bored_dog_01" -> "bored_dog"
        caption = clean_phrase(stem, vocabulary)
    if caption and "/flags/" in svg.as_posix() and "flag" not in caption.lower():
        caption = f"flag of {caption}"
    return caption


def extra_phrasings(svg: Path, relative: Path, meta: dict, caption: str, vocabulary: frozenset[str]) -> list[str]:
    """Other ways to say it: description, keywords, and the folder path (category words)."""
    texts = []
    description = str(meta["description"])
    if description and description.lower() != caption.lower() and clean_description(description, vocabulary):
        texts.append(description[:200])
    keywords = [k.lower() for k in meta["keywords"] if k.lower() not in GENERIC_KEYWORDS and clean_phrase(k, vocabulary)]
    keywords = [k.replace("_", " ") for k in dict.fromkeys(keywords) if k != caption.lower()]
    if keywords:
        texts.append(f"{caption}, {', '.join(keywords[:6])}")
    folders = [part.replace("_", " ") for part in relative.parent.parts
               if part.lower() not in GENERIC_KEYWORDS and "theme" not in part.lower()]
    if folders:
        texts.append(f"{caption} ({', '.join(folders)})")
    return texts


def clean_description(text: str, vocabulary: frozenset[str]) -> bool:
    lowered = text.lower()
    if len(text) < 8 or any(marker in lowered for marker in ("hash(", "http", "@", "converted from", ".svg")):
        return False
    words = [word for word in _WORD.findall(lowered) if len(word) > 2]
    return bool(words) and sum(word in vocabulary for word in words) >= 0.8 * len(words)
