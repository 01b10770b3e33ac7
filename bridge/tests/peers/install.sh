#!/usr/bin/env bash
# Installs the Python interoperability peers' libraries (the `ocpp` library with
# `websockets`, `pymodbus`, `pysunspec2`) into a virtualenv under the target
# directory, $CARGO_TARGET_DIR/py-peers (or target/py-peers). Idempotent: a venv that
# already imports them is left as it is. The Rust tests in bridge/tests/interop.rs
# find it there (or at $FLEX_PEERS_VENV), or python3 itself when it has them (a
# machine without the venv module gets them with pip --user).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="${CARGO_TARGET_DIR:-$here/../../../target}"
venv="${FLEX_PEERS_VENV:-$target/py-peers}"
check='import ocpp, websockets, pymodbus, sunspec2.modbus.client'
if [ -x "$venv/bin/python3" ] && "$venv/bin/python3" -c "$check" 2>/dev/null; then
	exit 0
fi
command -v python3 >/dev/null || { echo "[peers] python3 is missing: the interop tests will skip" >&2; exit 0; }
if python3 -c "$check" 2>/dev/null; then
	exit 0
fi
if python3 -m venv "$venv" 2>/dev/null; then
	"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
	"$venv/bin/python3" -c "$check"
	echo "[peers] installed into $venv"
else
	# No venv module (Debian without python3-venv): the user's site-packages.
	rm -rf "$venv"
	python3 -m pip install --quiet --disable-pip-version-check --user -r "$here/requirements.txt"
	python3 -c "$check"
	echo "[peers] installed with pip --user"
fi
