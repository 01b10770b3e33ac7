//! # Validator set
//!
//! The validators of the chain, as governance sets them. The parties that share the
//! market (the DSO, aggregators, the regulator) each run a validator; a new party
//! joins, or one leaves, by a motion of the governance origin (two thirds of the
//! council in the runtime), without restarting the network.
//!
//! This pallet only keeps the list. `pallet-session` does the rest, as in any
//! Substrate chain: a validator registers its session keys (Aura and GRANDPA) with
//! `session.setKeys`, the list is handed to the session pallet at each session
//! rotation ([`pallet_session::SessionManager`]), and the new set authors blocks
//! (Aura) and finalizes them (GRANDPA) from the session after next. No consensus of
//! its own.
//!
//! Bounds: at most `MaxValidators`, never fewer than `MinValidators` (so that
//! governance cannot leave the chain without enough validators to finalize).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Registers session keys for `who`, unique to it.
	fn register_keys(who: &AccountId);
}

#[frame_support::pallet]
pub mod pallet {
	use super::WeightInfo;
	use alloc::vec::Vec;
	use frame_support::{pallet_prelude::*, traits::ValidatorRegistration};
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Adds and removes validators (two thirds of the council in the runtime).
		type UpdateOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Whether an account has registered its session keys.
		type ValidatorRegistration: ValidatorRegistration<Self::AccountId>;

		/// Most validators.
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// Fewest validators governance may leave.
		#[pallet::constant]
		type MinValidators: Get<u32>;

		/// Weights of the calls.
		type WeightInfo: WeightInfo;

		/// Registers session keys in benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// The validators governance has chosen; they take part from the session after the
	/// next rotation.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The first validators (their session keys go in `pallet-session`'s genesis).
		pub validators: Vec<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let validators: BoundedVec<_, T::MaxValidators> =
				self.validators.clone().try_into().expect("too many genesis validators");
			// An empty list leaves `pallet-session`'s genesis keys in charge.
			assert!(
				validators.is_empty() || validators.len() as u32 >= T::MinValidators::get(),
				"fewer genesis validators than MinValidators"
			);
			Validators::<T>::put(validators);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Governance added a validator; it takes part from the session after next.
		ValidatorAdded {
			/// The validator's account (its session keys are registered).
			validator: T::AccountId,
		},
		/// Governance removed a validator; it stops from the session after next.
		ValidatorRemoved {
			/// The validator's account.
			validator: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a validator.
		AlreadyValidator,
		/// The account is not a validator.
		NotValidator,
		/// The account has not registered session keys (`session.setKeys`).
		NoSessionKeys,
		/// The set already has `MaxValidators`.
		TooManyValidators,
		/// Removing it would leave fewer than `MinValidators`.
		TooFewValidators,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Add `validator`, whose session keys are registered, from the session after the
		/// next rotation.
		///
		/// Origin: governance.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::add_validator(T::MaxValidators::get()))]
		pub fn add_validator(origin: OriginFor<T>, validator: T::AccountId) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_add_validator(validator)
		}

		/// Remove `validator` from the session after the next rotation.
		///
		/// Origin: governance.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_validator(T::MaxValidators::get()))]
		pub fn remove_validator(origin: OriginFor<T>, validator: T::AccountId) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_remove_validator(validator)
		}
	}

	impl<T: Config> Pallet<T> {
		pub(crate) fn do_add_validator(validator: T::AccountId) -> DispatchResult {
			ensure!(T::ValidatorRegistration::is_registered(&validator), Error::<T>::NoSessionKeys);
			Validators::<T>::try_mutate(|set| {
				ensure!(!set.contains(&validator), Error::<T>::AlreadyValidator);
				set.try_push(validator.clone()).map_err(|_| Error::<T>::TooManyValidators)?;
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::ValidatorAdded { validator });
			Ok(())
		}

		pub(crate) fn do_remove_validator(validator: T::AccountId) -> DispatchResult {
			Validators::<T>::try_mutate(|set| {
				let at =
					set.iter().position(|v| v == &validator).ok_or(Error::<T>::NotValidator)?;
				ensure!(set.len() as u32 > T::MinValidators::get(), Error::<T>::TooFewValidators);
				set.remove(at);
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::ValidatorRemoved { validator });
			Ok(())
		}
	}
}

/// Hands the governed list to `pallet-session` at every rotation (none while it is
/// empty: the session's own set stays).
impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(index: u32) -> Option<alloc::vec::Vec<T::AccountId>> {
		let validators = Validators::<T>::get().into_inner();
		log::debug!(target: "runtime::validator-set", "session {index}: {} validators", validators.len());
		(!validators.is_empty()).then_some(validators)
	}

	fn end_session(_: u32) {}

	fn start_session(_: u32) {}
}
