#!/usr/bin/env bash
#! Model bytes per page view with a sharded model, at 100,000 items: trains the synthetic scale log
#! (bench/scale.sh's, generated if missing) at --neighbors 20 and 30, then replays 1,000 visitors
#! (cli/examples/shard_budget.rs) for a few shard counts. Writes bench/results/<date>-shards.md.
#! Bounded: one generation, two trainings (about 2 minutes each on 2 cores), one replay each.
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS=${ITEMS:-100000} INTERACTIONS=${INTERACTIONS:-10000000}
cargo build --quiet --release -p vitrine-cli --example synth --example shard_budget --bin vitrine
mkdir -p bench/tmp
log="bench/tmp/synth-$ITEMS-$INTERACTIONS.csv"
[ -s "$log" ] || target/release/examples/synth --items "$ITEMS" --interactions "$INTERACTIONS" --out "$log"
out="bench/results/$(date +%F)-shards.md"
{
  echo "# Model shards: bytes per page view, $(date +%F)"
  echo
  echo "Synthetic log: $ITEMS items, $INTERACTIONS interactions (cli/examples/synth.rs). Each of 1,000 visitors"
  echo "arrives on the product of their last interaction with their previous 20 distinct items as history"
  echo "(what a profile snapshot's recent items carry), and needs the model head plus the shards of the"
  echo "current product and every history item. All sizes gzip -9, in bytes. 'Next page view': one more"
  echo "product, so one more shard; the head and earlier shards are cached (immutable)."
  for k in 20 30; do
    model="bench/tmp/synth-model-k$k.vtm"
    echo
    echo "## --neighbors $k"
    echo
    if [ ! -s "$model" ]; then
      stats=$(mktemp)
      /usr/bin/time -v target/release/vitrine train --interactions "$log" --neighbors "$k" --out "$model" 2> "$stats"
      echo "Training (local EASE, both tables): $(grep "Elapsed (wall clock)" "$stats" | awk '{print $NF}') wall," \
        "$(( $(grep "Maximum resident set size" "$stats" | awk '{print $NF}') / 1024 )) MB peak RSS, model $(( $(stat -c %s "$model") / 1000000 )) MB."
      echo
      rm -f "$stats"
    fi
    target/release/examples/shard_budget --model "$model" --interactions "$log" --shards 16384,32768,65536,100000
  done
} | tee "$out"
