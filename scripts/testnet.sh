#!/usr/bin/env bash
# A local network of four validators run by the market's parties: the DSO, two
# aggregators and the regulator, each with its own base path, ports, node key and
# keystore (made by scripts/validator-keys.sh), connected through bootnodes from a chain
# specification built with `build-spec --raw` from a network file (no --dev, no
# development keys, no sudo). Optionally a non-validating RPC node for the bridge and
# Polkadot.js Apps.
#
#   ./scripts/testnet.sh [up] [--rpc-node] [--dir DIR] [--rpc-port N] [--p2p-port N]
#                        [--patch FILE] [--detach] [--fresh] [--node BIN]
#   ./scripts/testnet.sh stop NODE [--dir DIR]      stops one node (SIGINT)
#   ./scripts/testnet.sh start NODE [--dir DIR]     starts it again from its base path
#   ./scripts/testnet.sh status [--dir DIR]         one line per node
#   ./scripts/testnet.sh down [--dir DIR]           stops every node
#
# NODE is dso, aggregator-a, aggregator-b, regulator or rpc. `up` stays in the
# foreground and stops every node on Ctrl-C (or returns once the network runs with
# --detach; then `down` stops it). It prints one machine-readable line per node,
#   [testnet] node=dso role=validator rpc=ws://127.0.0.1:9945 p2p=30333 peer=12D3KooW... log=...
# and `[testnet] ready` once every node answers. The keys and the chain specification
# are made on the first `up` in DIR (default testnet-run) and reused afterwards, so a
# stopped network starts again where it was; --fresh deletes DIR first.
#
# Ports: the RPC node on --rpc-port (default 9944), the validators on the next four;
# peer-to-peer ports from --p2p-port (default 30333) in the same order after the
# validators. --patch merges a JSON runtime genesis patch into the network's (objects
# merged, lists appended, an account's endowment replaced): the pilot demo adds its
# market clock, parameters and cast this way. The node binary is --node,
# $FLEXCHAIN_NODE or the release build of this checkout.
#
# The network file, the chain spec and every validator's public keys are in DIR; their
# secrets only in the keystores and in DIR/<node>/account.secret (a local test network:
# its accounts sign the tests' council motions).
set -euo pipefail
self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$self/env.sh"

node="${FLEXCHAIN_NODE:-$CARGO_TARGET_DIR/release/flexchain-node}"
validators=(dso aggregator-a aggregator-b regulator)
declare -A party=(
	[dso]="OEDAS (the DSO)" [aggregator-a]="Aggregator A"
	[aggregator-b]="Aggregator B" [regulator]="EPDK (the regulator)"
)
chain_id=flexchain_testnet

cmd=up
case "${1:-}" in up | stop | start | status | down) cmd=$1; shift ;; esac
target=""
if [ "$cmd" = stop ] || [ "$cmd" = start ]; then
	target=${1:?"$cmd needs a node: ${validators[*]} or rpc"}
	shift
fi
dir=testnet-run rpc_node=false rpc_port=9944 p2p_port=30333 patch="" detach=false fresh=false
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) dir=${2:?}; shift 2 ;;
	--rpc-node) rpc_node=true; shift ;;
	--rpc-port) rpc_port=${2:?}; shift 2 ;;
	--p2p-port) p2p_port=${2:?}; shift 2 ;;
	--patch) patch=${2:?}; shift 2 ;;
	--node) node=${2:?}; export FLEXCHAIN_NODE=$node; shift 2 ;;
	--detach) detach=true; shift ;;
	--fresh) fresh=true; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "[testnet] unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done

say() { echo "[testnet] $*"; }
die() {
	echo "[testnet] error: $*" >&2
	exit 1
}

# A node's index: its ports are the base plus it (the RPC node after the validators).
index() {
	local i
	for i in "${!validators[@]}"; do [ "${validators[$i]}" = "$1" ] && { echo "$i"; return; }; done
	[ "$1" = rpc ] && { echo 4; return; }
	die "no node '$1': ${validators[*]} or rpc"
}

