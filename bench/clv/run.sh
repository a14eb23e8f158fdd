#!/usr/bin/env bash
# CLV benchmark on Online Retail: `vitrine clv` against Python `lifetimes` 0.11.3 (BG/NBD + Gamma-Gamma),
# both fitted on the lines before the calibration end and scored, per customer, against the purchase
# days and revenue of the holdout period that follows, in one run. Writes
# bench/results/<date>-clv.md (printed as well).
#
#   bash bench/clv/run.sh              # build vitrine-cli (release), then benchmark (~1 min)
#   bash bench/clv/run.sh --no-build   # use the existing release binary
#
# Environment: VITRINE=path/to/vitrine (implies --no-build), PYTHON=python3.11 (the venv's base),
# ORDERS (default ../shared/data/online-retail.csv.gz), CALIBRATION_END (2011-09-01),
# HOLDOUT_END (2011-12-10, exclusive: the data's last day is 2011-12-09), PENALIZERS ("0 0.001 0.01").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done
orders="${ORDERS:-$root/../shared/data/online-retail.csv.gz}"
cal_end="${CALIBRATION_END:-2011-09-01}"
holdout_end="${HOLDOUT_END:-2011-12-10}"
penalizers="${PENALIZERS:-0 0.001 0.01}"
target="${CARGO_TARGET_DIR:-$root/target}"
vitrine="${VITRINE:-}"
if [[ -z "$vitrine" ]]; then
  vitrine="$target/release/vitrine"
  [[ $build == 1 ]] && (cd "$root" && nice -n 10 cargo build --quiet --release -p vitrine-cli)
fi
[[ -x "$vitrine" ]] || { echo "run.sh: no vitrine binary at $vitrine (build it, or set VITRINE)" >&2; exit 1; }

venv="$root/build/clv-venv"
if [[ ! -x "$venv/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
horizon=$(( ($(date -ud "$holdout_end" +%s) - $(date -ud "$cal_end" +%s)) / 86400 ))
runs=()
# Each fit three times (both tools): the median time is reported, the machine being shared.
for p in $penalizers; do
  for i in 1 2 3; do
    "$vitrine" clv --orders "$orders" --calibration-end "$cal_end" --horizon-days "$horizon" --penalizer "$p" \
      --out "$tmp/clv-$p.jsonl" 2>> "$tmp/clv-$p.err"
  done
  runs+=("$p" "$tmp/clv-$p.jsonl" "$tmp/clv-$p.err")
done

out="$root/bench/results/$(date -u +%F)-clv.md"
{
  echo "# CLV: Vitrine vs lifetimes on Online Retail ($(date -u +%F))"
  echo
  echo "\`bash bench/clv/run.sh\` at $(cd "$root" && git rev-parse --short HEAD) on $(nproc) cores ($(uname -m)); Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'), pins in bench/clv/requirements.txt."
  echo "Both tools fit BG/NBD + Gamma-Gamma by maximum likelihood (with lifetimes' L2 \`penalizer_coef\`, Vitrine's \`--penalizer\`) on the"
  echo "same customer summaries; predictions are expected purchase days and expected purchase days x expected spend over the holdout."
  echo "Fit times are the fits alone, the median of three (Vitrine: as \`vitrine clv\` reports it; lifetimes: \`fit\` of both models)."
  echo
  "$venv/bin/python" "$here/lifetimes_fit.py" "$orders" "$cal_end" "$holdout_end" "${runs[@]}" 2>/dev/null
  echo
  echo "Vitrine's own summary lines:"
  echo
  for p in $penalizers; do sed -n 's/^vitrine: CLV/- penalizer '"$p"': CLV/p' "$tmp/clv-$p.err" | head -1; done
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
