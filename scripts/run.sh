#!/usr/bin/env bash
# The main command: sets up what is missing, builds everything and replays the EFLEX
# field pilot end to end on a local dev chain with a simulated battery (SunSpec over
# Modbus TCP) and V2G charger (OCPP 1.6J), driven by the bridge: every step a real
# extrinsic, device message and meter reading, on a market clock at 15x real time.
# Prints Table III, writes charts to ./pilot-run/, and leaves the chain running for
# Polkadot.js Apps (https://polkadot.js.org/apps/?rpc=ws://127.0.0.1:9944) until Ctrl-C.
#
#   ./scripts/run.sh                            # the pilot
#   ./scripts/run.sh --scenario competition     # five FSPs, an outage, penalties
#   ./scripts/run.sh --exit --scale 30          # stop after the report; faster clock
#   ./scripts/run.sh --network                  # on four validators and an RPC node (scripts/testnet.sh)
#   ./scripts/dev-chain.sh                      # only a dev chain, no demo
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

./scripts/setup.sh
echo "[run] building the node, the bridge and the demo (release; the first build takes about 15 minutes on 2 cores)"
cargo build --release --workspace --bins
# --- the web app (web/; see web/README.md): built and served beside the demo, on the
# demo's node and bridge; it stops with the demo. Skipped without Node.js/npm.
rpc_port=9944 port_base=19000 web_port="${FLEX_WEB_PORT:-8000}"
args=("$@")
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --rpc-port) rpc_port="${args[$((i + 1))]:-$rpc_port}" ;;
    --port-base) port_base="${args[$((i + 1))]:-$port_base}" ;;
  esac
done
if command -v npm >/dev/null && ./scripts/web.sh build; then
  node web/scripts/serve.mjs --port "$web_port" --rpc "ws://127.0.0.1:$rpc_port" \
    --bridge "http://127.0.0.1:$port_base" --parent $$ >/dev/null 2>&1 &
  echo "[web] the Flexchain app: http://127.0.0.1:$web_port/?rpc=ws://127.0.0.1:$rpc_port" \
    "(Polkadot.js Apps: https://polkadot.js.org/apps/?rpc=ws://127.0.0.1:$rpc_port)"
else
  echo "[web] Node.js/npm not found or the build failed: the web app is not served (./scripts/web.sh)"
fi
# --------------------------------------------------------------------------------------------
exec "$CARGO_TARGET_DIR/release/flex-pilot" "$@"
