#!/usr/bin/env bash
# genuq's one entry point: sets up what is missing (idempotent), then
#   ./dev.sh demo   build the wasm package and the static site, serve it on http://127.0.0.1:8080/genuq/
#                   (installs only what building needs: no test browser, no data set)
#   ./dev.sh test   native tests (lavapipe), wasm tests in headless Chrome (WebGPU), browser e2e tests
#   ./dev.sh bench  benchmarks, native (lavapipe) and in headless Chrome -> reports/bench.json
#   ./dev.sh build  only build dist/
#   ./dev.sh setup  only install what is missing
# Builds are cached outside the clone (GENUQ_CACHE, default ~/.cache/genuq), so repeated runs are fast.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${GENUQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/genuq}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-$(nproc)}
TOOLS=$CACHE/tools
PORT=${PORT:-8080}
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, "", $0); print; exit}' "$ROOT/Cargo.lock")
WASM_PACK_VERSION=0.15.1
# binaryen: wasm-opt; playwright-core: drives Debian's chromium; typescript: tsc checks the package's declarations
NPM_TOOLS=(binaryen@132.0.0 playwright-core@1.65.1 typescript@5.9.3)

log() { printf '\033[1m[genuq]\033[0m %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# `stage NAME CMD...`: runs CMD and prints its wall time, so a slow stage shows in every log.
STAGES=()
stage() {
  local name=$1 start=$SECONDS; shift
  "$@"
  local took=$((SECONDS - start))
  STAGES+=("$name ${took}s")
  log "stage $name: ${took} s"
}
summary() { log "stages: ${STAGES[*]:-none} (total ${SECONDS} s)"; }

# rustup's cargo for native builds and `cargo install`.
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

# Ordinary path: rustup with the wasm32 target (setup_build adds it). Offline Debian path:
# Debian's rustc-web builds std for wasm32 itself (-Zbuild-std), where rustup cannot download the
# target. GENUQ_WASM=rustup|debian picks one (debian: keep an existing Debian build's cache).
wasm_mode() {
  case "${GENUQ_WASM:-}" in rustup|debian) echo "$GENUQ_WASM"; return ;; esac
  if have rustup && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo rustup
  else
    echo debian
  fi
}

# With rustup but without its wasm32 target: add it (idempotent); the Debian path only if that fails.
wasm_target() {
  [ "${GENUQ_WASM:-}" = debian ] && return 0
  have rustup || return 0
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown && return 0
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >&2 ||
    log "rustup could not add the wasm32 target (offline?): Debian's toolchain builds the wasm instead"
}

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! have apt-get; then
    log "missing packages (${missing[*]}); install them with your package manager"; return 1
  fi
  log "apt-get install ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# What building dist/ needs (./dev.sh build, the Pages workflow): the wasm toolchain, the JS
# glue generator and wasm-opt.
setup_build() {
  wasm_target
  if have dpkg && [ "$(wasm_mode)" = debian ]; then
    apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    # Not --locked: the locked webpki-roots is missing from some registry mirrors.
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  npm_tools
}

# And what the tests need besides: the browser and its driver, a CPU Vulkan adapter for native
# wgpu, the data set, the plots' font, wasm-pack (the README's browser-test command).
setup() {
  setup_build
  if have dpkg; then
    apt_install chromium chromium-driver mesa-vulkan-drivers libvulkan1 dataset-fashion-mnist fonts-dejavu-core
  fi
  if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
    log "cargo install wasm-pack $WASM_PACK_VERSION"
    cargo install -q wasm-pack --version "$WASM_PACK_VERSION" --locked --force
  fi
}

# npm's binaryen (wasm-opt) and playwright-core, into the cache.
npm_tools() {
  if [ ! -f "$TOOLS/.installed" ] || [ "$(cat "$TOOLS/.installed")" != "${NPM_TOOLS[*]}" ]; then
    log "npm install ${NPM_TOOLS[*]} (into $TOOLS)"
    mkdir -p "$TOOLS"
    (cd "$TOOLS" && { [ -f package.json ] || npm init -y >/dev/null; } &&
      npm install --no-audit --no-fund --silent "${NPM_TOOLS[@]}")
    echo "${NPM_TOOLS[*]}" >"$TOOLS/.installed"
  fi
  # npm's binaryen first: Debian's binaryen 108 wasm-opt emits modules that fail to load.
  export PATH="$TOOLS/node_modules/.bin:$PATH"
  export NODE_PATH="$TOOLS/node_modules"
  # Mesa only warns without it; a private one keeps logs clean.
  if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    export XDG_RUNTIME_DIR="$CACHE/xdg"; mkdir -p -m 700 "$XDG_RUNTIME_DIR"
  fi
}

# cargo for the wasm32 target, in whichever mode this machine supports: `wasm_cargo build ...`.
# The Debian path builds std itself; `test` is in its list for every build (cargo adds it to
# test builds anyway), so the browser tests and dist/ share one std and one compilation of
# every dependency.
wasm_cargo() {
  local sub=$1; shift
  if [ "$(wasm_mode)" = rustup ]; then
    cargo "$sub" --target wasm32-unknown-unknown "$@"
  else
    PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 env -u RUSTC_WORKSPACE_WRAPPER /usr/bin/cargo "$sub" \
      -Zbuild-std=std,panic_abort,test --target wasm32-unknown-unknown "$@"
  fi
}

