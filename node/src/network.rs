//! A network of real parties, from the file they agree on (`--chain <file>.toml`).
//!
//! The file names the validators (each party's account and the public halves of its
//! Aura and GRANDPA keys), the council and the technical committee, the DSOs with
//! their locations and metering oracles, the registered FSPs, the endowments and the
//! bootnodes. It holds no secret and no development key unless the parties put one
//! there, and the runtime has no sudo pallet: governance is the council's from the
//! first block. `build-spec --chain <file>.toml --raw` turns it into the raw chain
//! specification every party's node starts from. `network/example.toml` documents it.

use crate::chain_spec::{properties, wasm, ChainSpec};
use sc_network::config::MultiaddrWithPeerId;
use sc_service::ChainType;
use serde::Deserialize;
use serde_json::{json, Value};
use sp_core::{
	crypto::{AccountId32, Ss58AddressFormat, Ss58Codec},
	ed25519, sr25519,
};

/// Why a network file is refused.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
	/// The file cannot be read.
	#[error("cannot read `{path}`: {source}")]
	Read {
		/// The file.
		path: String,
		/// Why.
		source: std::io::Error,
	},
	/// The file is not valid TOML of the expected shape.
	#[error("`{path}`: {source}")]
	Parse {
		/// The file.
		path: String,
		/// Why.
		source: toml::de::Error,
	},
	/// A key or address does not decode.
	#[error("`{field}`: `{value}` is not an SS58 address or 0x-prefixed 32-byte hex key")]
	BadKey {
		/// Where in the file.
		field: String,
		/// What was there.
		value: String,
	},
	/// A bootnode is not a multiaddress with a peer id.
	#[error("`bootnodes`: `{0}` is not a multiaddress ending in /p2p/<peer id>")]
	BadBootnode(String),
	/// A rule of the network is broken.
	#[error("{0}")]
	Invalid(String),
}

/// The file the parties agree on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
	/// Human-readable name of the chain.
	pub name: String,
	/// Chain id (also the database folder's name).
	pub id: String,
	/// `live` (default), `local` or `development`.
	#[serde(default)]
	pub chain_type: Option<String>,
	/// Market time as a multiple of the chain's (demonstrations; 1 by default).
	#[serde(default)]
	pub clock_scale: Option<u32>,
	/// Nodes to connect to first.
	#[serde(default)]
	pub bootnodes: Vec<String>,
	/// The validators, at least one.
	#[serde(rename = "validator")]
	pub validators: Vec<Validator>,
	/// Council members (two thirds of them govern the market and the validators).
	pub council: Vec<String>,
	/// Technical committee members (whitelist calls for Root with the council).
	pub technical_committee: Vec<String>,
	/// Grid operators with their locations and metering oracles.
	#[serde(default, rename = "dso")]
	pub dsos: Vec<Dso>,
	/// FSPs registered at genesis.
	#[serde(default)]
	pub fsps: Vec<String>,
	/// Endowed accounts.
	#[serde(default, rename = "account")]
	pub accounts: Vec<Endowment>,
}

/// A validator run by one party.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validator {
	/// Who runs it (for people; not on chain).
	pub party: String,
	/// Its account (session keys are registered for it).
	pub account: String,
	/// Its Aura key (sr25519 public).
	pub aura: String,
	/// Its GRANDPA key (ed25519 public).
	pub grandpa: String,
}

/// A DSO.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dso {
	/// Its account.
	pub account: String,
	/// Its metering oracles (the bridge's keys).
	#[serde(default)]
	pub oracles: Vec<String>,
	/// Its grid locations.
	pub locations: Vec<LocationEntry>,
}

/// A grid location.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationEntry {
	/// Location id, unique on the chain.
	pub id: u32,
	/// Human-readable name.
	pub name: String,
}

/// An endowment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endowment {
	/// The account.
	pub address: String,
	/// Its balance in FLEX (whole units).
	pub flex: u64,
}

/// Decodes an SS58 address (any prefix) or 0x hex of 32 bytes.
fn raw32(field: &str, value: &str) -> Result<[u8; 32], NetworkError> {
	let bad = || NetworkError::BadKey { field: field.into(), value: value.into() };
	if value.starts_with("0x") {
		let bytes = sp_core::bytes::from_hex(value).map_err(|_| bad())?;
		return bytes.try_into().map_err(|_| bad());
	}
	AccountId32::from_ss58check_with_version(value).map(|(a, _)| a.into()).map_err(|_| bad())
}

/// The generic SS58 form the runtime's genesis JSON reads.
fn ss58<T: Ss58Codec>(key: T) -> String {
	key.to_ss58check_with_version(Ss58AddressFormat::custom(42))
}

fn account(field: &str, value: &str) -> Result<String, NetworkError> {
	Ok(ss58(AccountId32::from(raw32(field, value)?)))
}

fn accounts(field: &str, values: &[String]) -> Result<Vec<String>, NetworkError> {
	values.iter().map(|v| account(field, v)).collect()
}

