//! Storage migrations of the market, one module per storage version.

pub mod v4;

/// The stored parameters decoded in an older layout `Old` (none stored: `None`),
/// for the migrations' `pre_upgrade` checks; `error` when they do not decode.
#[cfg(feature = "try-runtime")]
fn stored_params<T: crate::pallet::Config, Old: codec::Decode>(
	error: &'static str,
) -> Result<Option<Old>, sp_runtime::TryRuntimeError> {
	frame_support::storage::unhashed::get_raw(&crate::pallet::Params::<T>::hashed_key())
		.map(|raw| {
			Old::decode(&mut &raw[..]).map_err(|_| sp_runtime::TryRuntimeError::Other(error))
		})
		.transpose()
}

pub mod v2 {
	//! Version 2: offers no longer hold a deposit, so `MarketParams` loses
	//! `offer_deposit`. Offers posted before keep theirs until they leave the book.

	use super::v3::ParamsV2;
	use crate::{pallet::*, LOG_TARGET};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	};
	use sp_runtime::Perbill;
	#[cfg(feature = "try-runtime")]
	use {alloc::vec::Vec, sp_runtime::TryRuntimeError};

	/// `MarketParams` as version 1 stored them.
	#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
	pub struct ParamsV1<Balance> {
		/// Reports are taken until the window's end plus this (ms).
		pub settlement_grace_ms: u64,
		/// Finished requests are kept this long (ms).
		pub retention_ms: u64,
		/// Delivery rate below which a penalty applies.
		pub penalty_threshold: Perbill,
		/// Share of the undelivered energy's value deducted as penalty.
		pub penalty_rate: Perbill,
		/// Held from the DSO per request.
		pub request_deposit: Balance,
		/// Held from the FSP per offer (dropped in version 2).
		pub offer_deposit: Balance,
		/// Held from the owner per asset.
		pub asset_deposit: Balance,
		/// Held from an FSP while registered.
		pub fsp_deposit: Balance,
		/// Margin a new solution must beat the stored one by.
		pub solution_margin: Perbill,
	}

	impl<Balance> ParamsV1<Balance> {
		/// The same parameters in version 2.
		pub fn upgraded(self) -> ParamsV2<Balance> {
			ParamsV2 {
				settlement_grace_ms: self.settlement_grace_ms,
				retention_ms: self.retention_ms,
				penalty_threshold: self.penalty_threshold,
				penalty_rate: self.penalty_rate,
				request_deposit: self.request_deposit,
				asset_deposit: self.asset_deposit,
				fsp_deposit: self.fsp_deposit,
				solution_margin: self.solution_margin,
			}
		}
	}

	/// Rewrites the stored parameters without `offer_deposit`; use [`MigrateV1ToV2`].
	pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let key = Params::<T>::hashed_key();
			if let Some(raw) = frame_support::storage::unhashed::get_raw(&key) {
				match ParamsV1::<BalanceOf<T>>::decode(&mut &raw[..]) {
					Ok(old) => frame_support::storage::unhashed::put(&key, &old.upgraded()),
					Err(_) => {
						log::error!(target: LOG_TARGET, "stored parameters do not decode as v1; defaults apply");
						Params::<T>::kill();
					},
				}
			}
			T::DbWeight::get().reads_writes(1, 1)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
			let old = super::stored_params::<T, ParamsV1<BalanceOf<T>>>(
				"parameters do not decode as v1",
			)?;
			Ok(old.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), TryRuntimeError> {
			let old = Option::<ParamsV1<BalanceOf<T>>>::decode(&mut &state[..])
				.map_err(|_| TryRuntimeError::Other("pre-upgrade state"))?;
			let stored = frame_support::storage::unhashed::get::<ParamsV2<BalanceOf<T>>>(
				&Params::<T>::hashed_key(),
			);
			ensure!(stored == old.map(ParamsV1::upgraded), "parameters changed in the migration");
			Ok(())
		}
	}

	/// Version 1 to 2, run once: checks and bumps the pallet's storage version.
	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		InnerMigrateV1ToV2<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

pub mod v3 {
	//! Version 3: `MarketParams` gains `price_cap`, the regulator's ceiling on the
	//! price per kWh of requests. Existing chains start without a ceiling.

	use super::v4::ParamsV3;
	use crate::{pallet::*, LOG_TARGET};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	};
	use sp_runtime::Perbill;
	#[cfg(feature = "try-runtime")]
	use {alloc::vec::Vec, sp_runtime::TryRuntimeError};

	/// `MarketParams` as version 2 stored them.
	#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
	pub struct ParamsV2<Balance> {
		/// Reports are taken until the window's end plus this (ms).
		pub settlement_grace_ms: u64,
		/// Finished requests are kept this long (ms).
		pub retention_ms: u64,
		/// Delivery rate below which a penalty applies.
		pub penalty_threshold: Perbill,
		/// Share of the undelivered energy's value deducted as penalty.
		pub penalty_rate: Perbill,
		/// Held from the DSO per request.
		pub request_deposit: Balance,
		/// Held from the owner per asset.
		pub asset_deposit: Balance,
		/// Held from an FSP while registered.
		pub fsp_deposit: Balance,
		/// Margin a new solution must beat the stored one by.
		pub solution_margin: Perbill,
	}

	impl<Balance> ParamsV2<Balance> {
		/// The same parameters in version 3, without a price cap.
		pub fn upgraded(self) -> ParamsV3<Balance> {
			ParamsV3 {
				settlement_grace_ms: self.settlement_grace_ms,
				retention_ms: self.retention_ms,
				penalty_threshold: self.penalty_threshold,
				penalty_rate: self.penalty_rate,
				request_deposit: self.request_deposit,
				asset_deposit: self.asset_deposit,
				fsp_deposit: self.fsp_deposit,
				solution_margin: self.solution_margin,
				price_cap: None,
			}
		}
	}

	/// Rewrites the stored parameters with `price_cap: None`; use [`MigrateV2ToV3`].
	pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
		fn on_runtime_upgrade() -> Weight {
			let key = Params::<T>::hashed_key();
			if let Some(raw) = frame_support::storage::unhashed::get_raw(&key) {
				match ParamsV2::<BalanceOf<T>>::decode(&mut &raw[..]) {
					Ok(old) => frame_support::storage::unhashed::put(&key, &old.upgraded()),
					Err(_) => {
						log::error!(target: LOG_TARGET, "stored parameters do not decode as v2; defaults apply");
						Params::<T>::kill();
					},
				}
			}
			T::DbWeight::get().reads_writes(1, 1)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
			let old = super::stored_params::<T, ParamsV2<BalanceOf<T>>>(
				"parameters do not decode as v2",
			)?;
			Ok(old.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), TryRuntimeError> {
			let old = Option::<ParamsV2<BalanceOf<T>>>::decode(&mut &state[..])
				.map_err(|_| TryRuntimeError::Other("pre-upgrade state"))?;
			let stored = frame_support::storage::unhashed::get::<ParamsV3<BalanceOf<T>>>(
				&Params::<T>::hashed_key(),
			);
			ensure!(stored == old.map(ParamsV2::upgraded), "parameters changed in the migration");
			Ok(())
		}
	}

	/// Version 2 to 3, run once: checks and bumps the pallet's storage version.
	pub type MigrateV2ToV3<T> = VersionedMigration<
		2,
		3,
		InnerMigrateV2ToV3<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
