#!/usr/bin/env bash
# Starts the built node on a development chain: Aura + GRANDPA with Alice as the
# validator, JSON-RPC on 127.0.0.1:9944, a fresh temporary database unless a
# --base-path is given. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

node="$CARGO_TARGET_DIR/release/flexchain-node"
if [ ! -x "$node" ]; then
	echo "[dev-chain] $node is not built yet: run ./scripts/run.sh" >&2
	exit 1
fi
args=(--dev)
case " $* " in *" --base-path "*|*" -d "*) ;; *) args+=(--tmp) ;; esac
echo "[dev-chain] Polkadot.js Apps: https://polkadot.js.org/apps/?rpc=ws://127.0.0.1:9944"
exec "$node" "${args[@]}" "$@"