# One wasm module into dist/pkg/ as NAME.js + NAME_bg.wasm, from `cargo build` with the extra
# cargo arguments given (e.g. --no-default-features), then wasm-opt at LEVEL (or none).
wasm_module() {
  local name=$1 level=$2; shift 2
  wasm_bindgen_module "$name" "$@"
  wasm_opt "$name" "$level"
}

wasm_bindgen_module() {
  local name=$1; shift
  (cd "$ROOT" && wasm_cargo build --release -p genuq --lib "$@")
  local raw="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/genuq.wasm"
  wasm-bindgen --target web --remove-name-section --out-name "$name" --out-dir "$ROOT/dist/pkg" "$raw"
}

# wasm-opt at LEVEL on dist/pkg/NAME_bg.wasm, cached by the hash of its input and the level.
# Measured (docs/development.md, tests/bench/wasm_opt.sh, tests/bench/first_result.mjs): the
# WebGPU module needs -Oz (17 MB instead of 27, and its first result on SwiftShader 9.2 s instead
# of 12.9); the CPU-only module is better without it (gzip 0.80 MB instead of 0.91, the first
# result 0.89 s instead of 1.07) and skipping it saves 86 s of the demo's build.
wasm_opt() {
  local name=$1 level=$2
  local bg="$ROOT/dist/pkg/${name}_bg.wasm" key opt
  if [ "$level" != none ]; then
    key=$(sha256sum "$bg" | cut -c1-32)
    opt="$CACHE/wasm-opt/$key$level.wasm"
    if [ ! -f "$opt" ]; then
      log "wasm-opt $level $name ($(du -h "$bg" | cut -f1) in)"
      mkdir -p "$CACHE/wasm-opt"
      wasm-opt "$level" --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$bg" -o "$opt.tmp.$$" && mv "$opt.tmp.$$" "$opt"
    fi
    cp "$opt" "$bg"
  fi
  log "$name: wasm $(stat -c %s "$bg") bytes, $(gzip -c "$bg" | wc -c) gzipped (wasm-opt: $level)"
}

# dist/: the static site (web/ + the two wasm modules + models), servable from any sub-path.
# genuq_cpu is the CPU path alone (no wgpu, no cubecl): what a visitor downloads first, and
# what `auto` loads first; it is built first, so `./dev.sh demo` can serve before the WebGPU
# module exists (the page stays on the CPU path until the manifest lists that module).
# build_start compiles both modules and copies the site; build_finish runs the WebGPU module's
# wasm-opt (~7 min of one core when cold) and lists the modules in the manifest. ./dev.sh test
# runs build_finish in the background, beside the native and browser tests.
build() {
  build_start
  build_finish
}

build_start() {
  build_cpu
  wasm_bindgen_module genuq
}

build_finish() {
  wasm_opt genuq -Oz
  wasm_manifest
  log "dist/ ready"
}

# dist/ with the CPU-only module: web/, the licenses, the models, the manifest.
build_cpu() {
  log "building the wasm module genuq_cpu (release, CPU only), then the site"
  rm -rf "$ROOT/dist" && mkdir -p "$ROOT/dist/pkg"
  wasm_module genuq_cpu none --no-default-features
  cp -r "$ROOT/web/." "$ROOT/dist/"
  cp "$ROOT/LICENSE-MIT" "$ROOT/LICENSE-APACHE" "$ROOT/dist/"
  mkdir -p "$ROOT/dist/models" && cp -r "$ROOT/models/." "$ROOT/dist/models/"
  wasm_manifest
}

