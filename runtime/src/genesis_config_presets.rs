//! Genesis presets: `development` (one validator, the pilot's cast ready) and
//! `local_testnet` (three validators run by a DSO, an aggregator and a regulator).
//! Neither has a sudo key: the runtime has no sudo pallet. Both have the same council
//! (Alice, Bob, Charlie) and technical committee (Dave, Eve, Ferdie), so governance
//! works the same on either. A network of real parties takes its genesis from a file
//! the parties agree on (the node's `--chain <network>.toml`), not from a preset.

use crate::{
	AccountId, BalancesConfig, CouncilConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys,
	TechnicalCommitteeConfig, ValidatorSetConfig, UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use pallet_flex_market::LocationId;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Who plays which part of the pilot on a development chain.
pub mod roles {
	use super::*;

	/// The grid operator: posts requests, prequalifies assets, buys.
	pub const DSO: Sr25519Keyring = Sr25519Keyring::Dave;
	/// FSP owning the stationary battery (Modbus).
	pub const BATTERY_FSP: Sr25519Keyring = Sr25519Keyring::Bob;
	/// FSP owning the V2G charger (OCPP 1.6J).
	pub const V2G_FSP: Sr25519Keyring = Sr25519Keyring::Charlie;
	/// The DSO's metering oracle (the bridge's key).
	pub const ORACLE: Sr25519Keyring = Sr25519Keyring::Eve;
	/// Validator of the development chain.
	pub const VALIDATOR: Sr25519Keyring = Sr25519Keyring::Alice;
	/// The council: the DSO's, an aggregator's and the regulator's representatives.
	pub const COUNCIL: [Sr25519Keyring; 3] =
		[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie];
	/// The technical committee: the same organisations' engineers.
	pub const TECHNICAL_COMMITTEE: [Sr25519Keyring; 3] =
		[Sr25519Keyring::Dave, Sr25519Keyring::Eve, Sr25519Keyring::Ferdie];
	/// The off-chain solver's key on a development chain, `//Alice//flex` (sr25519):
	/// the node puts it in its keystore on `--dev`, so the worker does not share
	/// Alice's nonce. Endowed so that it can pay for its solutions.
	pub const DEV_SOLVER: [u8; 32] = DEV_SOLVER_KEY;
	/// The pilot's LV transformer area.
	pub const PILOT_LOCATION: LocationId = 1;
	/// Its name.
	pub const PILOT_LOCATION_NAME: &str = "Eskisehir";
}

/// `//Alice//flex`'s public key (checked against the derivation in the tests).
const DEV_SOLVER_KEY: [u8; 32] = [
	0xb0, 0x66, 0xbf, 0x95, 0xb4, 0x34, 0x60, 0x8e, 0xc5, 0xff, 0xdc, 0x62, 0x66, 0xf2, 0xbc, 0x5d,
	0xe9, 0x06, 0x4a, 0x69, 0xce, 0x31, 0xa9, 0xaf, 0x3d, 0xf2, 0x7e, 0x6a, 0x5b, 0x0d, 0x0c, 0x65,
];

/// What every endowed account starts with.
pub const ENDOWMENT: u128 = 1_000_000 * UNIT;

/// A validator from the keyring: its account, Aura and GRANDPA keys.
fn validator(k: (Sr25519Keyring, Ed25519Keyring)) -> (AccountId, AuraId, GrandpaId) {
	(k.0.to_account_id(), k.0.public().into(), k.1.public().into())
}

struct Genesis {
	validators: Vec<(AccountId, AuraId, GrandpaId)>,
	endowed: Vec<AccountId>,
	dso: AccountId,
	oracles: Vec<AccountId>,
	fsps: Vec<AccountId>,
}

fn genesis(g: Genesis) -> Value {
	let location = (roles::PILOT_LOCATION, roles::PILOT_LOCATION_NAME.as_bytes().to_vec());
	let keys = g
		.validators
		.iter()
		.map(|(a, aura, grandpa)| {
			(a.clone(), a.clone(), SessionKeys { aura: aura.clone(), grandpa: grandpa.clone() })
		})
		.collect::<Vec<_>>();
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: g.endowed.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		validator_set: ValidatorSetConfig {
			validators: g.validators.iter().map(|v| v.0.clone()).collect::<Vec<_>>(),
		},
		session: SessionConfig { keys },
		council: CouncilConfig {
			members: roles::COUNCIL.iter().map(|k| k.to_account_id()).collect::<Vec<_>>(),
		},
		technical_committee: TechnicalCommitteeConfig {
			members: roles::TECHNICAL_COMMITTEE
				.iter()
				.map(|k| k.to_account_id())
				.collect::<Vec<_>>(),
		},
		flex_market: pallet_flex_market::GenesisConfig {
			dsos: vec![(g.dso, vec![location], g.oracles)],
			fsps: g.fsps,
		},
	})
}

/// The keyring's accounts but `One` and `Two`, each with the endowment.
fn keyring_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.filter(|k| k != &Sr25519Keyring::One && k != &Sr25519Keyring::Two)
		.map(|k| k.to_account_id())
		.collect()
}

/// The development chain: Alice validates; Dave is the DSO of Eskisehir with Eve as
/// its metering oracle; Bob (battery) and Charlie (V2G charger) are registered FSPs.
/// Governance is the council's, as on any other chain.
pub fn development_config_genesis() -> Value {
	genesis(Genesis {
		validators: vec![validator((Sr25519Keyring::Alice, Ed25519Keyring::Alice))],
		endowed: keyring_accounts()
			.into_iter()
			.chain([AccountId::from(roles::DEV_SOLVER)])
			.collect(),
		dso: roles::DSO.to_account_id(),
		oracles: vec![roles::ORACLE.to_account_id()],
		fsps: vec![roles::BATTERY_FSP.to_account_id(), roles::V2G_FSP.to_account_id()],
	})
}