pid_of() {
	local f="$dir/$1.pid"
	[ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

# --- keys and the chain specification (first `up` only) ----------------------------

make_keys() {
	local v
	for v in "${validators[@]}"; do
		"$self/validator-keys.sh" --base-path "$dir/$v" --chain "$chain_id" \
			--party "${party[$v]}" --json >"$dir/$v.keys.json"
	done
}

# One field of a validator's public keys.
pub() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$dir/$1.keys.json" "$2"; }

write_network_file() {
	local v members="" f="$dir/network.toml"
	for v in "${validators[@]}"; do members+="\"$(pub "$v" account)\", "; done
	cat >"$f" <<EOF
# The local test network of scripts/testnet.sh: public keys only.
name = "Flexchain local testnet"
id = "$chain_id"
chain_type = "local"
council = [${members%, }]
technical_committee = [${members%, }]
fsps = ["$(pub aggregator-a account)", "$(pub aggregator-b account)"]

[[dso]]
account = "$(pub dso account)"
oracles = []
locations = [{ id = 1, name = "Testnet LV-1" }]
EOF
	for v in "${validators[@]}"; do
		cat >>"$f" <<EOF

[[validator]]
party = "$(pub "$v" party)"
account = "$(pub "$v" account)"
aura = "$(pub "$v" aura)"
grandpa = "$(pub "$v" grandpa)"

[[account]]
address = "$(pub "$v" account)"
flex = 10000

[[account]]
address = "$(pub "$v" flex)"
flex = 1000
EOF
	done
}

# Merges the --patch file into the plain chain specification's genesis patch.
merge_patch() {
	python3 - "$1" "$patch" <<'EOF'
import json, sys
spec_path, patch_path = sys.argv[1], sys.argv[2]
spec = json.load(open(spec_path))
extra = json.load(open(patch_path))

def merge(into, new):
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        elif isinstance(v, list) and isinstance(into.get(k), list):
            into[k] = into[k] + v
        else:
            into[k] = v

target = spec["genesis"]["runtimeGenesis"]["patch"]
merge(target, extra)
# One endowment per account: the patch's replaces the network's.
balances = target.get("balances", {}).get("balances", [])
last = {}
for who, amount in balances:
    last[who] = amount
if balances:
    target["balances"]["balances"] = [[w, a] for w, a in last.items()]
json.dump(spec, open(spec_path, "w"))
EOF
}

make_spec() {
	"$node" build-spec --chain "$dir/network.toml" >"$dir/spec-plain.json" 2>"$dir/build-spec.log" ||
		die "build-spec failed: $(tail -3 "$dir/build-spec.log")"
	if [ -n "$patch" ]; then
		[ -f "$patch" ] || die "--patch $patch: no such file"
		merge_patch "$dir/spec-plain.json"
	fi
	"$node" build-spec --chain "$dir/spec-plain.json" --raw >"$dir/spec.json" 2>>"$dir/build-spec.log" ||
		die "build-spec --raw failed: $(tail -3 "$dir/build-spec.log")"
}

prepare() {
	[ -x "$node" ] || die "$node is not built: source scripts/env.sh && cargo build --release --workspace --bins"
	if $fresh; then rm -rf "$dir"; fi
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ ! -f "$dir/spec.json" ]; then
		[ ! -d "$dir/dso" ] || die "$dir holds keys but no spec.json: use --fresh to start over"
		say "making the validators' keys and the chain specification in $dir"
		make_keys
		write_network_file
		make_spec
	elif [ -n "$patch" ]; then
		say "$dir has its chain specification already: --patch ignored (use --fresh)"
	fi
}

# --- nodes -------------------------------------------------------------------------

bootnode() {
	local v=$1 i
	i=$(index "$v")
	echo "/ip4/127.0.0.1/tcp/$((p2p_port + i))/p2p/$(pub "$v" peer_id)"
}

start_node() {
	local name=$1 i args
	index "$name" >/dev/null
	i=$(index "$name")
	[ -z "$(pid_of "$name")" ] || die "$name runs already (pid $(pid_of "$name"))"
	args=(--chain "$dir/spec.json" --base-path "$dir/$name" --name "$name"
		--port $((p2p_port + i)) --rpc-port "$(rpc_url "$name" | sed 's/.*://')"
		--rpc-cors all --no-mdns --no-telemetry --no-prometheus)
	if [ "$name" = rpc ]; then
		args+=(--bootnodes "$(bootnode dso)" --bootnodes "$(bootnode aggregator-a)")
		# A node key for the RPC node, made once (it holds no session keys).
		local key="$dir/rpc/chains/$chain_id/network/secret_ed25519"
		[ -f "$key" ] || { mkdir -p "$(dirname "$key")" && "$node" key generate-node-key --file "$key" 2>/dev/null; }
	else
		args+=(--validator)
		# Every validator knows the DSO's node and Aggregator A's: either one suffices.
		[ "$name" = dso ] || args+=(--bootnodes "$(bootnode dso)")
		[ "$name" = aggregator-a ] || args+=(--bootnodes "$(bootnode aggregator-a)")
	fi
	setsid "$node" "${args[@]}" >>"$dir/$name.log" 2>&1 </dev/null &
	echo $! >"$dir/$name.pid"
}

rpc_url() {
	local name=$1
	if [ "$name" = rpc ]; then echo "ws://127.0.0.1:$rpc_port"; else echo "ws://127.0.0.1:$((rpc_port + 1 + $(index "$name")))"; fi
}

# Waits until a node answers system_health over HTTP (the RPC port serves both).
wait_rpc() {
	local name=$1 url deadline=$((SECONDS + 120))
	url=$(rpc_url "$name" | sed 's/^ws/http/')
	until curl -sf -H 'Content-Type: application/json' \
		-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' "$url" >/dev/null 2>&1; do
		[ -n "$(pid_of "$name")" ] || die "$name exited; the end of its log:
$(tail -15 "$dir/$name.log")"
		[ $SECONDS -lt $deadline ] || die "$name does not answer on $url after 120 s"
		sleep 0.5
	done
}

describe() {
	local name=$1 role=validator peer
	[ "$name" != rpc ] || role=rpc
	if [ "$name" = rpc ]; then
		peer=$("$node" key inspect-node-key --file "$dir/rpc/chains/$chain_id/network/secret_ed25519" 2>/dev/null)
	else
		peer=$(pub "$name" peer_id)
	fi
	say "node=$name role=$role rpc=$(rpc_url "$name") p2p=$((p2p_port + $(index "$name"))) peer=$peer pid=$(pid_of "$name" || echo -) log=$dir/$name.log"
}

# Stops nodes: SIGINT to all, SIGKILL to any still running after ten seconds.
stop_nodes() {
	local name pids=()
	for name in "$@"; do
		pids+=($(pid_of "$name" || true))
		rm -f "$dir/$name.pid"
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -INT "${pids[@]}" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "${pids[@]}" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null || true
}

all_nodes() {
	echo "${validators[@]}"
	[ ! -f "$dir/rpc.pid" ] && ! $rpc_node || echo rpc
}

# The ports a running network was started with, so that stop/start/status agree.
save_ports() { echo "rpc_port=$rpc_port p2p_port=$p2p_port" >"$dir/ports"; }
load_ports() { [ ! -f "$dir/ports" ] || eval "$(cat "$dir/ports")"; }

case "$cmd" in
up)
	prepare
	save_ports
	if ! $detach; then
		trap 'echo; say "stopping every node"; stop_nodes $(all_nodes); exit 0' INT TERM
	fi
	nodes=("${validators[@]}")
	! $rpc_node || nodes+=(rpc)
	for n in "${nodes[@]}"; do start_node "$n"; done
	for n in "${nodes[@]}"; do wait_rpc "$n"; done
	for n in "${nodes[@]}"; do describe "$n"; done
	say "chain spec=$dir/spec.json network=$dir/network.toml"
	say "ready"
	$detach && exit 0
	say "Ctrl-C stops every node; from another shell: $0 stop|start NODE --dir $dir"
	while true; do sleep 1; done
	;;
stop)
	dir=$(cd "$dir" && pwd)
	load_ports
	index "$target" >/dev/null
	stop_nodes "$target"
	say "node=$target stopped"
	;;
start)
	dir=$(cd "$dir" && pwd)
	load_ports
	start_node "$target"
	wait_rpc "$target"
	describe "$target"
	;;
status)
	dir=$(cd "$dir" && pwd)
	load_ports
	for n in "${validators[@]}" rpc; do
		[ -f "$dir/$n.log" ] || continue
		if [ -n "$(pid_of "$n")" ]; then describe "$n"; else say "node=$n stopped"; fi
	done
	;;
down)
	dir=$(cd "$dir" && pwd)
	stop_nodes "${validators[@]}" rpc
	say "every node stopped"
	;;
esac
