#!/usr/bin/env bash
#! Where the production snippet's bytes come from in the source, inlined code included: builds the
#! production Wasm as js-snippet/build.sh does, with line tables, and charges every code byte to a
#! workspace source line and function (bench/size_attribution.py). twiggy (in the build's output)
#! names surviving functions; this finds code copied into many callers, such as a generic helper
#! inlined into every reader.
#!
#!   bash bench/size-attribution.sh [TOP]   (needs llvm-dwarfdump: Debian's llvm package)
set -euo pipefail
cd "$(dirname "$0")/.."
dwarfdump=$(command -v llvm-dwarfdump || ls /usr/bin/llvm-dwarfdump-* 2>/dev/null | head -1 || true)
if [ -z "$dwarfdump" ]; then
  echo "size attribution: no llvm-dwarfdump (apt-get install llvm)" >&2
  exit 1
fi
target="${CARGO_TARGET_DIR:-$PWD/target}/snippet-lines"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CARGO_PROFILE_SNIPPET_DEBUG=line-tables-only nice bash js-snippet/cargo-build.sh "$target"
wasm="$target/wasm32-unknown-unknown/snippet/vitrine_snippet.wasm"
"$dwarfdump" --debug-line "$wasm" > "$tmp/lines.txt"
"$dwarfdump" --debug-info "$wasm" > "$tmp/info.txt"
python3 bench/size_attribution.py "$tmp/lines.txt" "$tmp/info.txt" "${1:-40}"
