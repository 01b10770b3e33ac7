#!/usr/bin/env bash
# The bridge's chaos run (outside the timed suite): a dev chain contracts DEVICES
# simulated batteries (default 100) for one 3-minute window; the bridge daemon is
# killed with SIGKILL at random moments during the window and while it reports, KILLS
# times (default 20), and restarted each time. Passes when every fill has exactly one
# delivery report on chain: 0 lost, 0 duplicated. Prints the kills and the figures.
# SEED=n repeats a run. Takes about 8 minutes after the build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

node="${FLEXCHAIN_NODE:-$CARGO_TARGET_DIR/release/flexchain-node}"
[ -x "$node" ] || cargo build --release --workspace --bins
export FLEXCHAIN_NODE="$node"
export CHAOS_DEVICES="${DEVICES:-100}" CHAOS_KILLS="${KILLS:-20}"
if [ -n "${SEED:-}" ]; then export CHAOS_SEED="$SEED"; fi
cargo test --release --workspace --test chaos -- --ignored --nocapture
