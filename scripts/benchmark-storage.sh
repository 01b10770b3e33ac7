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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$node" --dev --base-path "$dir" --rpc-port "$port" --port 0 --no-prometheus --no-telemetry \
	--pool-limit 50000 --pool-kbytes 102400 --rpc-max-connections 1000 >"$dir/node.log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"; true' EXIT
for _ in $(seq 60); do
	curl -s -o /dev/null "http://127.0.0.1:$port" -H 'Content-Type: application/json' \
		-d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' && break
	sleep 1
done
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
