#!/usr/bin/env bash
#! The main job: builds everything and serves the demo shop the way production runs: the shop's own
#! server (demo-shop/server.mjs, the origin) on 127.0.0.1:$ORIGIN_PORT, and the edge worker (real
#! workerd, via wrangler dev) in front of it at http://127.0.0.1:$PORT, with Workers KV filled from
#! the profile snapshots. PORT defaults to 8787, ORIGIN_PORT to 8788.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export WRANGLER_SEND_METRICS=false
WRANGLER=node_modules/.bin/wrangler
STATE=build/wrangler-state
PORT="${PORT:-8787}"
ORIGIN_PORT="${ORIGIN_PORT:-8788}"
printf '[serve] seeding Workers KV (local) with %s profile snapshots\n' "$(grep -c '"key"' <(tr '}' '\n' < build/kv-profiles.json) || true)" >&2
"$WRANGLER" kv bulk put --binding PROFILES --local --persist-to "$STATE" --config edge-worker/wrangler.toml build/kv-profiles.json >/dev/null

node demo-shop/server.mjs --port "$ORIGIN_PORT" &
origin=$!
trap 'kill "$origin" 2>/dev/null || true' EXIT INT TERM
printf '[serve] demo shop: http://127.0.0.1:%s  (visitor switcher bottom right; the origin alone: http://127.0.0.1:%s)\n' "$PORT" "$ORIGIN_PORT" >&2
"$WRANGLER" dev --local --config edge-worker/wrangler.toml --ip 127.0.0.1 --port "$PORT" \
  --var "VITRINE_ORIGIN:http://127.0.0.1:$ORIGIN_PORT" --persist-to "$STATE" --show-interactive-dev-session=false
