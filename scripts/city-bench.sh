#!/usr/bin/env bash
# The chain with a city on it: starts a dev chain whose genesis adds 10 DSOs with
# 200 locations, their oracles and 100 FSPs; fills it with 100,000 prequalified
# assets, 10 full books of 10,000 offers and a few hundred offers in each other
# location, and 1,000 requests over a day (tests/js/city.mjs); then prints the
# weight and block share of each market call at that state, the off-chain worker's
# time per request, the latency of the market's RPCs on a full book, the state's
# size on disk, the node's memory and how long the fill took (markdown, on stdout;
# progress on stderr). About 20 minutes on two cores; a benchmark, not a test.
#
# CITY_SCALE=0.1 fills a tenth of it for a quick trial; FLEXCHAIN_NODE picks
# another node binary; KEEP=1 keeps the node's log and database.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

node_bin="${FLEXCHAIN_NODE:-$CARGO_TARGET_DIR/release/flexchain-node}"
[ -x "$node_bin" ] || cargo build --release --workspace --bins
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

dir=$(mktemp -d)
pid=
finish() {
	local status=$?
	[ -z "$pid" ] || { kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	if [ $status -ne 0 ]; then
		echo "[city] failed; the node's log ends:" >&2
		tail -30 "$dir/node.log" >&2 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "[city] kept $dir" >&2; else rm -rf "$dir"; fi
	exit $status
}
trap finish EXIT

# The dev chain's genesis with the city's DSOs, locations, oracles, FSPs and funds
# (python keeps the spec's large balances exact).
"$node_bin" build-spec --chain dev >"$dir/dev.json" 2>/dev/null
node tests/js/city.mjs genesis >"$dir/city.json"
python3 - "$dir/dev.json" "$dir/city.json" "$dir/spec.json" <<'EOF'
import json, sys
spec, city = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
patch = spec["genesis"]["runtimeGenesis"]["patch"]
patch["flexMarket"]["dsos"] += city["dsos"]
patch["flexMarket"]["fsps"] += city["fsps"]
patch["balances"]["balances"] += [[a, int(v)] for a, v in city["balances"]]
json.dump(spec, open(sys.argv[3], "w"))
EOF

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$node_bin" --chain "$dir/spec.json" --alice --force-authoring --base-path "$dir/db" \
	--rpc-port "$port" --port 0 --no-prometheus --no-telemetry --no-mdns \
	--node-key 0000000000000000000000000000000000000000000000000000000000000001 \
	--pool-limit 50000 --pool-kbytes 102400 --rpc-max-connections 1000 \
	-l runtime::flex-market=debug >"$dir/node.log" 2>&1 &
pid=$!
for i in $(seq 61); do
	[ "$i" -le 60 ] || { echo "[city] the node did not answer on port $port" >&2; exit 1; }
	curl -s -o /dev/null "http://127.0.0.1:$port" -H 'Content-Type: application/json' \
		-d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' && break
	sleep 1
done
echo "[city] node $pid on port $port, log $dir/node.log" >&2
node tests/js/city.mjs run "ws://127.0.0.1:$port" "$dir/node.log" "$pid" "$dir/db"