# What the site adds to the served manifest. `wasm`: the built modules' sizes and hashes
# (compressing hosts send no usable Content-Length, and the download's progress needs a total;
# the worker fetches the WebGPU module only when the manifest lists it). `first_files`: the model
# files a generation starts with, as the CPU-only module itself says (`firstFiles()`, run in
# node), so the worker can ask for them while it downloads that module. Written atomically (a
# page may be loading it).
wasm_manifest() {
  local first
  first=$(cd "$ROOT/dist" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { pathToFileURL } from "node:url";
    const m = await import(pathToFileURL("pkg/genuq_cpu.js").href);
    m.initSync({ module: readFileSync("pkg/genuq_cpu_bg.wasm") });
    console.log(JSON.stringify(m.firstFiles()));')
  python3 - "$ROOT/dist" "$first" <<'PY'
import hashlib, json, os, pathlib, sys
dist = pathlib.Path(sys.argv[1])
path = dist / "models/manifest.json"
manifest = json.loads(path.read_text())
manifest["wasm"] = {
    f.name: {"bytes": f.stat().st_size, "sha256": hashlib.sha256(f.read_bytes()).hexdigest()}
    for f in sorted((dist / "pkg").glob("*_bg.wasm"))
}
manifest["first_files"] = json.loads(sys.argv[2])
tmp = path.with_suffix(".tmp")
tmp.write_text(json.dumps(manifest, indent=2) + "\n")
os.replace(tmp, path)
PY
}

# ./dev.sh demo: serves as soon as the CPU-only module is built, then builds the WebGPU module
# beside the running server.
demo() {
  stage setup setup_build
  stage build-cpu build_cpu
  serve &
  local server=$!
  trap 'kill $server 2>/dev/null' EXIT
  log "demo on http://127.0.0.1:$PORT/genuq/ after ${SECONDS} s: the CPU path now; building the WebGPU module (the page uses it after a reload once it is ready)"
  stage build-webgpu wasm_module genuq -Oz
  wasm_manifest
  summary
  log "the WebGPU module is ready: reload the page (Ctrl-C to stop the server)"
  wait $server
}

# Serves dist/ under /genuq/ (as a project page would be) on 127.0.0.1:$PORT.
serve() {
  python3 "$ROOT/tests/e2e/serve.py" "$ROOT/dist" "$PORT"
}

test_native() {
  log "native tests (burn + wgpu on $(vulkaninfo --summary 2>/dev/null | awk -F= '/deviceName/ {gsub(/^ /,"",$2); print $2; exit}' || echo 'the default adapter'))"
  (cd "$ROOT" && cargo test --release --workspace)
}

# Lints while building (./dev.sh test): cargo runs clippy-driver in place of rustc for the
# workspace's own crate only (RUSTC_WORKSPACE_WRAPPER, as `cargo clippy` itself does), with
# -D warnings, in the builds the tests need anyway; the dependencies stay plain rustc builds,
# shared with every other build. Separate `cargo clippy` passes compiled every dependency again
# in check mode (1,127 s cold for the two wasm32 configurations). Covered: natively every target
# `cargo test` builds (lib, bin, tests, each with and without cfg(test)); for wasm32 the browser
# API with its tests and both modules of dist/.
lint_while_building() {
  if ! clippy-driver --version >/dev/null 2>&1; then
    have rustup && rustup component add clippy >&2 ||
      { log "clippy-driver is missing: install clippy (rustup component add clippy)"; return 1; }
  fi
  RUSTC_WORKSPACE_WRAPPER=$(command -v clippy-driver)
  export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
}

# rustfmt; on the Debian wasm path (its own rustc, which rustup's clippy-driver cannot stand in
# for) the wasm32 lint is a clippy pass per configuration.
lint() {
  (cd "$ROOT" && cargo fmt --all --check)
  if [ "$(wasm_mode)" = debian ]; then
    log "cargo clippy -D warnings for wasm32: the browser API with its tests, and the CPU-only module"
    (cd "$ROOT/crate" && wasm_cargo clippy -p genuq --lib --test web -- -D warnings)
    (cd "$ROOT/crate" && wasm_cargo clippy -p genuq --lib --no-default-features -- -D warnings)
  fi
}

# The browser tests: what `wasm-pack test --headless --chrome --release -- --test web` runs
# (cargo test with wasm-bindgen-test-runner, .cargo/config.toml), without compiling the unit
# tests for wasm too: the library is compiled once, for these tests and for dist/.
test_wasm() {
  log "wasm tests in headless Chrome (WebGPU)"
  export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}
  export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
  (cd "$ROOT/crate" && wasm_cargo test --release -p genuq --test web)
}

# On dist/ as `build` writes it: build_start ran before the native tests, build_finish (started
# in the background then) is waited for here.
test_e2e() {
  wait "$BUILD_FINISH"
  log "browser end-to-end tests (playwright-core + $(chromium --version 2>/dev/null | head -1))"
  (cd "$ROOT" && GENUQ_DIST="$ROOT/dist" node --test tests/e2e/)
}

bench() {
  log "native benchmark, CPU path (and genuq score's throughput)"
  (cd "$ROOT" && cargo run --release -q -- bench --compute cpu --repeats "${REPEATS:-10}")
  log "native benchmark (wgpu: lavapipe where there is no GPU)"
  (cd "$ROOT" && cargo run --release -q -- bench --compute webgpu --repeats "${REPEATS:-10}")
  log "browser benchmark (headless Chromium, WebGPU)"
  (cd "$ROOT" && GENUQ_DIST="$ROOT/dist" node tests/bench/browser.mjs)
}

cmd=${1:-help}
case "$cmd" in
  setup) stage setup setup; summary ;;
  build) stage setup setup_build; stage build build; summary ;;
  demo) demo ;;
  test)
    stage setup setup
    lint_while_building
    stage fmt lint
    stage build build_start
    build_finish &
    BUILD_FINISH=$!
    trap 'status=$?; kill $BUILD_FINISH 2>/dev/null || true; exit $status' EXIT
    stage native test_native
    stage wasm test_wasm
    stage e2e test_e2e
    summary
    log "all tests passed" ;;
  bench) stage setup setup; stage build build; stage bench bench; summary ;;
  *) sed -n '2,9p' "$0"; exit 2 ;;
esac
