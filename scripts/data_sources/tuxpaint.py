"""Tux Paint stamps (Debian ``tuxpaint-stamps-default``, GPL-2.0-or-later): pictures, captions, effect sounds.

Each stamp becomes one record::

    {"source": "tuxpaint", "concept": "animals/mammals/dogs/dog", "category": "animals",
     "image": "/abs/composited.png", "audio": "/abs/dog.ogg", "text": "A dog."}

``text`` is the first line of ``<stem>.txt`` as written. ``audio`` is present only for a usable
effect sound: ``<stem>.ogg`` (never ``_desc``, a spoken description), not under ``symbols/``
(spoken letters and digits), not deny-listed, not silent, not a duplicate of a sound already kept.
Images are composited onto white (RGB PNG); SVG-only stamps are rendered with ``rsvg-convert``.
"""

from __future__ import annotations

from pathlib import Path

from data_sources.fetch import fetch_debs
from data_sources.manifest import ManifestBuild
from data_sources.media import audio_problem, make_thumbnail

NAME = "tuxpaint"
PACKAGE = "tuxpaint-stamps-default"
STAMPS_SUBDIR = Path("usr/share/tuxpaint/stamps")
# Sounds that decode fine but belong to another concept (badger.ogg is the beaver sound).
DENY_AUDIO = {
    "animals/mammals/badger": "wrong sound, identical to the beaver sound",
    "vehicles/emergency/firetruck": "sound licensed CC Sampling Plus 1.0, marked non-free upstream",
}
SPOKEN_PREFIXES = ("symbols/",)
CREDITS = """Source: Debian package `tuxpaint-stamps-default` {version} (Tux Paint stamps, https://tuxpaint.org).
Licence: GPL-2.0-or-later. Authors: the Tux Paint stamp contributors, listed in the package's
`usr/share/doc/tuxpaint-stamps-default/copyright`. Pictures, captions (`<stem>.txt`) and effect
sounds (`<stem>.ogg`) are used unchanged apart from compositing onto white and resizing."""


def build(cache: Path, reserved: frozenset[str], *, source: Path | None = None, max_side: int = 512,
          exclude: frozenset[str] = frozenset(), force: bool = False) -> ManifestBuild:
    if source is None:
        root, versions = fetch_debs((PACKAGE,), cache)
        version = versions[PACKAGE]
    else:
        root, version = source, "(from an extracted tree)"
    stamps = root / STAMPS_SUBDIR if (root / STAMPS_SUBDIR).is_dir() else root
    images_dir = cache / f"images-{max_side}"  # one folder per size: no stale reuse
    result = ManifestBuild(NAME)
    result.credits = CREDITS.format(version=version)
    seen_audio: dict[str, str] = {}
    for txt in sorted(stamps.rglob("*.txt")):
        concept = (txt.parent.relative_to(stamps) / txt.stem).as_posix()
        if concept in exclude:
            result.drop("excluded by list", concept)
            continue
        src = next((p for p in (txt.parent / f"{txt.stem}.png", txt.parent / f"{txt.stem}.svg") if p.exists()), None)
        if src is None:
            result.drop("no image file", concept)
            continue
        dst = images_dir / f"{concept}.png"
        if force or not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            error = make_thumbnail(src, dst, max_side, on_white=True)
            if error:
                result.drop(error.split(":")[0], concept)
                continue
        record = {"concept": concept, "category": concept.split("/", 1)[0], "image": dst, "text": read_caption(txt)}
        origins = (src,)
        sound = txt.parent / f"{txt.stem}.ogg"
        if sound.exists():
            problem = sound_problem(concept, sound, seen_audio)
            if problem:
                reason, _, detail = problem.partition(" (")
                result.drop(f"sound: {reason}", f"{concept} ({detail}" if detail else concept)
            else:
                record["audio"] = sound
                origins += (sound,)
        result.add(record, origins)
    result.drop_reserved(reserved)
    return result


def sound_problem(concept: str, sound: Path, seen_audio: dict[str, str]) -> str | None:
    if concept.startswith(SPOKEN_PREFIXES):
        return "spoken symbol, not an effect"
    if concept in DENY_AUDIO:
        return f"deny-listed ({DENY_AUDIO[concept]})"
    problem, digest = audio_problem(sound)
    if problem:
        return problem
    if digest in seen_audio:
        return f"duplicate (same samples as {seen_audio[digest]})"
    seen_audio[digest] = concept
    return None


def read_caption(txt: Path) -> str:
    """First line of a stamp's .txt (English), whitespace collapsed, punctuation kept."""
    with txt.open(encoding="utf-8", errors="replace") as fh:
        return " ".join(fh.readline().split())
