#!/usr/bin/env bash
# Reproduce the shipped xmodal-base heads from scratch, and their evaluation tables.
#   bash scripts/train_default.sh            (CPU is enough: ~15 min of feature extraction once, then ~1 min)
# Data (fetched with apt-get download / npm pack by scripts/build_manifests.py, cached under
# ${XMODAL_CACHE:-~/.cache/xmodal}/data/<source>, never in git; licences in each CREDITS.md there):
# Tux Paint (GPL-2.0+), OpenClipart (public domain), Scratch 1.4 media (CC-BY-SA-3.0), OpenSFX
# (CC-BY-SA-3.0), FluidR3 sound fonts rendered with fluidsynth (MIT), 0 A.D. (CC-BY-SA-3.0), and the
# icon sets MDI (Apache-2.0), game-icons (CC-BY-3.0), Phosphor (MIT), Tabler (MIT), Lucide (ISC),
# Flat Color Icons (MIT). Tools: bash scripts/setup_data_tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
cache="${XMODAL_CACHE:-$HOME/.cache/xmodal}"
runs="$cache/runs/xmodal-base"
seed="${SEED:-0}"
sources=(tuxpaint openclipart scratch opensfx fluidsynth 0ad mdi game-icons phosphor tabler lucide flat-color-icons)
manifests=()
missing=()
for source in "${sources[@]}"; do
  manifests+=("$cache/data/$source/manifest.jsonl")
  [ -s "$cache/data/$source/manifest.jsonl" ] || missing+=("$source")
done
split=(--holdout samples/holdout-concepts.txt --holdout-category household --test-fraction 0.15 --val-fraction 0.1 --seed "$seed")

if [ ${#missing[@]} -gt 0 ]; then
  bash scripts/setup_data_tools.sh
  python scripts/build_manifests.py --only "${missing[@]}"
fi

# The shipped heads: contrastive training (recipe = the `xmodal train` defaults).
xmodal train "${manifests[@]}" "${split[@]}" --out src/xmodal/encoders/heads/xmodal-base.safetensors
# A closed-form baseline on the same split: the zero-training image bridge and a ridge audio head.
xmodal train "${manifests[@]}" "${split[@]}" --epochs 0 --image-adapter none --out "$runs/closed-form.safetensors"

for part in test category; do
  xmodal eval "${manifests[@]}" "${split[@]}" --split "$part" \
    --compare "closed-form (bridge + ridge audio)=$runs/closed-form.safetensors" --out "$runs/eval"
done
echo "tables: $runs/eval/test.md (held-out concepts), $runs/eval/category.md (held-out category)"
