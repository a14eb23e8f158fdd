#!/usr/bin/env bash
#! Installs everything the build and the tests need, if missing. Idempotent; safe to run every time.
#! Sources: rustup, crates.io, Debian packages, the npm registry (committed lockfile). Nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The production snippet rebuilds the standard library for size (js-snippet/build.sh).
if ! rustup component list --installed | grep -qx rust-src; then
  log "adding rust component rust-src"
  rustup component add rust-src
fi

# wasm-bindgen's CLI must match the crate version pinned in Cargo.toml exactly.
WASM_BINDGEN_VERSION=0.2.130
if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (once per machine, ~3 min)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# twiggy prints where the production Wasm's bytes go in every build (js-snippet/build.sh).
if ! command -v twiggy >/dev/null; then
  log "installing twiggy 0.8.0 (once per machine, ~2 min)"
  cargo install twiggy --version 0.8.0 --locked
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages from package-lock.json"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

if [ "${VITRINE_NEED_BROWSER:-0}" = 1 ] && ! [ -x /usr/bin/chromium ]; then
  log "installing Debian chromium for browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
