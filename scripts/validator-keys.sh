#!/usr/bin/env bash
# The keys of one validator, made the way its operator makes them: with the node's own
# `key` subcommands, on the machine that will run the validator.
#
#   ./scripts/validator-keys.sh --base-path /var/lib/flexchain --chain flexchain_eskisehir \
#       --party "OEDAS (the DSO)"
#
# It writes, under the base path, for the chain id given (or read from --chain FILE):
#   chains/<id>/network/secret_ed25519   the node key (its peer id identifies the node)
#   chains/<id>/keystore/                 the session keys, Aura (sr25519, `aura`) and
#                                         GRANDPA (ed25519, `gran`), and the market
#                                         solver's key (sr25519, `flex`)
#   account.secret                        the secret phrase of the validator's account
#                                         (unless --account gives an existing one)
#   validator.json                        the public parts, printed again on a second run
# and prints ONLY the public parts: the [[validator]] entry of the network file (account,
# aura, grandpa in SS58 of prefix 7171), the node's peer id, the solver's account (to
# endow), and `session.setKeys(keys, proof)` for a validator that joins a running chain.
# The session keys' secret phrases are kept nowhere but in the keystore; every secret
# file is mode 0600 in directories of mode 0700. Nothing secret goes to the output.
#
# Options:
#   --base-path DIR     the validator's base path (the node's --base-path)        [required]
#   --chain ID|FILE     the chain id, or the network file / chain spec to read it [required]
#   --party NAME        who runs it (the network file's `party`)
#   --account ADDRESS   the party's existing account instead of a new one
#   --json              one JSON object instead of the TOML snippet (for programs)
# The node binary is $FLEXCHAIN_NODE, or the release build of this checkout.
set -euo pipefail
self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
source "$(dirname "$self")/env.sh"
umask 077

node="${FLEXCHAIN_NODE:-$CARGO_TARGET_DIR/release/flexchain-node}"
base="" chain="" party="validator" account="" json=false

die() {
	echo "[validator-keys] $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
	--base-path) base=${2:?}; shift 2 ;;
	--chain) chain=${2:?}; shift 2 ;;
	--party) party=${2:?}; shift 2 ;;
	--account) account=${2:?}; shift 2 ;;
	--json) json=true; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$self" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done
[ -n "$base" ] || die "--base-path is required"
[ -n "$chain" ] || die "--chain is required (the chain id, or the network file or chain spec)"
[ -x "$node" ] || die "$node is not built: source scripts/env.sh && cargo build --release --workspace --bins"

# The chain id: the keystore and the node key live under <base>/chains/<id>, where the
# node looks for them when started with --base-path <base> --chain <that chain>.
if [ -f "$chain" ]; then
	case "$chain" in
	*.toml) id=$(sed -n 's/^id *= *"\([^"]*\)".*/\1/p' "$chain" | head -1) ;;
	*) id=$(sed -n 's/^ *"id": *"\([^"]*\)".*/\1/p' "$chain" | head -1) ;;
	esac
	[ -n "$id" ] || die "no chain id in $chain"
else
	id=$chain
fi
case "$id" in *[!A-Za-z0-9_-]*) die "chain id '$id': letters, digits, _ and - only" ;; esac

mkdir -p "$base"
base=$(cd "$base" && pwd)
chain_dir="$base/chains/$id"
keystore="$chain_dir/keystore"
node_key="$chain_dir/network/secret_ed25519"
public="$base/validator.json"

# One field of the node's pretty-printed JSON (`key generate|inspect --output-type json`).
field() { sed -n "s/^ *\"$1\": \"\([^\"]*\)\".*/\1/p"; }

print_public() {
	if $json; then
		cat "$public"
		return
	fi
	get() { field "$1" <"$public"; }
	cat <<EOF
# $(get party): public keys only (secrets stay under $base)
[[validator]]
party = "$(get party)"
account = "$(get account)"
aura = "$(get aura)"           # sr25519, key type \`aura\`
grandpa = "$(get grandpa)"        # ed25519, key type \`gran\`

# The market solver's account (key type \`flex\`): endow it for its fees.
[[account]]
address = "$(get flex)"
flex = 1000

# Node: peer id $(get peer_id)
#   bootnode: /ip4/<its public address>/tcp/30333/p2p/$(get peer_id)
# Joining a running chain instead of genesis: from the account, session.setKeys(
#   keys = $(get session_keys),
#   proof = $(get proof))
# then a council motion validatorSet.addValidator($(get account)).
EOF
}

