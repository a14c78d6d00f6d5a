#!/usr/bin/env python3
"""Hash every file of the sources reserved for independent evaluation into the cache.

Writes ``${XMODAL_CACHE:-~/.cache/xmodal}/reserved/sha256.txt``; the manifest builders drop any
record whose source or output file has one of these hashes. The packages are downloaded only to be
hashed (in memory) and deleted at once. Needs apt-get (after ``apt-get update``), npm and pip.

    python scripts/hash_reserved_sources.py [--force]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_sources import reserved_hashes  # noqa: E402
from data_sources.fetch import cache_root  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild the list even if it is cached")
    args = parser.parse_args(argv)
    reserved_hashes.build(cache_root(), force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
