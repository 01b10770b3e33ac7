#!/usr/bin/env bash
# Upgrades the runtime of a running chain through the council and the technical
# committee (see scripts/governance/upgrade.mjs for the options), for example:
#   ./scripts/upgrade.sh --wasm flexchain_runtime.compact.compressed.wasm --url ws://127.0.0.1:9944
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/governance" && pwd)"
if [ ! -d "$dir/node_modules/@polkadot/api" ]; then
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
exec node "$dir/upgrade.mjs" "$@"
