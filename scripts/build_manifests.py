#!/usr/bin/env python3
"""Build every training manifest: ``${XMODAL_CACHE:-~/.cache/xmodal}/data/<source>/manifest.jsonl``.

    python scripts/build_manifests.py                  all sources (0 A.D. is a 1.4 GB download)
    python scripts/build_manifests.py --skip-large     all but the large downloads (0 A.D., Widelands)
    python scripts/build_manifests.py --only scratch mdi

Each source is fetched with apt-get or npm into its cache folder once; rendered images and sounds
are cached too, so a second run only re-reads them (idempotent and resumable). First the hash list
of the sources reserved for evaluation is built (``hash_reserved_sources.py``); every builder drops
records whose files match it. Prints per-source counts and what was dropped and why, and writes
``CREDITS.md`` (licence and attribution) beside each manifest. Tools: ``scripts/setup_data_tools.sh``.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_sources import iconify, reserved_hashes  # noqa: E402
from data_sources.fetch import cache_root, source_dir  # noqa: E402
from data_sources.manifest import write_credits  # noqa: E402
from data_sources.reserved import load_hashes  # noqa: E402

# Source name -> builder module in data_sources (its NAME equals the key).
SOURCES = {
    "tuxpaint": "tuxpaint",
    "ktuberling": "ktuberling",
    "openclipart": "openclipart",
    "scratch": "scratch",
    "opensfx": "opensfx",
    "fluidsynth": "fluidsynth",
    "0ad": "zeroad",
    "widelands": "widelands",
    "mdi": "mdi",
    "phosphor": "phosphor",
    "tabler": "tabler",
    "lucide": "lucide",
    "flat-color-icons": "flat_color_icons",
    **{name: "iconify" for name in iconify.SETS},  # game-icons and the other Iconify JSON sets
}
LARGE = {"0ad": "1.4 GB", "widelands": "381 MB"}  # downloads skipped with --skip-large


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SOURCES), metavar="NAME",
                        help=f"build only these sources (choices: {', '.join(SOURCES)})")
    parser.add_argument("--skip-large", "--skip-0ad", action="store_true",
                        help="leave out the large downloads: " + ", ".join(f"{k} ({v})" for k, v in LARGE.items()))
    parser.add_argument("--samples", type=int, default=0, help="print this many random captions per source")
    args = parser.parse_args(argv)

    started = time.monotonic()
    names = args.only or [name for name in SOURCES if not (args.skip_large and name in LARGE)]
    reserved_hashes.build(cache_root())  # cached after the first run
    reserved = load_hashes(cache_root())
    print(f"{len(reserved)} hashes of files reserved for evaluation", flush=True)
    totals = []
    for name in names:
        began = time.monotonic()
        folder = source_dir(name)
        if SOURCES[name] == "iconify":
            result = iconify.build(name, folder, reserved)
        else:
            result = importlib.import_module(f"data_sources.{SOURCES[name]}").build(folder, reserved)
        result.write(folder / "manifest.jsonl")
        write_credits(folder, f"Credits: {name}", result.credits)
        print(result.summary(), flush=True)
        print(f"  manifest: {folder / 'manifest.jsonl'} ({time.monotonic() - began:.0f} s)", flush=True)
        if args.samples:
            for record in random.Random(0).sample(result.records, min(args.samples, len(result.records))):
                kinds = "+".join(key for key in ("image", "audio") if key in record)
                print(f"    [{kinds}] {record['text']!r}  <- {record['concept']}")
        totals.append((name, result.counts()))
    print(f"\n{'source':<18}" + "".join(f"{key:>12}" for key in totals[0][1]) if totals else "")
    for name, counts in totals:
        print(f"{name:<18}" + "".join(f"{value:>12}" for value in counts.values()))
    print(f"built {len(totals)} manifests in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
