#!/usr/bin/env bash
# Load benchmark of the bridge: one bridge metering COUNT simulated SunSpec batteries
# (default 1000) every market minute, at SCALE x real time (default 10, a market
# minute every 6 s), for SECONDS of real time (default 120). Prints the samples
# stored against those expected and the bridge's CPU time and memory. No chain is
# needed: metering runs on its own (the bridge keeps retrying the chain).
# BIN_DIR=dir runs the flex-bridge and sim-battery found there instead of building
# them (to compare two builds).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

count=${COUNT:-1000}
scale=${SCALE:-10}
seconds=${SECONDS_RUN:-120}
if [ -n "${BIN_DIR:-}" ]; then
	bin=$BIN_DIR
else
	cargo build --release --workspace --bins
	bin="$CARGO_TARGET_DIR/release"
fi
work=$(mktemp -d)
base=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=$(( (base % 20000) + 30000 ))
http=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ocpp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
epoch=$(date +%s%3N)
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true

"$bin/sim-battery" --listen "127.0.0.1:$base" --count "$count" --scale "$scale" --epoch-ms "$epoch" >"$work/sim.log" 2>&1 &
sim=$!
{
	printf '[chain]\nurl = "ws://127.0.0.1:9"\noracle_key = "//Eve"\n\n[clock]\nscale = %s\nepoch_ms = %s\n\n' "$scale" "$epoch"
	printf '[store]\npath = "%s/bridge.redb"\n\n[http]\nlisten = "127.0.0.1:%s"\n\n[ocpp]\nlisten = "127.0.0.1:%s"\n\n' "$work" "$http" "$ocpp"
	for i in $(seq 0 $((count - 1))); do
		printf '[[asset]]\nid = %s\nmodbus = { address = "127.0.0.1:%s" }\n\n' "$i" $((base + i))
	done
} >"$work/bridge.toml"
sleep 1
"$bin/flex-bridge" --config "$work/bridge.toml" --log error >"$work/bridge.log" 2>&1 &
bridge=$!
trap 'kill $bridge $sim 2>/dev/null; wait $bridge $sim 2>/dev/null; rm -rf "$work"' EXIT

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
sleep 5
cpu0=$(cpu $bridge)
t0=$(date +%s.%N)
samples0=$(curl -s "127.0.0.1:$http/metrics" | awk '/^flexbridge_samples / {print $2}')
peak=0
end=$(( $(date +%s) + seconds ))
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 5
	r=$(rss $bridge)
	[ "$r" -gt "$peak" ] && peak=$r
done
cpu1=$(cpu $bridge)
t1=$(date +%s.%N)
metrics=$(curl -s "127.0.0.1:$http/metrics")
samples1=$(echo "$metrics" | awk '/^flexbridge_samples / {print $2}')
failed=$(echo "$metrics" | awk '/^flexbridge_readings_failed_total / {print $2}')
connected=$(echo "$metrics" | awk '/^flexbridge_devices_connected / {print $2}')
python3 - "$count" "$scale" "$cpu0" "$cpu1" "$ticks" "$t0" "$t1" "$samples0" "$samples1" "$failed" "$peak" "$connected" <<'PY'
import sys
count, scale, cpu0, cpu1, ticks, t0, t1, s0, s1, failed, peak, connected = sys.argv[1:]
count, scale, ticks = int(count), float(scale), int(ticks)
wall = float(t1) - float(t0)
cpu = (int(cpu1) - int(cpu0)) / ticks
minutes = wall * scale / 60
stored = int(s1) - int(s0)
print(f"{'devices':<34}{count}")
print(f"{'devices connected':<34}{connected}")
print(f"{'time scale':<34}{scale:g}x (a market minute every {60/scale:.1f} s)")
print(f"{'real seconds measured':<34}{wall:.0f}")
print(f"{'market minutes':<34}{minutes:.1f}")
print(f"{'samples stored':<34}{stored} of {count * minutes:.0f} expected ({stored / max(count * minutes, 1) * 100:.1f} %)")
print(f"{'readings failed':<34}{failed}")
print(f"{'bridge CPU':<34}{cpu / wall * 100:.1f} % of one core at {scale:g}x; {cpu / wall * 100 / scale:.2f} % at real time")
print(f"{'bridge memory (peak RSS)':<34}{int(peak) / 1024:.1f} MiB")
PY
