# Sourced by the bench scripts: `result_path NAME` prints where a run's results go,
# bench/results/<date>-NAME.md, or, when a run today already wrote that, the next free
# <date>-NAME-2.md, -3.md...: a second run on one day never overwrites the first.
result_path() {
  local base="bench/results/$(date +%F)-$1" n=2
  local path="$base.md"
  while [ -e "$path" ]; do
    path="$base-$n.md"
    n=$((n + 1))
  done
  echo "$path"
}
