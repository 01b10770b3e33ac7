//! Genesis presets: `development` (one validator, sudo, the pilot's cast ready) and
//! `local_testnet` (three validators run by a DSO, an aggregator and a regulator;
//! no sudo). Both have the same council (Alice, Bob, Charlie) and technical
//! committee (Dave, Eve, Ferdie), so governance works the same on either.

use crate::{
	AccountId, BalancesConfig, CouncilConfig, RuntimeGenesisConfig, SudoConfig,
	TechnicalCommitteeConfig, UNIT,
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
	/// Validator and sudo key of the development chain.
	pub const ROOT: Sr25519Keyring = Sr25519Keyring::Alice;
	/// The council: the DSO's, an aggregator's and the regulator's representatives.
	pub const COUNCIL: [Sr25519Keyring; 3] =
		[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie];
	/// The technical committee: the same organisations' engineers.
	pub const TECHNICAL_COMMITTEE: [Sr25519Keyring; 3] =
		[Sr25519Keyring::Dave, Sr25519Keyring::Eve, Sr25519Keyring::Ferdie];
	/// The off-chain solver's key on a development chain, `//Alice//flex` (sr25519):
	/// the node puts it in its keystore on `--dev`, so the worker does not share
	/// Alice's nonce. Endowed so that it can pay for its solutions.
	pub const DEV_SOLVER: [u8; 32] = [
		0xb0, 0x66, 0xbf, 0x95, 0xb4, 0x34, 0x60, 0x8e, 0xc5, 0xff, 0xdc, 0x62, 0x66, 0xf2, 0xbc,
		0x5d, 0xe9, 0x06, 0x4a, 0x69, 0xce, 0x31, 0xa9, 0xaf, 0x3d, 0xf2, 0x7e, 0x6a, 0x5b, 0x0d,
		0x0c, 0x65,
	];
	/// The pilot's LV transformer area.
	pub const PILOT_LOCATION: LocationId = 1;
	/// Its name.
	pub const PILOT_LOCATION_NAME: &str = "Eskisehir";
}

/// What every endowed account starts with.
pub const ENDOWMENT: u128 = 1_000_000 * UNIT;

fn authority(k: (Sr25519Keyring, Ed25519Keyring)) -> (AuraId, GrandpaId) {
	(k.0.public().into(), k.1.public().into())
}

struct Genesis {
	authorities: Vec<(AuraId, GrandpaId)>,
	endowed: Vec<AccountId>,
	sudo: Option<AccountId>,
	dso: AccountId,
	oracles: Vec<AccountId>,
	fsps: Vec<AccountId>,
}

fn genesis(g: Genesis) -> Value {
	let location = (roles::PILOT_LOCATION, roles::PILOT_LOCATION_NAME.as_bytes().to_vec());
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: g.endowed.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: g.authorities.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: g.authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: g.sudo },
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

/// The development chain: Alice validates and holds sudo; Dave is the DSO of
/// Eskisehir with Eve as its metering oracle; Bob (battery) and Charlie (V2G
/// charger) are registered FSPs.
pub fn development_config_genesis() -> Value {
	genesis(Genesis {
		authorities: vec![authority((Sr25519Keyring::Alice, Ed25519Keyring::Alice))],
		endowed: Sr25519Keyring::iter()
			.filter(|k| k != &Sr25519Keyring::One && k != &Sr25519Keyring::Two)
			.map(|k| k.to_account_id())
			.chain([AccountId::from(roles::DEV_SOLVER)])
			.collect(),
		sudo: Some(roles::ROOT.to_account_id()),
		dso: roles::DSO.to_account_id(),
		oracles: vec![roles::ORACLE.to_account_id()],
		fsps: vec![roles::BATTERY_FSP.to_account_id(), roles::V2G_FSP.to_account_id()],
	})
}

/// A local test network without sudo: Alice (the DSO), Bob (an aggregator) and
/// Charlie (the regulator) validate; Ferdie is the DSO's metering oracle and Bob
/// a registered FSP.
pub fn local_config_genesis() -> Value {
	genesis(Genesis {
		authorities: vec![
			authority((Sr25519Keyring::Alice, Ed25519Keyring::Alice)),
			authority((Sr25519Keyring::Bob, Ed25519Keyring::Bob)),
			authority((Sr25519Keyring::Charlie, Ed25519Keyring::Charlie)),
		],
		endowed: Sr25519Keyring::iter()
			.filter(|k| k != &Sr25519Keyring::One && k != &Sr25519Keyring::Two)
			.map(|k| k.to_account_id())
			.collect(),
		sudo: None,
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
	fn development_has_the_pilot_cast_and_sudo() {
		build("development").execute_with(|| {
			use pallet_flex_market::{Dsos, Fsps, Locations};
			let dso = Dsos::<Runtime>::get(roles::DSO.to_account_id()).expect("DSO registered");
			assert_eq!(dso.locations.into_inner(), vec![roles::PILOT_LOCATION]);
			assert_eq!(dso.oracles.into_inner(), vec![roles::ORACLE.to_account_id()]);
			let location = Locations::<Runtime>::get(roles::PILOT_LOCATION).unwrap();
			assert_eq!(location.name.into_inner(), b"Eskisehir".to_vec());
			assert!(Fsps::<Runtime>::contains_key(roles::BATTERY_FSP.to_account_id()));
			assert!(Fsps::<Runtime>::contains_key(roles::V2G_FSP.to_account_id()));
			assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(roles::ROOT.to_account_id()));
			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
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
	fn local_testnet_has_three_validators_and_no_sudo() {
		build("local_testnet").execute_with(|| {
			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 3);
			assert_eq!(pallet_grandpa::Authorities::<Runtime>::get().len(), 3);
			assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
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
