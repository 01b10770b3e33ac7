//! Invariants of the market, checked by `try_state` and by the tests.

use crate::{pallet::*, OfferStatus, RequestStatus};
use alloc::collections::BTreeMap;
use frame_support::traits::{fungible::InspectHold, Get};
use sp_runtime::{traits::Zero, TryRuntimeError};

impl<T: Config> Pallet<T> {
	/// Checks that:
	/// - the escrow held from each DSO equals what its accepted, unsettled contracts hold;
	/// - the unclaimed payouts held from each DSO equal their records;
	/// - no asset is committed beyond its power in any overlapping windows;
	/// - every fill of an accepted match refers to a live offer matched to that request;
	/// - the book, asset-offer and open-request counters agree with their indexes;
	/// - the index of proposed offers agrees with the stored proposals.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		Self::check_escrow()?;
		Self::check_unclaimed()?;
		Self::check_commitments()?;
		Self::check_indexes()?;
		Self::check_proposed_offers()
	}

	fn check_escrow() -> Result<(), TryRuntimeError> {
		let mut escrow_by_dso: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (id, contract) in Contracts::<T>::iter() {
			let request = Requests::<T>::get(id).ok_or("contract without request")?;
			if request.status == RequestStatus::Accepted {
				*escrow_by_dso.entry(request.dso.clone()).or_insert_with(Zero::zero) +=
					contract.escrow;
				for index in 0..contract.fill_count {
					let fill = Fills::<T>::get(id, index).ok_or("missing fill")?;
					let offer = Offers::<T>::get(fill.offer).ok_or("fill of a dead offer")?;
					frame_support::ensure!(
						offer.status == OfferStatus::Matched(id),
						"fill of an offer not matched to its request"
					);
				}
			} else {
				frame_support::ensure!(contract.escrow.is_zero(), "escrow left after settlement");
			}
		}
		for dso in Dsos::<T>::iter_keys() {
			let held = T::Currency::balance_on_hold(&HoldReason::Escrow.into(), &dso);
			let expected = escrow_by_dso.remove(&dso).unwrap_or_else(Zero::zero);
			frame_support::ensure!(held == expected, "escrow held differs from open contracts");
		}
		frame_support::ensure!(
			escrow_by_dso.values().all(|v| v.is_zero()),
			"escrow of an unregistered DSO"
		);
		Ok(())
	}

	fn check_unclaimed() -> Result<(), TryRuntimeError> {
		let mut by_dso: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (_, _, (dso, amount)) in UnclaimedPayouts::<T>::iter() {
			*by_dso.entry(dso).or_insert_with(Zero::zero) += amount;
		}
		for (dso, amount) in by_dso {
			let held = T::Currency::balance_on_hold(&HoldReason::Unclaimed.into(), &dso);
			frame_support::ensure!(held == amount, "unclaimed hold differs from its records");
		}
		Ok(())
	}

	fn check_commitments() -> Result<(), TryRuntimeError> {
		for (asset_id, commitments) in Commitments::<T>::iter() {
			let asset = Assets::<T>::get(asset_id).ok_or("commitment of an unknown asset")?;
			for (i, c) in commitments.iter().enumerate() {
				let mut others = commitments.to_vec();
				others.remove(i);
				let room = Self::headroom(&asset, &others, &c.window, c.direction);
				frame_support::ensure!(c.power_w <= room, "asset over-committed");
			}
		}
		Ok(())
	}

	fn check_indexes() -> Result<(), TryRuntimeError> {
		for (key, size) in BookSize::<T>::iter() {
			frame_support::ensure!(
				Book::<T>::iter_key_prefix(key).count() as u32 == size,
				"book size differs from the book"
			);
		}
		for (location, count) in OpenRequestCount::<T>::iter() {
			frame_support::ensure!(
				OpenRequests::<T>::iter_key_prefix(location).count() as u32 == count,
				"open request count differs from the index"
			);
		}
		for (id, asset) in Assets::<T>::iter() {
			let indexed = AssetOffers::<T>::iter_key_prefix(id).count() as u32;
			frame_support::ensure!(
				indexed == asset.open_offers,
				"asset offers differ from the index"
			);
			frame_support::ensure!(
				indexed <= T::MaxOffersPerAsset::get(),
				"asset with too many open offers"
			);
		}
		for (asset, offer, ()) in AssetOffers::<T>::iter() {
			let o = Offers::<T>::get(offer).ok_or("indexed offer missing")?;
			frame_support::ensure!(
				o.spec.asset == asset && o.status == OfferStatus::Open,
				"asset offer index points at another asset or a closed offer"
			);
		}
		Ok(())
	}

	fn check_proposed_offers() -> Result<(), TryRuntimeError> {
		let mut expected = 0usize;
		for (id, proposal) in Proposals::<T>::iter() {
			let request = Requests::<T>::get(id).ok_or("proposal without request")?;
			frame_support::ensure!(
				request.status == RequestStatus::Open,
				"proposal of a closed request"
			);
			for fill in proposal.fills.iter() {
				frame_support::ensure!(
					ProposedOffers::<T>::get(fill.offer, id) == Some(request.spec.gate_closure),
					"proposed offer not indexed"
				);
				expected += 1;
			}
		}
		frame_support::ensure!(
			ProposedOffers::<T>::iter().count() == expected,
			"proposed-offer index holds entries of no proposal"
		);
		Ok(())
	}
}
