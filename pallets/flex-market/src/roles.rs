//! DSOs with their grid locations and metering oracles; FSPs.

use crate::{pallet::*, Dso, Location, LocationId};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use sp_runtime::traits::Zero;

impl<T: Config> Pallet<T> {
	/// Registers `dso` with `locations`, none of which may be taken.
	pub(crate) fn do_register_dso(
		dso: T::AccountId,
		locations: LocationListOf<T>,
	) -> DispatchResult {
		ensure!(!Dsos::<T>::contains_key(&dso), Error::<T>::DsoExists);
		let mut ids = BoundedVec::<LocationId, T::MaxLocationsPerDso>::new();
		for (id, name) in locations {
			ensure!(
				!Locations::<T>::contains_key(id) && !ids.contains(&id),
				Error::<T>::LocationTaken
			);
			Locations::<T>::insert(id, Location { dso: dso.clone(), name });
			ids.try_push(id).map_err(|_| Error::<T>::TooLong)?;
		}
		Dsos::<T>::insert(
			&dso,
			Dso { locations: ids.clone(), oracles: BoundedVec::new(), active_requests: 0 },
		);
		Self::deposit_event(Event::DsoRegistered { dso, locations: ids.into_inner() });
		Ok(())
	}

	/// Removes an idle `dso` with its locations and oracles; returns how many locations it had.
	pub(crate) fn do_remove_dso(dso: T::AccountId) -> Result<u32, DispatchError> {
		let info = Dsos::<T>::get(&dso).ok_or(Error::<T>::UnknownDso)?;
		ensure!(info.active_requests == 0, Error::<T>::DsoBusy);
		for id in &info.locations {
			Locations::<T>::remove(id);
		}
		Dsos::<T>::remove(&dso);
		Self::deposit_event(Event::DsoRemoved { dso });
		Ok(info.locations.len() as u32)
	}

	/// Adds `oracle` to `dso`'s metering oracles.
	pub(crate) fn do_appoint_oracle(dso: T::AccountId, oracle: T::AccountId) -> DispatchResult {
		Dsos::<T>::try_mutate(&dso, |info| {
			let info = info.as_mut().ok_or(Error::<T>::UnknownDso)?;
			ensure!(!info.oracles.contains(&oracle), Error::<T>::OracleExists);
			info.oracles.try_push(oracle.clone()).map_err(|_| Error::<T>::TooManyOracles)?;
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::OracleAppointed { dso, oracle });
		Ok(())
	}

	/// Removes `oracle` from `dso`'s metering oracles.
	pub(crate) fn do_remove_oracle(dso: T::AccountId, oracle: T::AccountId) -> DispatchResult {
		Dsos::<T>::try_mutate(&dso, |info| {
			let info = info.as_mut().ok_or(Error::<T>::UnknownDso)?;
			let at =
				info.oracles.iter().position(|o| o == &oracle).ok_or(Error::<T>::UnknownOracle)?;
			info.oracles.remove(at);
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::OracleRemoved { dso, oracle });
		Ok(())
	}

	/// Registers `who` as an FSP, holding the FSP deposit.
	pub(crate) fn do_register_fsp(who: T::AccountId) -> DispatchResult {
		ensure!(!Fsps::<T>::contains_key(&who), Error::<T>::FspExists);
		let deposit = Params::<T>::get().fsp_deposit;
		Self::hold_deposit(&who, deposit)?;
		Fsps::<T>::insert(&who, deposit);
		Self::deposit_event(Event::FspRegistered { fsp: who, deposit });
		Ok(())
	}

	/// The DSO operating `location`.
	pub fn operator_of(location: LocationId) -> Result<T::AccountId, DispatchError> {
		Ok(Locations::<T>::get(location).ok_or(Error::<T>::UnknownLocation)?.dso)
	}

	/// Holds `amount` from `who` as a deposit.
	pub(crate) fn hold_deposit(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::hold(&HoldReason::Deposit.into(), who, amount)
	}

	/// Releases a deposit of `amount` held from `who`.
	pub(crate) fn release_deposit(who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		let released =
			T::Currency::release(&HoldReason::Deposit.into(), who, amount, Precision::BestEffort);
		if !matches!(released, Ok(r) if r == amount) {
			log::warn!(target: crate::LOG_TARGET, "deposit release short: {released:?}");
		}
	}
}
