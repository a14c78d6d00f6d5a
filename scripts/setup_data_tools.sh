#!/usr/bin/env bash
# Install the Debian tools the manifest builders (scripts/build_manifests.py) need. Idempotent: installs
# only what is missing. Needs root (or sudo) and apt-get; npm comes with Debian's `npm` package.
#   librsvg2-bin   rsvg-convert: renders SVG stamps, clip art and icons to PNG
#   fluidsynth     renders the General MIDI / GS sound-font presets to WAV
#   wordnet-base   WordNet 3.0's noun database: tells icon names of things from interface glyphs
#   zstd           reads zstd-compressed entries of Qt .rcc bundles when hashing reserved sources
#   npm            `npm pack` fetches the icon sets (nothing is installed into the repository)
# The Debian data sets themselves are fetched with apt-get download + dpkg -x (part of every Debian).
set -euo pipefail
packages=(librsvg2-bin fluidsynth wordnet-base zstd npm)
commands=(rsvg-convert fluidsynth /usr/share/wordnet/index.noun zstd npm)
missing=()
for i in "${!packages[@]}"; do
  target=${commands[$i]}
  if [[ $target == /* ]]; then [ -e "$target" ] || missing+=("${packages[$i]}")
  else command -v "$target" >/dev/null || missing+=("${packages[$i]}"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "data tools present: ${packages[*]}"
  exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "data tools installed: ${missing[*]}"
