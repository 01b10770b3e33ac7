#!/usr/bin/env bash
# The main command: sets up what is missing, builds the node and starts a local
# development chain (one validator, the pilot's cast registered) on
# ws://127.0.0.1:9944. Open it in Polkadot.js Apps:
#   https://polkadot.js.org/apps/?rpc=ws://127.0.0.1:9944
# Extra arguments go to the node, e.g. `./scripts/run.sh --base-path /tmp/flex`
# to keep the chain between runs (the default is a fresh chain every time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

./scripts/setup.sh
echo "[run] building the node and the bridge (release; the first build takes about 25 minutes on 2 cores)"
cargo build --release --workspace --bins
exec ./scripts/dev-chain.sh "$@"
