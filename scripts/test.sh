#!/usr/bin/env bash
#! Runs every test: native engine/CLI/demo tests, the shared decision cases, the snippet in real
#! Chromium (Playwright), and the edge worker in real workerd (wrangler dev). Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export VITRINE_NEED_BROWSER=1 WRANGLER_SEND_METRICS=false
bash scripts/build.sh
status=0
echo "== size budget of the production snippet"
bash scripts/check-size.sh || status=1
echo "== style: rustfmt (rustfmt.toml) and clippy, warnings as errors"
{ cargo fmt --all --check && (cd fuzz && cargo fmt --check); } || { echo "rustfmt: run \`cargo fmt --all\` (and in fuzz/)"; status=1; }
cargo clippy --quiet --workspace --all-targets -- -D warnings || status=1
echo "== the snippet's TypeScript types (tsc against a shop's usage)"
node_modules/.bin/tsc -p tests/types || status=1
echo "== native: CEL, engine, CLI, demo-shop generator, edge rewriting"
cargo test --quiet -p vitrine-cel -p vitrine-engine -p vitrine-cli -p vitrine-demo -p vitrine-edge 2>&1 || status=1
echo "== the locale table and the price cases against Node's Intl (ICU)"
node --test tests/money/ 2>&1 || status=1
echo "== browser (Chromium) and edge (workerd)"
node --test --test-concurrency=1 tests/browser/ tests/edge/ 2>&1 || status=1
exit $status
