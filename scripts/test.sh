#!/usr/bin/env bash
# Set up and run the test suite: offline, on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
XMODAL_BROWSER=1 XMODAL_POSTGRES=1 XMODAL_RAY=${XMODAL_RAY:-0} bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
python -m pytest -q "$@"
