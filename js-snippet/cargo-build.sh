#!/usr/bin/env bash
#! Builds the snippet's Wasm (crate vitrine-snippet) as everything that ships or measures it must:
#! js-snippet/build.sh, the rules bench and the size attribution call this, so the three never
#! drift apart.
#!
#!   bash js-snippet/cargo-build.sh TARGET_DIR [cargo build arguments, e.g. --features dev]
#!
#! Writes TARGET_DIR/wasm32-unknown-unknown/snippet/vitrine_snippet.wasm.
#!
#! - The standard library is rebuilt from the toolchain's rust-src (scripts/setup.sh adds it) with
#!   `optimize_for_size` and the `immediate-abort` panic strategy: a panic is a bare Wasm trap,
#!   without the formatting machinery, message strings and Unicode tables a panic message needs
#!   (8.5 KB gzip, 5 % of the Wasm). Nothing is lost: the engine never panics by design (every input
#!   error is a value), and a trap was already all the page saw of a panic, as an error the loader
#!   fails open on. Both are unstable, hence RUSTC_BOOTSTRAP=1 on the stable toolchain, for this
#!   build only; the CLI, the edge worker and every test build with the standard library as shipped.
#!   It gets its own target directory, so its artifacts never mix with the edge worker's.
#! - `--cfg vitrine_snippet` compiles the CEL evaluator's hot functions for speed (cel/src/lib.rs).
#! - Without the `reference-types` target feature, wasm-bindgen keeps the few JS values that cross
#!   (an error) in a JS array rather than a Wasm table: its table code and shims leave the Wasm
#!   (-0.38 KB gzip) for 36 B more of glue in the worker script.
set -euo pipefail
target=$1
shift
RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$target" \
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort --cfg vitrine_snippet -Ctarget-feature=-reference-types" \
  cargo build --quiet -p vitrine-snippet --target wasm32-unknown-unknown --profile snippet \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size "$@"
