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
source scripts/load-node.sh
log=$(mktemp)
trap 'status=$?; [ $status -eq 0 ] || { echo "[flood] node log:"; tail -40 "$log"; }; kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"; exit $status' EXIT
pid=
start_load_node "$log" --tmp
node tests/js/flood.mjs "ws://127.0.0.1:$port" "${COUNT:-16000}"
