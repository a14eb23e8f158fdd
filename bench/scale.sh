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
source bench/result-path.sh
out=$(result_path scale)
{
  echo "# vitrine train at scale, $(date +%F)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; shared. Log: $(( $(stat -c %s "$log") / 1000000 )) MB of CSV."
  echo
  echo "| similarity | items | interactions | wall time | peak RSS | CPU | model size |"
  echo "|---|---|---|---|---|---|---|"
  for similarity in ease cosine; do
    stats=$(mktemp)
    /usr/bin/time -v target/release/vitrine train --interactions "$log" --similarity "$similarity" \
      --out "bench/tmp/synth-model-$similarity.json" 2> "$stats"
    printf '| %s | %s | %s | %s | %s MB | %s | %s MB |\n' "$similarity" "$ITEMS" "$INTERACTIONS" \
      "$(grep "Elapsed (wall clock)" "$stats" | awk '{print $NF}')" \
      "$(( $(grep "Maximum resident set size" "$stats" | awk '{print $NF}') / 1024 ))" \
      "$(grep "Percent of CPU" "$stats" | awk '{print $NF}')" \
      "$(( $(stat -c %s "bench/tmp/synth-model-$similarity.json") / 1000000 ))"
    rm -f "$stats"
  done
} | tee "$out"
