#!/usr/bin/env bash
# Held-out recommender evaluation on Online Retail, end to end: builds the CLI, creates the Python
# environment if missing, tunes the peers and Vitrine on validation splits, scores everything on the test
# splits and writes bench/results/<date>-recsys-online-retail.md (printed as well).
#
#   bash bench/eval/run.sh              # build vitrine-cli (release), then evaluate (~7 min on a quiet machine)
#   bash bench/eval/run.sh --no-build   # evaluate the existing target/release/vitrine
#   bash bench/eval/run.sh --diagnose   # also the validation-only diagnostics of Vitrine vs EASE (~3 min)
#   bash bench/eval/run.sh --seeds      # also the chosen configurations on 10 more random splits and 5 cutoffs (~6 min)
#   bash bench/eval/run.sh --variants   # also dense EASE variants over 8 validation splits (~8 min)
#
# Environment: VITRINE=path/to/vitrine overrides the binary (implies --no-build);
# PYTHON=python3.11 chooses the interpreter the venv is made from.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build=1
diagnose=0
seeds=0
variants=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --diagnose) diagnose=1 ;;
    --seeds) seeds=1 ;;
    --variants) variants=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

vitrine="${VITRINE:-}"
if [[ -z "$vitrine" ]]; then
  vitrine="$root/target/release/vitrine"
  if [[ $build == 1 ]]; then
    (cd "$root" && nice -n 10 cargo build --release -p vitrine-cli)
  fi
fi
[[ -x "$vitrine" ]] || { echo "run.sh: no vitrine binary at $vitrine (build it, or set VITRINE)" >&2; exit 1; }

# The venv is rebuilt whenever requirements.txt changes (its hash is stamped inside).
venv="$here/.venv"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
  python="${PYTHON:-python3.11}"
  command -v "$python" >/dev/null || { echo "run.sh: $python not found (set PYTHON)" >&2; exit 1; }
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
  echo "$want" > "$venv/.requirements.sha256"
fi

date="$(date +%F)"
cd "$here"
nice -n 10 "$venv/bin/python" evaluate.py --vitrine "$vitrine" --results "$root/bench/results" --date "$date"
if [[ $diagnose == 1 ]]; then
  nice -n 10 "$venv/bin/python" diagnose.py --vitrine "$vitrine" --out "$root/bench/results/$date-recsys-online-retail-diagnostics.md"
fi
if [[ $seeds == 1 ]]; then
  nice -n 10 "$venv/bin/python" seeds.py --vitrine "$vitrine" --results "$root/bench/results" --date "$date"
fi
if [[ $variants == 1 ]]; then
  nice -n 10 "$venv/bin/python" ease_variants.py --date "$date" --out "$root/bench/results/$date-recsys-online-retail-ease-variants.md"
fi
