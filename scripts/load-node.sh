# A dev node for the load scripts (flood-bench.sh, benchmark-storage.sh), sourced:
# `start_load_node LOG ARGS...` starts "$node" --dev with ARGS, a free RPC port and
# pool limits for floods, logging to LOG; it sets `port` and `pid` and returns once
# the node answers RPC (60 s at most).
start_load_node() {
	local log=$1
	shift
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$node" --dev --rpc-port "$port" --port 0 --no-prometheus --no-telemetry \
		--pool-limit 50000 --pool-kbytes 102400 --rpc-max-connections 1000 "$@" >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 60); do
		curl -s -o /dev/null "http://127.0.0.1:$port" -H 'Content-Type: application/json' \
			-d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' && return 0
		sleep 1
	done
	echo "the node did not answer on port $port; its log: $log" >&2
	return 1
}
