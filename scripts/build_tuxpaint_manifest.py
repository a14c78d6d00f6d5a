#!/usr/bin/env python3
"""Build the Tux Paint stamps manifest (one source of ``build_manifests.py``, kept as its own command).

Without ``--source`` the package ``tuxpaint-stamps-default`` is fetched with ``apt-get download`` and
``dpkg -x`` into ``${XMODAL_CACHE:-~/.cache/xmodal}/data/tuxpaint``. The record format and the
cleaning rules are in ``data_sources/tuxpaint.py``. Tools: librsvg2-bin (``rsvg-convert``) for the
SVG-only stamps; Python: numpy, Pillow, soundfile.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_sources import tuxpaint  # noqa: E402
from data_sources.fetch import cache_root, source_dir  # noqa: E402
from data_sources.manifest import write_credits  # noqa: E402
from data_sources.reserved import load_hashes  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache-dir", type=Path, default=source_dir(tuxpaint.NAME),
                    help="working directory (default: $XMODAL_CACHE/data/tuxpaint)")
    ap.add_argument("--source", type=Path, help="already-extracted package tree (or its stamps dir); skips apt-get")
    ap.add_argument("--output", type=Path, help="manifest path (default: CACHE/manifest.jsonl)")
    ap.add_argument("--exclude-concepts", type=Path,
                    help="file with one concept path per line to leave out ('#' comments ok)")
    ap.add_argument("--max-side", type=int, default=512, help="longest image side in pixels")
    ap.add_argument("--force", action="store_true", help="re-render images that exist")
    args = ap.parse_args(argv)

    excluded = set()
    if args.exclude_concepts:
        for line in args.exclude_concepts.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                excluded.add(line)
    cache = args.cache_dir.expanduser().resolve()
    result = tuxpaint.build(cache, load_hashes(cache_root()), source=args.source and args.source.expanduser().resolve(),
                            max_side=args.max_side, exclude=frozenset(excluded), force=args.force)
    output = (args.output or cache / "manifest.jsonl").expanduser().resolve()
    result.write(output)
    write_credits(output.parent, "Credits: tuxpaint", result.credits)
    print(result.summary(show=20))
    print(f"manifest: {output} ({len(result.records)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
