#!/usr/bin/env bash
# The test entry point (CI runs exactly this): sets up the machine, builds and runs
# every Rust test of the workspace in release mode (pallet, solver, runtime presets,
# node start/restart/bad-input tests, the bridge against its simulated devices, against
# independent Python peers (installed from PyPI first) and a dev chain), the
# benchmarks as tests, then the @polkadot/api checks against a dev
# chain of the built node.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

step() { printf '\n[test] %s (%s)\n' "$*" "$(date +%T)"; }

step "setup"
./scripts/setup.sh

step "formatting"
cargo fmt --all -- --check

step "the bridge's interoperability peers (Python ocpp, pymodbus, pysunspec2 from PyPI)"
./bridge/tests/peers/install.sh

step "Rust tests of the whole workspace"
cargo test --release --workspace

step "the market's benchmarks, run once each as tests"
cargo test --release -p pallet-flex-market --features runtime-benchmarks benchmark

step "the market's storage migrations with their try-runtime checks"
SKIP_WASM_BUILD=1 cargo test --release -p pallet-flex-market --features try-runtime migration

step "@polkadot/api against a dev chain, and a runtime upgrade through governance"
(cd scripts/governance && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error && npm test)

# --- the web app (web/; see web/README.md) -------------------------------------------
step "the web app: type check, unit tests, build, bundle size and load time, browser tests (the pilot in headless Chromium)"
./scripts/web.sh test
# --------------------------------------------------------------------------------------

step "all tests passed"
