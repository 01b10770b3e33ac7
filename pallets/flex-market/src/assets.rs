//! Flexible assets: registration by their owners, prequalification by the DSO,
//! and the power they have committed to accepted matches.

use crate::{pallet::*, Asset, AssetId, AssetStatus, Commitment, Direction, Window};
use frame_support::{ensure, pallet_prelude::*};

impl<T: Config> Pallet<T> {
	/// Registers an asset owned by `who` (an FSP or a DSO), holding the asset deposit.
	pub fn do_register_asset(who: T::AccountId, spec: AssetSpecOf<T>) -> DispatchResult {
		ensure!(
			Fsps::<T>::contains_key(&who) || Dsos::<T>::contains_key(&who),
			Error::<T>::NotParticipant
		);
		Self::check_asset_spec(&spec)?;
		let deposit = Params::<T>::get().asset_deposit;
		Self::hold_deposit(&who, deposit)?;
		let id = NextAssetId::<T>::get();
		NextAssetId::<T>::put(id.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let (location, kind) = (spec.location, spec.kind);
		Assets::<T>::insert(
			id,
			Asset {
				owner: who.clone(),
				spec,
				status: AssetStatus::Pending,
				deposit,
				open_offers: 0,
			},
		);
		Self::deposit_event(Event::AssetRegistered { asset: id, owner: who, location, kind });
		Ok(())
	}

	/// Replaces the description of an idle asset; it goes back to `Pending`.
	pub fn do_update_asset(who: T::AccountId, id: AssetId, spec: AssetSpecOf<T>) -> DispatchResult {
		Self::check_asset_spec(&spec)?;
		Assets::<T>::try_mutate(id, |asset| {
			let asset = asset.as_mut().ok_or(Error::<T>::UnknownAsset)?;
			ensure!(asset.owner == who, Error::<T>::NotAssetOwner);
			ensure!(Self::asset_idle(id, asset), Error::<T>::AssetBusy);
			asset.spec = spec;
			asset.status = AssetStatus::Pending;
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::AssetUpdated { asset: id });
		Ok(())
	}

	/// Removes an idle asset and returns its deposit.
	pub fn do_deregister_asset(who: T::AccountId, id: AssetId) -> DispatchResult {
		let asset = Assets::<T>::get(id).ok_or(Error::<T>::UnknownAsset)?;
		ensure!(asset.owner == who, Error::<T>::NotAssetOwner);
		ensure!(Self::asset_idle(id, &asset), Error::<T>::AssetBusy);
		Assets::<T>::remove(id);
		Commitments::<T>::remove(id);
		Self::release_deposit(&who, asset.deposit);
		Self::deposit_event(Event::AssetDeregistered { asset: id });
		Ok(())
	}

	/// Sets the status of an asset at one of `dso`'s locations.
	pub fn do_set_asset_status(
		dso: T::AccountId,
		id: AssetId,
		status: AssetStatus,
	) -> DispatchResult {
		Assets::<T>::try_mutate(id, |asset| {
			let asset = asset.as_mut().ok_or(Error::<T>::UnknownAsset)?;
			ensure!(
				Self::operator_of(asset.spec.location)? == dso,
				Error::<T>::NotLocationOperator
			);
			asset.status = status;
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::AssetStatusChanged { asset: id, status });
		Ok(())
	}

	fn check_asset_spec(spec: &AssetSpecOf<T>) -> DispatchResult {
		ensure!(Locations::<T>::contains_key(spec.location), Error::<T>::UnknownLocation);
		ensure!(spec.max_export_w > 0 || spec.max_import_w > 0, Error::<T>::PowerOutOfRange);
		ensure!(spec.min_soc_percent <= 100, Error::<T>::SocOutOfRange);
		Ok(())
	}

	fn asset_idle(id: AssetId, asset: &AssetOf<T>) -> bool {
		asset.open_offers == 0 && Commitments::<T>::decode_len(id).unwrap_or(0) == 0
	}

	/// Power (W) still free in `direction` over all of `window`, given the asset's
	/// commitments. Commitments the other way in an overlapping window leave nothing free.
	pub fn headroom(
		asset: &AssetOf<T>,
		commitments: &[Commitment],
		window: &Window,
		direction: Direction,
	) -> u32 {
		let limit = asset.spec.max_power_w(direction);
		let overlapping = || commitments.iter().filter(|c| c.window.overlaps(window));
		if overlapping().any(|c| c.direction != direction) {
			return 0;
		}
		// The load only rises where a commitment starts: its peak within the window is
		// at the window's start or at one of those starts.
		let starts = core::iter::once(window.start)
			.chain(overlapping().map(|c| c.window.start.max(window.start)));
		let peak = starts
			.map(|t| {
				overlapping()
					.filter(|c| c.window.start <= t && t < c.window.end)
					.fold(0u32, |sum, c| sum.saturating_add(c.power_w))
			})
			.max()
			.unwrap_or(0);
		limit.saturating_sub(peak)
	}
}
