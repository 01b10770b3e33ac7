#!/usr/bin/env bash
# The test entry point (CI runs exactly this): sets up the machine, builds and runs
# every Rust test of the workspace in release mode (pallet, solver, runtime presets,
# node start/restart/bad-input tests, the bridge against its simulated devices, against
# independent Python peers (installed from PyPI first) and a dev chain, the pilot on a
# dev chain and on four validators), the benchmarks as tests, the @polkadot/api checks
# against a dev chain of the built node, a runtime upgrade through governance, the web
# app in headless Chromium, and, in the background from the start, the faults of a
# network of four validators (tests/js/network.test.mjs).
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

step "the node and the tools (release build)"
cargo build --release --workspace --bins

step "the network of four validators (tests/js/network.test.mjs), in the background while the other tests run"
(cd scripts/governance && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
net_dir=$(mktemp -d)
net_log="$net_dir/test.log"
(cd tests/js && NETWORK_TEST_DIR="$net_dir/net" node --test network.test.mjs >"$net_log" 2>&1) &
net_pid=$!
stop_network() {
	if kill -0 "$net_pid" 2>/dev/null; then
		kill "$net_pid" 2>/dev/null || true
		./scripts/testnet.sh down --dir "$net_dir/net" >/dev/null 2>&1 || true
	fi
}
trap stop_network EXIT

step "Rust tests of the whole workspace"
cargo test --release --workspace

step "the market's benchmarks, run once each as tests"
cargo test --release -p pallet-flex-market --features runtime-benchmarks benchmark

step "the validator set's benchmarks, run once each as tests"
cargo test --release -p pallet-validator-set --features runtime-benchmarks benchmark

step "the market's storage migrations with their try-runtime checks"
SKIP_WASM_BUILD=1 cargo test --release -p pallet-flex-market --features try-runtime migration

step "@polkadot/api against a dev chain, and a runtime upgrade through governance"
(cd tests/js && npm test)

# --- the web app (web/; see web/README.md) -------------------------------------------
step "the web app: type check, unit tests, build, bundle size and load time, browser tests (the pilot in headless Chromium)"
./scripts/web.sh test
# --------------------------------------------------------------------------------------

step "the network of four validators: waiting for its test"
if wait "$net_pid"; then
	grep -E '^# \[network\]|^# (tests|pass|fail|duration_ms) ' "$net_log" | sed 's/^# //'
else
	grep -v 'API-WS' "$net_log" | tail -80
	echo "[test] the network test failed (its log: $net_log)"
	exit 1
fi
rm -rf "$net_dir"

step "all tests passed"
