#!/usr/bin/env bash
#! Optimizes one wasm-bindgen output of the snippet as it ships: `bash js-snippet/optimize.sh IN OUT
#! [-g]` (-g keeps the names, for the size breakdown and profiles). js-snippet/build.sh and the
#! rules bench (bench/rules/run.sh) both call it, so the bench measures what ships.
#!
#! npm's binaryen: Debian's wasm-opt is too old and silently breaks externref tables. The shipped
#! file keeps no custom section (names, producers, target features). --converge
#! repeats the passes while they still shrink it (-0.7 KB gzip). --low-memory-unused lets it fold
#! a pointer's constant offsets into loads and stores (-0.8 KB gzip): it assumes nothing lives in
#! the first kilobyte of memory, which holds for Rust's layout (the 1 MB stack comes first and
#! grows down towards address 0, data starts above it; a stack that deep traps either way).
#! --no-full-inline: binaryen inlines into their callers no function that loads or parses
#! (bundles, shards, profiles, events, compiled programs), none of the adapter's entry points and
#! none of the functions that decide one placement. By default it inlines every function that has
#! one caller: that makes the Wasm smaller before compression but 1.5 KB gzip larger (107.9 ->
#! 106.4 KB): a merged function renumbers its locals, and the same code no longer compresses like
#! its other copies. Only code that runs once per load, call or placement is left out of line;
#! decisions and segment rules are as fast (bench/results/2026-12-06-recs-latency-ab-4.md). The
#! same for every function gains 5.7 KB but makes a page's decision a fifth slower (`Vec::push` in
#! loops); for the engine's functions only, 4.3 KB, but segment rules 6-9 % slower (a cached
#! variable's fast path behind a call). Nor is `collect()`'s shell for the engine's types
#! (`<alloc...vitrine_...>::from_iter`: allocate, then extend) inlined into its one caller: one call
#! per collected vector, not per element, and 1.1 KB gzip smaller; decisions and segment rules as
#! fast (bench/results/2026-12-06-size-5.md). Twice, after the usual passes, the control flow is
#! taken apart and rebuilt (--flatten --rereloop, then -Os again): the relooper finds a smaller
#! structure for the evaluator's and the readers' branches (-0.6 KB gzip; three rounds gain nothing
#! more); decisions and segment rules as fast (bench/results/2026-12-06-size-6.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
in=$1 out=$2
shift 2
strip=(--strip-debug --strip-producers --strip-target-features)
[ "${1:-}" = -g ] && strip=(-g)
cold=()
for name in '*from_json*' '*from_bytes*' '*from_parts*' '*compiled::load*' '*add_file*' '*add_shard*' \
  '*Catalog>::new*' '*Catalog>::extend*' '*anonymous*' '*maybe_catch_unwind*' '*Vitrine>::*' \
  '*Context>::slot_with*' '*Context>::list_with*' '*Context>::recs_with*' '<alloc*vitrine_*::from_iter'; do
  cold+=("--no-full-inline=$name")
done
"$root/node_modules/.bin/wasm-opt" "${cold[@]}" -Os --flatten --rereloop -Os --flatten --rereloop -Os --converge --low-memory-unused "${strip[@]}" "$in" -o "$out"
