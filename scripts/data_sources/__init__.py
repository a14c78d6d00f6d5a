"""Builders of xmodal's training manifests, one module per data source, and the code they share.

Every builder fetches its source with a package registry's ordinary client (apt-get, npm) into
``${XMODAL_CACHE:-~/.cache/xmodal}/data/<source>``, writes ``manifest.jsonl`` and ``CREDITS.md``
there, and never touches a source reserved for independent evaluation (see ``reserved``).
Entry point: ``python scripts/build_manifests.py``.
"""
