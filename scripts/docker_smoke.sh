#!/usr/bin/env bash
# Build the CPU image and check it (too slow for CI: run before a release). As root, on a machine
# with no image registry (docs: ../shared/FACTS.md "Docker"):
#   1. a Debian base image from debootstrap (local/debian:bookworm), unless BASE_IMAGE is given;
#   2. the xmodal image (docker/Dockerfile) built on it, pip reaching the registry with the host's CA
#      bundle and this machine's wheel folder (/opt/wheels: the CPU torch) served on loopback;
#   3. the image alone: it indexes its sample corpus and serves it; a text query must answer;
#   4. the compose stack (docker/compose.yaml): PostgreSQL, a Ray head and worker; an index job runs
#      through the Ray cluster into PostgreSQL, then a reader answers a query.
# All containers use host networking: traffic stays on loopback. Steps: SMOKE_STEPS="image alone compose".
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${SMOKE_STEPS:-"image alone compose"}
port=${SMOKE_PORT:-18731}
wheels_port=${SMOKE_WHEELS_PORT:-18732}
base=${BASE_IMAGE:-local/debian:bookworm}
compose="docker-compose -f docker/compose.yaml -p xmodal-smoke"
say() { echo "== $*" >&2; }

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: /tmp/dockerd.log)"
  dockerd >/tmp/dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi

query() {  # query PORT TEXT: the first hit's path or text, or fail
  curl -sf -H 'content-type: application/json' -d "{\"text\": \"$2\", \"k\": 3}" "http://127.0.0.1:$1/search" \
    | python3 -c 'import json,sys; hits=json.load(sys.stdin)["results"]; assert hits, "no results"; print(len(hits), "results, first:", hits[0].get("path") or hits[0].get("text"))'
}

wait_health() {  # wait_health PORT SECONDS
  for _ in $(seq "$2"); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 1; done
  return 1
}

if [[ " $steps " == *" image "* ]]; then
  if [ -z "${BASE_IMAGE:-}" ] && ! docker image inspect "$base" >/dev/null 2>&1; then
    say "making $base with debootstrap"
    rootfs=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$rootfs" >/tmp/debootstrap.log
    tar -C "$rootfs" -c . | docker import - "$base"
    rm -rf "$rootfs"
  fi
  cp /etc/ssl/certs/ca-certificates.crt docker/certs/host-ca.crt
  python3 -m http.server --bind 127.0.0.1 "$wheels_port" --directory /opt/wheels >/dev/null 2>&1 &
  wheels=$!
  trap 'kill $wheels 2>/dev/null || true' EXIT
  say "building xmodal:cpu on $base"
  time docker build --network host -f docker/Dockerfile -t xmodal:cpu \
    --build-arg BASE_IMAGE="$base" --build-arg PIP_CERT_FILE=host-ca.crt \
    --build-arg PIP_EXTRA_INDEX_URL= --build-arg PIP_FIND_LINKS="http://127.0.0.1:$wheels_port/" .
  say "building xmodal-postgres on $base"
  docker build --network host -f docker/Dockerfile.postgres -t xmodal-postgres --build-arg BASE_IMAGE="$base" docker
  docker image ls xmodal:cpu
fi

if [[ " $steps " == *" alone "* ]]; then
  say "the image alone: index the sample corpus, serve it on port $port"
  docker run -d --rm --name xmodal-smoke-alone --network host -e XMODAL_PORT="$port" -e XMODAL_HOST=127.0.0.1 xmodal:cpu
  if ! wait_health "$port" 600; then docker logs xmodal-smoke-alone; docker stop xmodal-smoke-alone; exit 1; fi
  docker logs xmodal-smoke-alone 2>&1 | grep -E "^indexed|items/s" || true
  query "$port" "a dog barking"
  docker stop xmodal-smoke-alone >/dev/null
fi

if [[ " $steps " == *" compose "* ]]; then
  say "compose: PostgreSQL + Ray head + Ray worker"
  $compose down -v >/dev/null 2>&1 || true
  $compose up -d postgres ray-head ray-worker
  sleep 20
  $compose exec -T ray-head ray status | grep -E "node_|CPU" || true
  say "an index job through the Ray cluster into PostgreSQL"
  $compose exec -T ray-head xmodal index --ray 127.0.0.1:6379 --ray-workers 2 /corpus
  say "a reader on port 8000"
  $compose up -d serve
  if ! wait_health 8000 600; then $compose logs serve; exit 1; fi
  query 8000 "a dog barking"
  $compose exec -T ray-head xmodal info | sed -n 1,6p  # sed reads it all: no SIGPIPE under pipefail
  $compose down -v
fi
say "docker smoke: ok"