if [ -f "$public" ]; then
	echo "[validator-keys] keys already made under $base; their public parts:" >&2
	print_public
	exit 0
fi
if [ -d "$keystore" ] && [ -n "$(ls -A "$keystore")" ]; then
	die "$keystore already holds keys (not made by this script): refusing to add more"
fi
[ ! -e "$node_key" ] || die "$node_key exists already: refusing to replace a node key"

mkdir -p "$keystore" "$(dirname "$node_key")"
secret=$(mktemp "$base/.suri.XXXXXX")
trap 'rm -f "$secret"' EXIT

# A new key of `scheme`, its secret phrase only in the 0600 file "$secret" (for
# `--suri <file>`, so that no secret appears on a command line); prints its JSON
# without the secret.
new_key() {
	local out
	out=$("$node" key generate --scheme "$1" --output-type json)
	field secretPhrase <<<"$out" >"$secret"
	grep -v -e secretPhrase -e secretSeed <<<"$out"
}

# Inserts the key in "$secret" into the keystore as `type` and forgets the phrase.
# (`key insert` loads some chain spec before it looks at --keystore-path; the keystore
# path given makes the chain irrelevant, so the built-in `dev` serves.)
insert() {
	"$node" key insert --chain dev --keystore-path "$keystore" --key-type "$1" --scheme "$2" --suri "$secret"
}

# The SS58 address (prefix 7171) and the hex public key of a key's JSON.
ss58() { field ss58Address; }
hex() { field publicKey | sed 's/^0x//'; }

"$node" key generate-node-key --file "$node_key" 2>/dev/null
peer_id=$("$node" key inspect-node-key --file "$node_key")

if [ -n "$account" ]; then
	keys=$("$node" key inspect "$account" --output-type json) || die "--account $account is not an address"
	account=$(ss58 <<<"$keys")
	account_id=$(field accountId <<<"$keys")
else
	keys=$(new_key sr25519)
	account=$(ss58 <<<"$keys")
	account_id=0x$(hex <<<"$keys")
	install -m 600 "$secret" "$base/account.secret"
fi

# The proof that the account's owner holds the session keys (what session.setKeys
# checks): each key signs "POP_" followed by the account id.
statement="0x504f505f${account_id#0x}"
sign() { "$node" sign --suri "$secret" --scheme "$1" --hex --message "$statement"; }

keys=$(new_key sr25519)
insert aura sr25519
aura=$(ss58 <<<"$keys") aura_hex=$(hex <<<"$keys")
aura_proof=$(sign sr25519)

keys=$(new_key ed25519)
insert gran ed25519
grandpa=$(ss58 <<<"$keys") grandpa_hex=$(hex <<<"$keys")
grandpa_proof=$(sign ed25519)

keys=$(new_key sr25519)
insert flex sr25519
flex=$(ss58 <<<"$keys")
: >"$secret"

for k in "61757261$aura_hex" "6772616e$grandpa_hex"; do
	[ -f "$keystore/$k" ] || die "the keystore lacks $k after insertion"
done

cat >"$public" <<EOF
{
  "party": "$party",
  "chain_id": "$id",
  "account": "$account",
  "aura": "$aura",
  "grandpa": "$grandpa",
  "flex": "$flex",
  "peer_id": "$peer_id",
  "session_keys": "0x$aura_hex$grandpa_hex",
  "proof": "0x${aura_proof#0x}${grandpa_proof#0x}",
  "base_path": "$base",
  "keystore": "$keystore",
  "node_key_file": "$node_key",
  "account_secret_file": "$([ -f "$base/account.secret" ] && echo "$base/account.secret")"
}
EOF
chmod 644 "$public"
print_public
