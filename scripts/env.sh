# Shared build environment, sourced by every script: one target directory for
# the node, the tests and CI, and the system OpenSSL instead of building one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flexchain/target}"
export OPENSSL_NO_VENDOR="${OPENSSL_NO_VENDOR:-1}"
