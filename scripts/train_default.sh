#!/usr/bin/env bash
# Reproduce the shipped xmodal-base heads from scratch, and their evaluation tables.
#   bash scripts/train_default.sh            (CPU is enough: ~15 min of feature extraction once, then ~1 min)
# Data (fetched with apt-get download, cached under ${XMODAL_CACHE:-~/.cache/xmodal}, never in git):
# Tux Paint stamps (GPL-2.0-or-later) and OpenClipart (public domain).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
cache="${XMODAL_CACHE:-$HOME/.cache/xmodal}"
runs="$cache/runs/xmodal-base"
seed="${SEED:-0}"
manifests=("$cache/data/tuxpaint/manifest.jsonl" "$cache/data/openclipart/manifest.jsonl")
split=(--holdout samples/holdout-concepts.txt --holdout-category household --test-fraction 0.15 --val-fraction 0.1 --seed "$seed")

[ -s "${manifests[0]}" ] || python scripts/build_tuxpaint_manifest.py
[ -s "${manifests[1]}" ] || python scripts/build_openclipart_manifest.py

# The shipped heads: contrastive training (recipe = the `xmodal train` defaults).
xmodal train "${manifests[@]}" "${split[@]}" --out src/xmodal/encoders/heads/xmodal-base.safetensors
# A closed-form baseline on the same split: the zero-training image bridge and a ridge audio head.
xmodal train "${manifests[@]}" "${split[@]}" --epochs 0 --image-adapter none --out "$runs/closed-form.safetensors"

for part in test category; do
  xmodal eval "${manifests[@]}" "${split[@]}" --split "$part" \
    --compare "closed-form (bridge + ridge audio)=$runs/closed-form.safetensors" --out "$runs/eval"
done
echo "tables: $runs/eval/test.md (held-out concepts), $runs/eval/category.md (held-out category)"
