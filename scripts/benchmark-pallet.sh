#!/usr/bin/env bash
# Measures the market pallet's calls on this machine and writes
# pallets/flex-market/src/weights.rs. Builds the node with the benchmarking CLI
# (`--features runtime-benchmarks`, a separate and larger build).
# STEPS and REPEAT can be set in the environment (defaults 10 and 5).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

cargo build --release -p flexchain-node --features runtime-benchmarks
"$CARGO_TARGET_DIR/release/flexchain-node" benchmark pallet \
	--chain dev \
	--pallet pallet_flex_market \
	--extrinsic '*' \
	--steps "${STEPS:-10}" \
	--repeat "${REPEAT:-5}" \
	--wasm-execution compiled \
	--heap-pages 4096 \
	--template scripts/weight-template.hbs \
	--output pallets/flex-market/src/weights.rs
echo "[benchmark] wrote pallets/flex-market/src/weights.rs"
