//! The runtime's own migrations (the market pallet brings its own).

use crate::{AccountId, Runtime, SessionKeys};
use alloc::vec::Vec;
use frame_support::{traits::OnRuntimeUpgrade, weights::Weight, BoundedVec};
use sp_runtime::traits::OpaqueKeys;

/// Spec 104 hands the validators to `pallet-session` and the governed validator set.
/// A chain upgraded from an earlier spec has Aura and GRANDPA authorities but neither
/// set: this seeds both from those authorities, pairing them by position, each
/// validator's account being its Aura key's (as on the presets, where a validator's
/// account and Aura key are the same key). Governance replaces them as usual
/// (`session.setKeys` from the real accounts, `validatorSet.addValidator` and
/// `removeValidator`). Without it, the first validator the council added would become
/// the only one. Does nothing on a chain that has a validator set.
pub struct SeedValidatorSet;

impl OnRuntimeUpgrade for SeedValidatorSet {
	fn on_runtime_upgrade() -> Weight {
		let db = <Runtime as frame_system::Config>::DbWeight::get();
		if !pallet_validator_set::Validators::<Runtime>::get().is_empty()
			|| !pallet_session::Validators::<Runtime>::get().is_empty()
		{
			return db.reads(2);
		}
		let aura = pallet_aura::Authorities::<Runtime>::get();
		let grandpa = pallet_grandpa::Pallet::<Runtime>::grandpa_authorities();
		if aura.len() != grandpa.len() {
			log::warn!(
				target: "runtime::migrations",
				"{} Aura and {} GRANDPA authorities: no validator set seeded",
				aura.len(),
				grandpa.len()
			);
			return db.reads(4);
		}
		let mut queued = Vec::new();
		for (aura, (grandpa, _weight)) in aura.into_iter().zip(grandpa) {
			let Ok(raw) = <[u8; 32]>::try_from(AsRef::<[u8]>::as_ref(&aura)) else { continue };
			let who = AccountId::from(raw);
			let keys = SessionKeys { aura, grandpa };
			for id in SessionKeys::key_ids() {
				pallet_session::KeyOwner::<Runtime>::insert(
					(*id, keys.get_raw(*id).to_vec()),
					&who,
				);
			}
			pallet_session::NextKeys::<Runtime>::insert(&who, &keys);
			queued.push((who, keys));
		}
		let validators: Vec<AccountId> = queued.iter().map(|(who, _)| who.clone()).collect();
		let n = validators.len() as u64;
		pallet_session::Validators::<Runtime>::put(&validators);
		pallet_session::QueuedKeys::<Runtime>::put(queued);
		pallet_validator_set::Validators::<Runtime>::put(BoundedVec::truncate_from(validators));
		log::info!(target: "runtime::migrations", "seeded the validator set with {n} validators");
		db.reads_writes(4, 3 + 3 * n)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_consensus_aura::sr25519::AuthorityId as AuraId;
	use sp_consensus_grandpa::AuthorityId as GrandpaId;
	use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

	#[test]
	fn an_upgraded_chain_keeps_its_authorities_as_its_validators() {
		sp_io::TestExternalities::default().execute_with(|| {
			let aura: AuraId = Sr25519Keyring::Alice.public().into();
			let grandpa: GrandpaId = Ed25519Keyring::Alice.public().into();
			pallet_aura::Authorities::<Runtime>::put(BoundedVec::truncate_from(vec![aura.clone()]));
			let weighted: Vec<(GrandpaId, u64)> = vec![(grandpa.clone(), 1)];
			pallet_grandpa::Authorities::<Runtime>::put(frame_support::WeakBoundedVec::force_from(
				weighted, None,
			));

			SeedValidatorSet::on_runtime_upgrade();

			let alice = Sr25519Keyring::Alice.to_account_id();
			assert_eq!(
				pallet_validator_set::Validators::<Runtime>::get().to_vec(),
				vec![alice.clone()]
			);
			assert_eq!(pallet_session::Validators::<Runtime>::get(), vec![alice.clone()]);
			let keys = SessionKeys { aura: aura.clone(), grandpa };
			assert_eq!(pallet_session::NextKeys::<Runtime>::get(&alice), Some(keys.clone()));
			assert_eq!(pallet_session::QueuedKeys::<Runtime>::get(), vec![(alice.clone(), keys)]);
			let owner = (sp_core::crypto::key_types::AURA, AsRef::<[u8]>::as_ref(&aura).to_vec());
			assert_eq!(pallet_session::KeyOwner::<Runtime>::get(owner), Some(alice.clone()));

			// A chain with a validator set is left alone.
			pallet_validator_set::Validators::<Runtime>::put(BoundedVec::truncate_from(vec![
				Sr25519Keyring::Bob.to_account_id(),
			]));
			SeedValidatorSet::on_runtime_upgrade();
			assert_eq!(pallet_session::Validators::<Runtime>::get(), vec![alice]);
		});
	}
}
