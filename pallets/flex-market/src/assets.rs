//! Flexible assets: registration by their owners, prequalification by the DSO,
//! and the power they have committed to accepted matches.

use crate::{pallet::*, Asset, AssetId, AssetStatus, Commitment, Direction, WeightInfo, Window};
use alloc::vec::Vec;
use frame_support::{
	dispatch::{DispatchErrorWithPostInfo, WithPostDispatchInfo},
	ensure,
	pallet_prelude::*,
};

impl<T: Config> Pallet<T> {
	/// Registers an asset owned by `who` (an FSP or a DSO), holding the asset deposit.
	pub(crate) fn do_register_asset(who: T::AccountId, spec: AssetSpecOf<T>) -> DispatchResult {
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
	pub(crate) fn do_update_asset(
		who: T::AccountId,
		id: AssetId,
		spec: AssetSpecOf<T>,
	) -> DispatchResult {
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

	/// Removes an asset without commitments, withdrawing its open offers (none of which
	/// may be held by a stored proposal), and returns its deposit. Returns the number of offers withdrawn.
	pub(crate) fn do_deregister_asset(
		who: T::AccountId,
		id: AssetId,
	) -> Result<u32, DispatchErrorWithPostInfo> {
		let early = |e: DispatchError| e.with_weight(reads::<T>(2));
		let asset = Assets::<T>::get(id).ok_or_else(|| early(Error::<T>::UnknownAsset.into()))?;
		ensure!(asset.owner == who, early(Error::<T>::NotAssetOwner.into()));
		let committed = Commitments::<T>::decode_len(id).unwrap_or(0) > 0;
		ensure!(!committed, early(Error::<T>::AssetBusy.into()));
		Self::ensure_no_proposed_offer(id).map_err(|e| {
			e.with_weight(T::WeightInfo::deregister_asset(T::MaxOffersPerAsset::get()))
		})?;
		let withdrawn = Self::withdraw_asset_offers(id);
		Assets::<T>::remove(id);
		Commitments::<T>::remove(id);
		Self::release_deposit(&who, asset.deposit);
		Self::deposit_event(Event::AssetDeregistered { asset: id });
		Ok(withdrawn)
	}

	/// Sets the status of an asset at one of `dso`'s locations; an asset that is no
	/// longer prequalified has its open offers withdrawn. Returns how many.
	pub(crate) fn do_set_asset_status(
		dso: T::AccountId,
		id: AssetId,
		status: AssetStatus,
	) -> Result<u32, DispatchError> {
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
		if status == AssetStatus::Prequalified {
			return Ok(0);
		}
		Ok(Self::withdraw_asset_offers(id))
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
	/// A sweep over the commitments' starts and ends: O(c log c) for c commitments.
	pub(crate) fn headroom(
		asset: &AssetOf<T>,
		commitments: &[Commitment],
		window: &Window,
		direction: Direction,
	) -> u32 {
		let limit = asset.spec.max_power_w(direction);
		let mut edges: Vec<(crate::Moment, bool, u32)> = Vec::new();
		for c in commitments.iter().filter(|c| c.window.overlaps(window)) {
			if c.direction != direction {
				return 0;
			}
			// Ends sort before starts at the same moment: windows are half-open.
			edges.push((c.window.start.max(window.start), true, c.power_w));
			edges.push((c.window.end.min(window.end), false, c.power_w));
		}
		edges.sort_unstable();
		let (mut load, mut peak) = (0u64, 0u64);
		for (_, starts, power_w) in edges {
			if starts {
				load = load.saturating_add(power_w as u64);
				peak = peak.max(load);
			} else {
				load = load.saturating_sub(power_w as u64);
			}
		}
		(limit as u64).saturating_sub(peak) as u32
	}
}
