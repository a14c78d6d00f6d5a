#!/usr/bin/env bash
# Set up, index the bundled sample corpus with the default model, and serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
store=${XMODAL_STORE:-.xmodal/demo}
xmodal index --store "$store" samples/corpus
xmodal search --store "$store" --text "a trumpet" -k 5
exec xmodal serve --store "$store" --host "${XMODAL_HOST:-127.0.0.1}" --port "${XMODAL_PORT:-8000}"
