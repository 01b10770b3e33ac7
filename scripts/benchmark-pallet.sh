#!/usr/bin/env bash
# Measures a pallet's calls on this machine and writes its weights.rs:
#
#   ./scripts/benchmark-pallet.sh                       # pallet_flex_market
#   ./scripts/benchmark-pallet.sh pallet_validator_set
#
# Builds the node with the benchmarking CLI (`--features runtime-benchmarks`, a
# separate and larger build). STEPS and REPEAT can be set in the environment
# (defaults 10 and 5).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

pallet="${1:-pallet_flex_market}"
case "$pallet" in
	pallet_flex_market) out=pallets/flex-market/src/weights.rs ;;
	pallet_validator_set) out=pallets/validator-set/src/weights.rs ;;
	*) echo "[benchmark] unknown pallet $pallet (pallet_flex_market, pallet_validator_set)" >&2; exit 2 ;;
esac

cargo build --release -p flexchain-node --features runtime-benchmarks
"$CARGO_TARGET_DIR/release/flexchain-node" benchmark pallet \
	--chain dev \
	--pallet "$pallet" \
	--extrinsic '*' \
	--steps "${STEPS:-10}" \
	--repeat "${REPEAT:-5}" \
	--wasm-execution compiled \
	--heap-pages 4096 \
	--template scripts/weight-template.hbs \
	--output "$out"
echo "[benchmark] wrote $out"
