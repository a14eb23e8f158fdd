#!/usr/bin/env bash
#! The main job: builds everything and serves the demo shop through the edge worker (real workerd,
#! via wrangler dev) at http://127.0.0.1:8787, with Workers KV filled from the profile snapshots.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export WRANGLER_SEND_METRICS=false
WRANGLER=node_modules/.bin/wrangler
STATE=build/wrangler-state
printf '[serve] seeding Workers KV (local) with %s profile snapshots\n' "$(grep -c '"key"' <(tr '}' '\n' < build/kv-profiles.json) || true)" >&2
"$WRANGLER" kv bulk put --binding PROFILES --local --persist-to "$STATE" --config edge-worker/wrangler.toml build/kv-profiles.json >/dev/null
printf '[serve] demo shop: http://127.0.0.1:%s  (visitor switcher bottom right)\n' "${PORT:-8787}" >&2
exec "$WRANGLER" dev --local --config edge-worker/wrangler.toml --ip 127.0.0.1 --port "${PORT:-8787}" \
  --persist-to "$STATE" --show-interactive-dev-session=false
