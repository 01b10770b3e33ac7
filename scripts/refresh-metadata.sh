#!/usr/bin/env bash
# Refreshes bridge/metadata/flexchain.scale, the runtime metadata the bridge's subxt
# types are generated from: builds the node if needed, starts it on a throwaway dev
# chain, asks for metadata V16 (falling back to V15, V14) and writes it. Run it
# after any change to the runtime's calls, events or storage, then rebuild the bridge.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

node="$CARGO_TARGET_DIR/release/flexchain-node"
[ -x "$node" ] || cargo build --release --workspace --bins
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$node" --dev --tmp --rpc-port "$port" --port 0 --no-prometheus --no-telemetry >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
python3 - "$port" bridge/metadata/flexchain.scale <<'PY'
import json, sys, time, urllib.request
port, out = sys.argv[1], sys.argv[2]
def rpc(method, params):
    req = urllib.request.Request(f"http://127.0.0.1:{port}", json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(),
        {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=10))
for _ in range(120):
    try:
        rpc("system_health", []); break
    except Exception:
        time.sleep(0.5)
else:
    sys.exit("[metadata] the node did not answer")
def compact(b):
    mode = b[0] & 3
    if mode == 0: return b[0] >> 2, 1
    if mode == 1: return int.from_bytes(b[:2], "little") >> 2, 2
    if mode == 2: return int.from_bytes(b[:4], "little") >> 2, 4
    n = (b[0] >> 2) + 4
    return int.from_bytes(b[1:1 + n], "little"), 1 + n
for version in (16, 15, 14):
    r = rpc("state_call", ["Metadata_metadata_at_version", "0x" + version.to_bytes(4, "little").hex()])
    raw = bytes.fromhex(r.get("result", "0x")[2:])
    if raw and raw[0] == 1:
        length, skip = compact(raw[1:])
        meta = raw[1 + skip:1 + skip + length]
        open(out, "wb").write(meta)
        print(f"[metadata] wrote {out}: metadata V{version}, {len(meta)} bytes")
        break
else:
    sys.exit("[metadata] the runtime offers no metadata version 14 to 16")
PY
# The subxt macro reads the file at compile time; make cargo rebuild its module.
touch bridge/src/chain/mod.rs
