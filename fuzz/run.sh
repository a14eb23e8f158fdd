#!/usr/bin/env bash
# Runs fuzz targets one after another, each for SECONDS (default 240), politely: niced, one job,
# one worker, the per-input hang detector at 5 s and 2 GB of memory. Logs go to
# $CARGO_TARGET_DIR/fuzz-logs/<target>.log (libFuzzer's own job log is fuzz-0.log in fuzz/).
# Usage: fuzz/run.sh [SECONDS] [TARGET...]   (no targets: all of them)
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-fuzz}"
seconds="${1:-240}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(model_bin model_json bundle shard condition cel compiled_rules compiled_site catalog_shard orders_csv interactions_csv catalog_source site_source histories edge_rewrite)
fi
mkdir -p "$CARGO_TARGET_DIR/fuzz-logs"
for t in "${targets[@]}"; do
  dict=()
  if [ -f "$t.dict" ]; then dict=("-dict=$t.dict"); fi
  log="$CARGO_TARGET_DIR/fuzz-logs/$t.log"
  echo "== $t: ${seconds}s, log $log"
  nice -n 10 cargo +nightly fuzz run "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -report_slow_units=2 \
    -jobs=1 -workers=1 "${dict[@]}" >"$log" 2>&1 || echo "   $t exited with $?"
  # In jobs mode libFuzzer writes the fuzzing output to fuzz-<job>.log; keep it beside ours.
  if [ -f fuzz-0.log ]; then mv fuzz-0.log "$CARGO_TARGET_DIR/fuzz-logs/$t.job.log"; fi
  grep -E '^#[0-9]+.*(DONE|cov:)' "$CARGO_TARGET_DIR/fuzz-logs/$t.job.log" 2>/dev/null | tail -1 || true
done
