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
#   ./scripts/dev-chain.sh                      # only a dev chain, no demo
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

./scripts/setup.sh
echo "[run] building the node, the bridge and the demo (release; the first build takes about 25 minutes on 2 cores)"
cargo build --release --workspace --bins
exec "$CARGO_TARGET_DIR/release/flex-pilot" "$@"
