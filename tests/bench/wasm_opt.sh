#!/usr/bin/env bash
# wasm-opt's levels on one module: bytes, gzip bytes and wall time of -O2, -Os and -Oz (the
# flags dev.sh's wasm_module uses). Usage: tests/bench/wasm_opt.sh MODULE_bg.wasm (the
# wasm-bindgen output before wasm-opt; `wasm-opt` on PATH, e.g. after `./dev.sh setup`).
set -euo pipefail
in=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '| level | bytes | gzip bytes | wasm-opt wall time, s |\n|---|---|---|---|\n'
printf '| none | %s | %s | |\n' "$(stat -c %s "$in")" "$(gzip -c "$in" | wc -c)"
for level in -O2 -Os -Oz; do
  start=$EPOCHREALTIME
  wasm-opt "$level" --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue "$in" -o "$tmp/out.wasm"
  took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
  printf '| %s | %s | %s | %.0f |\n' "$level" "$(stat -c %s "$tmp/out.wasm")" "$(gzip -c "$tmp/out.wasm" | wc -c)" "$took"
done
