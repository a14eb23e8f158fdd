#!/usr/bin/env bash
#! Scale run for `vitrine train`: a synthetic 100,000-item, 10-million-interaction log (cli/examples/
#! synth.rs), trained through the CLI contract; wall time and peak memory (GNU time) go to
#! bench/results/<date>-scale.md. Bounded: one generation, one training run.
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS=${ITEMS:-100000} INTERACTIONS=${INTERACTIONS:-10000000}
cargo build --quiet --release -p vitrine-cli --example synth --bin vitrine
mkdir -p bench/tmp
log="bench/tmp/synth-$ITEMS-$INTERACTIONS.csv"
[ -s "$log" ] || target/release/examples/synth --items "$ITEMS" --interactions "$INTERACTIONS" --out "$log"
stats=$(mktemp)
/usr/bin/time -v target/release/vitrine train --interactions "$log" --out bench/tmp/synth-model.json 2> "$stats"
wall=$(grep "Elapsed (wall clock)" "$stats" | awk '{print $NF}')
rss_kb=$(grep "Maximum resident set size" "$stats" | awk '{print $NF}')
cpu=$(grep "Percent of CPU" "$stats" | awk '{print $NF}')
out="bench/results/$(date +%F)-scale.md"
{
  echo "# vitrine train at scale, $(date +%F)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; shared."
  echo
  echo "| items | interactions | log size | wall time | peak RSS | CPU | model size |"
  echo "|---|---|---|---|---|---|---|"
  printf '| %s | %s | %s MB | %s | %s MB | %s | %s MB |\n' "$ITEMS" "$INTERACTIONS" "$(( $(stat -c %s "$log") / 1000000 ))" \
    "$wall" "$(( rss_kb / 1024 ))" "$cpu" "$(( $(stat -c %s bench/tmp/synth-model.json) / 1000000 ))"
  echo
  grep "^vitrine:" "$stats" || true
} | tee "$out"
rm -f "$stats"
