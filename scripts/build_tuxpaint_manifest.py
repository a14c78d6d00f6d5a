#!/usr/bin/env python3
"""Build a JSONL manifest of image/text/audio concepts from the Tux Paint stamps.

The stamps come from the Debian package ``tuxpaint-stamps-default`` (GPL-2.0-or-later).
Without ``--source`` the script runs ``apt-get download`` and ``dpkg -x`` into the cache,
skipping whatever is already there; with ``--source DIR`` it reads an extracted tree.

Each stamp becomes one manifest line::

    {"concept": "animals/mammals/dogs/dog", "category": "animals",
     "image": "/abs/composited.png", "text": "A dog.", "audio": "/abs/dog.ogg"}

``text`` is the first line of ``<stem>.txt`` as written (trailing punctuation kept).
``audio`` is present only for a usable effect sound: ``<stem>.ogg`` (never ``_desc``),
not under ``symbols/`` (spoken letters and digits), not deny-listed, not silent, and
not a decoded-sample duplicate of a sound already kept.

Dependencies: stdlib, numpy, Pillow, soundfile; ``rsvg-convert`` (librsvg2-bin) for SVGs.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

PACKAGE = "tuxpaint-stamps-default"
STAMPS_SUBDIR = Path("usr/share/tuxpaint/stamps")
# Sounds that decode fine but belong to another concept (badger.ogg is the beaver sound).
DENY_AUDIO = {
    "animals/mammals/badger": "wrong sound, identical to the beaver sound",
    "vehicles/emergency/firetruck": "sound licensed CC Sampling Plus 1.0, marked non-free upstream",
}
SPOKEN_PREFIXES = ("symbols/",)


def default_cache_dir() -> Path:
    root = os.environ.get("XMODAL_CACHE") or "~/.cache/xmodal"
    return Path(root).expanduser() / "data" / "tuxpaint"


def fetch_package(cache: Path) -> tuple[Path, str | None]:
    """Download and extract the .deb into ``cache`` unless already done; return the root."""
    deb_dir, root = cache / "deb", cache / "root"
    marker = root / ".extracted"
    debs = sorted(deb_dir.glob(f"{PACKAGE}_*.deb"))
    if not debs and not marker.exists():
        deb_dir.mkdir(parents=True, exist_ok=True)
        print(f"downloading {PACKAGE} into {deb_dir} ...", flush=True)
        result = subprocess.run(["apt-get", "download", PACKAGE], cwd=deb_dir)
        debs = sorted(deb_dir.glob(f"{PACKAGE}_*.deb"))
        if result.returncode != 0 or not debs:
            sys.exit(f"apt-get download {PACKAGE} failed (try `apt-get update` first, "
                     "or pass --source DIR pointing at an extracted tree)")
    if not marker.exists():
        print(f"extracting {debs[-1].name} into {root} ...", flush=True)
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg", "-x", str(debs[-1]), str(root)], check=True)
        marker.touch()
    version = None
    if debs:
        out = subprocess.run(["dpkg-deb", "-f", str(debs[-1]), "Version"],
                             capture_output=True, text=True)
        version = out.stdout.strip() or None
    return root, version


def changelog_version(root: Path) -> str | None:
    """Read the Debian version from an extracted tree's changelog, if present."""
    log = root / "usr/share/doc" / PACKAGE / "changelog.Debian.gz"
    try:
        with gzip.open(log, "rt", encoding="utf-8") as fh:
            match = re.match(r"\S+ \(([^)]+)\)", fh.readline())
    except OSError:
        return None
    return match.group(1) if match else None


def stamps_dir(root: Path) -> Path:
    candidate = root / STAMPS_SUBDIR
    if candidate.is_dir():
        return candidate
    if root.is_dir() and any(root.rglob("*.txt")):
        return root  # already pointing at the stamps directory itself
    sys.exit(f"no Tux Paint stamps found under {root}")


def read_caption(txt: Path) -> str:
    """First line of a stamp's .txt (English), whitespace collapsed, punctuation kept."""
    with txt.open(encoding="utf-8", errors="replace") as fh:
        return " ".join(fh.readline().split())


def render_image(src: Path, dst: Path, max_side: int, rsvg: str | None) -> str | None:
    """Composite a stamp onto white as RGB PNG at ``dst``; return an error or None."""
    if src.suffix == ".svg":
        if rsvg is None:
            return "SVG but rsvg-convert is not installed (apt-get install librsvg2-bin)"
        tmp = dst.with_suffix(".rsvg.png")
        res = subprocess.run([rsvg, "-a", "-w", str(max_side), "-h", str(max_side),
                              "-o", str(tmp), str(src)], capture_output=True, text=True)
        if res.returncode != 0 or not tmp.exists():
            return f"rsvg-convert failed: {res.stderr.strip()[:200]}"
        src = tmp
    try:
        with Image.open(src) as im:
            im.load()
            rgba = im.convert("RGBA")
    except (OSError, Image.DecompressionBombError) as exc:
        return f"unreadable image: {exc}"
    finally:
        if src.name.endswith(".rsvg.png"):
            src.unlink(missing_ok=True)
    rgba.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    canvas.alpha_composite(rgba)
    partial = dst.with_suffix(".partial.png")
    canvas.convert("RGB").save(partial, optimize=True)
    partial.replace(dst)  # atomic: an interrupted run never leaves a truncated image behind
    return None


def dbfs(value: float) -> float:
    return 20.0 * float(np.log10(max(value, 1e-12)))