/// A local test network: Alice (the DSO), Bob (an aggregator) and Charlie (the
/// regulator) validate; Ferdie is the DSO's metering oracle and Bob a registered FSP.
pub fn local_config_genesis() -> Value {
	genesis(Genesis {
		validators: vec![
			validator((Sr25519Keyring::Alice, Ed25519Keyring::Alice)),
			validator((Sr25519Keyring::Bob, Ed25519Keyring::Bob)),
			validator((Sr25519Keyring::Charlie, Ed25519Keyring::Charlie)),
		],
		endowed: keyring_accounts(),
		dso: Sr25519Keyring::Alice.to_account_id(),
		oracles: vec![Sr25519Keyring::Ferdie.to_account_id()],
		fsps: vec![Sr25519Keyring::Bob.to_account_id()],
	})
}

/// The JSON of preset `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The presets this runtime has.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}

#[cfg(test)]
pub(crate) mod tests {
	use super::*;
	use crate::{Runtime, System};
	use frame_support::genesis_builder_helper::{build_state, get_preset as preset_json};

	/// Writes `patch` over `base`, object by object, as the node does with a preset.
	fn merge(base: &mut Value, patch: Value) {
		match (base, patch) {
			(Value::Object(base), Value::Object(patch)) => {
				for (k, v) in patch {
					merge(base.entry(k).or_insert(Value::Null), v);
				}
			},
			(base, patch) => *base = patch,
		}
	}

	/// Storage built from preset `id` over the default genesis config.
	pub(crate) fn build(id: &str) -> sp_io::TestExternalities {
		let patch: Value = serde_json::from_slice(
			&preset_json::<RuntimeGenesisConfig>(&Some(id.into()), get_preset)
				.expect("preset exists"),
		)
		.unwrap();
		let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
		merge(&mut config, patch);
		let mut ext = sp_io::TestExternalities::new_empty();
		ext.execute_with(|| {
			build_state::<RuntimeGenesisConfig>(serde_json::to_vec(&config).unwrap())
				.expect("preset builds")
		});
		ext
	}

	#[test]
	fn presets_are_listed() {
		let names: Vec<String> = preset_names()
			.into_iter()
			.map(|p| {
				let name: &str = p.as_ref();
				name.to_string()
			})
			.collect();
		assert_eq!(names, vec!["development", "local_testnet"]);
		assert!(get_preset(&"production".into()).is_none());
	}

	#[test]
	fn development_has_the_pilot_cast_and_no_sudo() {
		build("development").execute_with(|| {
			use pallet_flex_market::{Dsos, Fsps, Locations};
			let dso = Dsos::<Runtime>::get(roles::DSO.to_account_id()).expect("DSO registered");
			assert_eq!(dso.locations.into_inner(), vec![roles::PILOT_LOCATION]);
			assert_eq!(dso.oracles.into_inner(), vec![roles::ORACLE.to_account_id()]);
			let location = Locations::<Runtime>::get(roles::PILOT_LOCATION).unwrap();
			assert_eq!(location.name.into_inner(), b"Eskisehir".to_vec());
			assert!(Fsps::<Runtime>::contains_key(roles::BATTERY_FSP.to_account_id()));
			assert!(Fsps::<Runtime>::contains_key(roles::V2G_FSP.to_account_id()));
			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
			assert_eq!(
				pallet_validator_set::Validators::<Runtime>::get().into_inner(),
				vec![roles::VALIDATOR.to_account_id()]
			);
			assert_eq!(
				pallet_session::Validators::<Runtime>::get(),
				vec![roles::VALIDATOR.to_account_id()]
			);
			for who in [roles::DSO, roles::BATTERY_FSP, roles::V2G_FSP, roles::ORACLE] {
				assert_eq!(System::account(who.to_account_id()).data.free, ENDOWMENT);
			}
			let solver = AccountId::from(roles::DEV_SOLVER);
			assert_eq!(System::account(solver).data.free, ENDOWMENT);
		});
	}

	/// The hard-coded solver key is `//Alice//flex`, the key the node's dev keystore holds.
	#[test]
	fn the_dev_solver_key_is_alice_flex() {
		use sp_core::{crypto::Pair as _, sr25519};
		let pair = sr25519::Pair::from_string("//Alice//flex", None).unwrap();
		assert_eq!(pair.public().0, roles::DEV_SOLVER);
	}

	#[test]
	fn local_testnet_has_three_validators() {
		build("local_testnet").execute_with(|| {
			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 3);
			assert_eq!(pallet_grandpa::Authorities::<Runtime>::get().len(), 3);
			assert_eq!(pallet_validator_set::Validators::<Runtime>::get().len(), 3);
			let members = |keys: [Sr25519Keyring; 3]| {
				let mut accounts = keys.iter().map(|k| k.to_account_id()).collect::<Vec<_>>();
				accounts.sort();
				accounts
			};
			assert_eq!(
				pallet_collective::Members::<Runtime, crate::configs::CouncilCollective>::get(),
				members(roles::COUNCIL)
			);
			assert_eq!(
				pallet_collective::Members::<Runtime, crate::configs::TechnicalCollective>::get(),
				members(roles::TECHNICAL_COMMITTEE)
			);
			assert!(pallet_flex_market::Dsos::<Runtime>::contains_key(
				Sr25519Keyring::Alice.to_account_id()
			));
		});
	}
}
