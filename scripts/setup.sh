#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and run Flexchain. Idempotent:
# every step checks first and does nothing when its tool is already there.
set -euo pipefail

say() { printf '[setup] %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# protoc: litep2p (the node's networking) generates code from .proto files.
# libssl-dev + pkg-config: link the system OpenSSL instead of compiling one (see env.sh).
missing=()
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]} (Debian)"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The WASM runtime builds for wasm32v1-none; wasm32-unknown-unknown and rust-src
# are what substrate-wasm-builder falls back to on older toolchains.
installed_targets=$(rustup target list --installed)
for target in wasm32v1-none wasm32-unknown-unknown; do
	if ! grep -qx "$target" <<<"$installed_targets"; then
		say "adding Rust target $target"
		rustup target add "$target"
	fi
done
if ! rustup component list --installed | grep -q '^rust-src'; then
	say "adding Rust component rust-src"
	rustup component add rust-src
fi

# The JavaScript checks use @polkadot/api, as Polkadot.js Apps does.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	say "Node.js and npm are needed for tests/js"; exit 1
fi

say "ready: $(protoc --version), $(rustc --version), node $(node --version)"