def audio_problem(path: Path, min_peak_db: float, min_rms_db: float) -> tuple[str | None, str]:
    """Return (reason the sound is unusable or None, hash of its decoded samples)."""
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        return f"undecodable ({exc})", ""
    mono = data.mean(axis=1)
    digest = hashlib.sha1(np.round(data * 32767).astype("<i2").tobytes()
                          + str(rate).encode()).hexdigest()
    if mono.size == 0:
        return "empty", digest
    peak = float(np.abs(mono).max())
    rms = float(np.sqrt(np.mean(mono.astype(np.float64) ** 2)))
    if dbfs(peak) < min_peak_db or dbfs(rms) < min_rms_db:
        return f"silent (peak {dbfs(peak):.0f} dBFS, rms {dbfs(rms):.0f} dBFS)", digest
    return None, digest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache-dir", type=Path, default=default_cache_dir(),
                    help="working directory (default: $XMODAL_CACHE/data/tuxpaint)")
    ap.add_argument("--source", type=Path,
                    help="already-extracted package tree (or its stamps dir); skips apt-get")
    ap.add_argument("--output", type=Path, help="manifest path (default: CACHE/manifest.jsonl)")
    ap.add_argument("--exclude-concepts", type=Path,
                    help="file with one concept path per line to leave out ('#' comments ok)")
    ap.add_argument("--max-side", type=int, default=512, help="longest image side in pixels")
    ap.add_argument("--min-peak-db", type=float, default=-60.0, help="silence threshold (peak)")
    ap.add_argument("--min-rms-db", type=float, default=-70.0, help="silence threshold (RMS)")
    ap.add_argument("--force", action="store_true", help="re-render images that exist")
    args = ap.parse_args(argv)

    cache: Path = args.cache_dir.expanduser().resolve()
    if args.source:
        root = args.source.expanduser().resolve()
        version = changelog_version(root)
    else:
        root, version = fetch_package(cache)
        version = version or changelog_version(root)
    stamps = stamps_dir(root)
    images_dir = cache / f"images-{args.max_side}"  # one folder per size: no stale reuse
    output = (args.output or cache / "manifest.jsonl").expanduser().resolve()

    excluded: set[str] = set()
    if args.exclude_concepts:
        for line in args.exclude_concepts.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                excluded.add(line)
    rsvg = shutil.which("rsvg-convert")

    counts: Counter[str] = Counter()
    skipped: dict[str, list[str]] = defaultdict(list)
    dropped: dict[str, list[str]] = defaultdict(list)
    seen_audio: dict[str, str] = {}
    seen_excluded: set[str] = set()
    records: list[dict[str, str]] = []

    for txt in sorted(stamps.rglob("*.txt")):
        concept = (txt.parent.relative_to(stamps) / txt.stem).as_posix()
        counts["stamps"] += 1
        if concept in excluded:
            seen_excluded.add(concept)
            counts["excluded"] += 1
            continue
        src = next((p for p in (txt.parent / f"{txt.stem}.png", txt.parent / f"{txt.stem}.svg")
                    if p.exists()), None)
        if src is None:
            skipped["no image file"].append(concept)
            continue
        dst = images_dir / f"{concept}.png"
        if args.force or not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            dst.parent.mkdir(parents=True, exist_ok=True)
            error = render_image(src, dst, args.max_side, rsvg)
            if error:
                print(f"skip {concept}: {error}", file=sys.stderr)
                skipped[error.split(":")[0]].append(concept)
                continue
            counts["rendered"] += 1
        record = {"concept": concept, "category": concept.split("/", 1)[0],
                  "image": str(dst), "text": read_caption(txt)}
        counts["with image"] += 1
        counts[f"from {src.suffix[1:]}"] += 1

        sound = txt.parent / f"{txt.stem}.ogg"
        if sound.exists():
            counts["with effect sound"] += 1
            kind, detail = "", ""
            if concept.startswith(SPOKEN_PREFIXES):
                kind = "spoken symbol, not an effect"
            elif concept in DENY_AUDIO:
                kind, detail = "deny-listed", DENY_AUDIO[concept]
            else:
                problem, digest = audio_problem(sound, args.min_peak_db, args.min_rms_db)
                if problem:
                    kind, _, detail = problem.partition(" (")
                    detail = detail.rstrip(")")
                elif digest in seen_audio:
                    kind, detail = "duplicate", f"same samples as {seen_audio[digest]}"
                else:
                    seen_audio[digest] = concept
            if kind:
                dropped[kind].append(f"{concept} ({detail})" if detail else concept)
            else:
                record["audio"] = str(sound)
                counts["with usable audio"] += 1
        records.append(record)

    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(output.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(output)

    print(f"package: {PACKAGE} {version or '(version unknown)'}  stamps: {stamps}")
    print(f"stamps (.txt):            {counts['stamps']}")
    print(f"excluded by list:         {counts['excluded']}")
    print(f"with image:               {counts['with image']} "
          f"(png {counts['from png']}, svg {counts['from svg']}; "
          f"{counts['rendered']} rendered now)")
    for reason, items in sorted(skipped.items()):
        print(f"  skipped, {reason}: {len(items)}: {', '.join(items[:8])}"
              + (" ..." if len(items) > 8 else ""))
    print(f"with an effect sound:     {counts['with effect sound']}")
    print(f"with usable audio:        {counts['with usable audio']}")
    for reason, items in sorted(dropped.items()):
        print(f"  audio dropped, {reason}: {len(items)}")
        if not reason.startswith("spoken"):
            for item in items:
                print(f"    {item}")
    missing = sorted(excluded - seen_excluded)
    if missing:
        print(f"warning: {len(missing)} excluded concepts not found: {', '.join(missing[:10])}")
    print(f"manifest: {output} ({len(records)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
