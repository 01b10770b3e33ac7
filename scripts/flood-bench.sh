#!/usr/bin/env bash
# Market calls against plain transfers: starts a dev node (release build), floods it
# with `flexMarket.createOffer` and then `balances.transferKeepAlive` extrinsics,
# and prints both inclusion rates and their ratio. COUNT sets the flood size
# (default 16,000 of each: at least three blocks, the middle ones built from a backlog).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

node="$CARGO_TARGET_DIR/release/flexchain-node"
[ -x "$node" ] || cargo build --release --workspace --bins
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$node" --dev --tmp --rpc-port "$port" --port 0 --no-prometheus --pool-limit 40000 --pool-kbytes 81920 \
	--rpc-max-connections 1000 >"$log" 2>&1 &
pid=$!
trap 'status=$?; [ $status -eq 0 ] || { echo "[flood] node log:"; tail -40 "$log"; }; kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"; exit $status' EXIT
for _ in $(seq 60); do
	curl -s -o /dev/null "http://127.0.0.1:$port" -H 'Content-Type: application/json' \
		-d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' && break
	sleep 1
done
node tests/js/flood.mjs "ws://127.0.0.1:$port" "${COUNT:-16000}"
