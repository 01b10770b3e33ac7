#!/usr/bin/env bash
# Measures the cost of a storage read and write in the node's ParityDB on this
# machine and writes runtime/src/weights/paritydb_weights.rs, the runtime's
# `DbWeight`. The state measured is a dev chain filled by tests/js/fill.mjs with
# ASSETS prequalified assets (default 20,000), each with an open offer. Builds the
# node with the benchmarking CLI (`--features runtime-benchmarks`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

cargo build --release -p flexchain-node --features runtime-benchmarks
node="$CARGO_TARGET_DIR/release/flexchain-node"
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

dir=$(mktemp -d)
source scripts/load-node.sh
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"; true' EXIT
pid=
start_load_node "$dir/node.log" --base-path "$dir"
node tests/js/fill.mjs "ws://127.0.0.1:$port" "${ASSETS:-20000}"
kill -INT $pid
wait $pid || true

mkdir -p runtime/src/weights
# Writes are measured in batches of 10,000 keys, about what a full block writes
# (2,000 offers of five writes each), with the storage root computed per batch;
# both weights get a 10 % margin over the average.
"$node" benchmark storage --dev --base-path "$dir" --db paritydb --state-version 1 \
	--batch-size 10000 --mul 1.1 --template-path scripts/storage-weight-template.hbs --weight-path runtime/src/weights/
echo "[benchmark] wrote runtime/src/weights/paritydb_weights.rs"