impl Network {
	/// Reads and checks the file at `path`.
	pub fn load(path: &str) -> Result<Self, NetworkError> {
		let text = std::fs::read_to_string(path)
			.map_err(|source| NetworkError::Read { path: path.into(), source })?;
		let network: Network = toml::from_str(&text)
			.map_err(|source| NetworkError::Parse { path: path.into(), source })?;
		network.check()?;
		Ok(network)
	}

	fn check(&self) -> Result<(), NetworkError> {
		let invalid = |s: &str| Err(NetworkError::Invalid(s.into()));
		if self.validators.is_empty() {
			return invalid("`validator`: a network needs at least one validator");
		}
		if self.council.is_empty() || self.technical_committee.is_empty() {
			return invalid("`council` and `technical_committee` may not be empty");
		}
		if let Some(scale) = self.clock_scale {
			if !(1..=pallet_flex_market::clock::MAX_CLOCK_SCALE).contains(&scale) {
				return invalid("`clock_scale`: from 1 to 600");
			}
		}
		Ok(())
	}

	fn chain_type(&self) -> Result<ChainType, NetworkError> {
		Ok(match self.chain_type.as_deref().unwrap_or("live") {
			"live" => ChainType::Live,
			"local" => ChainType::Local,
			"development" => ChainType::Development,
			other => {
				return Err(NetworkError::Invalid(format!(
					"`chain_type`: `{other}` is not live, local or development"
				)))
			},
		})
	}

	/// The runtime genesis this file describes, as a patch over the defaults.
	pub fn genesis_patch(&self) -> Result<Value, NetworkError> {
		let mut keys = Vec::new();
		let mut validators = Vec::new();
		for v in &self.validators {
			let field = |key: &str| format!("validator `{}`: {key}", v.party);
			let who = account(&field("account"), &v.account)?;
			let aura = ss58(sr25519::Public::from_raw(raw32(&field("aura"), &v.aura)?));
			let grandpa = ss58(ed25519::Public::from_raw(raw32(&field("grandpa"), &v.grandpa)?));
			keys.push(json!([who, who, { "aura": aura, "grandpa": grandpa }]));
			validators.push(who);
		}
		let mut dsos = Vec::new();
		for d in &self.dsos {
			let locations: Vec<Value> =
				d.locations.iter().map(|l| json!([l.id, l.name.as_bytes()])).collect();
			dsos.push(json!([
				account("dso.account", &d.account)?,
				locations,
				accounts("dso.oracles", &d.oracles)?
			]));
		}
		let balances = self
			.accounts
			.iter()
			.map(|a| {
				let planks = (a.flex as u128) * flexchain_runtime::UNIT;
				Ok(json!([account("account.address", &a.address)?, planks]))
			})
			.collect::<Result<Vec<_>, NetworkError>>()?;
		Ok(json!({
			"balances": { "balances": balances },
			"validatorSet": { "validators": validators },
			"session": { "keys": keys },
			"council": { "members": accounts("council", &self.council)? },
			"technicalCommittee": { "members": accounts("technical_committee", &self.technical_committee)? },
			"flexMarket": {
				"dsos": dsos,
				"fsps": accounts("fsps", &self.fsps)?,
				"clockScale": self.clock_scale.unwrap_or(1),
			},
		}))
	}

	/// The chain specification of this network.
	pub fn chain_spec(&self) -> Result<ChainSpec, NetworkError> {
		let bootnodes = self
			.bootnodes
			.iter()
			.map(|b| {
				b.parse::<MultiaddrWithPeerId>().map_err(|_| NetworkError::BadBootnode(b.clone()))
			})
			.collect::<Result<Vec<_>, _>>()?;
		let wasm = wasm().map_err(NetworkError::Invalid)?;
		Ok(ChainSpec::builder(wasm, None)
			.with_name(&self.name)
			.with_id(&self.id)
			.with_chain_type(self.chain_type()?)
			.with_genesis_config_patch(self.genesis_patch()?)
			.with_boot_nodes(bootnodes)
			.with_properties(properties())
			.build())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const EXAMPLE: &str = include_str!("../../network/example.toml");

	#[test]
	fn the_example_has_four_validators_and_no_development_key() {
		let n: Network = toml::from_str(EXAMPLE).unwrap();
		n.check().unwrap();
		assert_eq!(n.validators.len(), 4);
		let patch = n.genesis_patch().unwrap();
		assert_eq!(patch["session"]["keys"].as_array().unwrap().len(), 4);
		assert!(patch.get("sudo").is_none());
		let alice = ss58(sp_keyring::Sr25519Keyring::Alice.to_account_id());
		assert!(!patch.to_string().contains(&alice), "Alice's key in a network of real parties");
	}

	#[test]
	fn bad_keys_and_empty_sets_are_refused_with_their_place() {
		let mut n: Network = toml::from_str(EXAMPLE).unwrap();
		n.validators[0].aura = "not-a-key".into();
		let e = n.genesis_patch().unwrap_err().to_string();
		assert!(e.contains("validator `OEDAS (the DSO)`: aura"), "{e}");
		n.validators.clear();
		assert!(n.check().unwrap_err().to_string().contains("at least one validator"));
	}
}
