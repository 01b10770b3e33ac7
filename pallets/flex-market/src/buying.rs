//! Buying: the DSO accepts the proposed match for at most the cost it saw, the cost
//! goes into escrow, the assets are committed and every fill is announced for
//! dispatch.
//!
//! A purchase runs in three phases: [`Pallet::purchase_of`] checks everything and
//! prices the fills without writing; the escrow is held; [`Pallet::commit_purchase`]
//! writes the contract, which can no longer fail.

use crate::{
	pallet::*, Commitment, Contract, Fill, OfferId, Pricing, ProposedFill, RequestId,
	RequestStatus, Task, WeightInfo, WH_PER_KWH,
};
use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::{
	dispatch::{DispatchErrorWithPostInfo, WithPostDispatchInfo},
	ensure,
	pallet_prelude::*,
	traits::fungible::MutateHold,
};
use sp_runtime::{
	traits::{Saturating, Zero},
	SaturatedConversion,
};

/// What a fill costs: price per kWh, contracted energy and the amount due.
pub struct FillTerms<Balance> {
	/// Price per kWh paid, in planks.
	pub price: Balance,
	/// Contracted energy in Wh.
	pub energy_wh: u64,
	/// Contracted cost in planks.
	pub cost: Balance,
}

/// Cost of `energy_wh` at `price` per kWh, rounded down.
pub fn energy_cost(energy_wh: u64, price: u128) -> u128 {
	(energy_wh as u128).saturating_mul(price) / WH_PER_KWH
}

/// A checked purchase: the fills with their offers and terms, and the total cost.
pub(crate) struct Purchase<T: Config> {
	request: RequestOf<T>,
	fills: Vec<(ProposedFill, OfferId, OfferOf<T>, FillTerms<BalanceOf<T>>)>,
	cost: BalanceOf<T>,
}

impl<T: Config> Pallet<T> {
	/// The terms of each fill of `fills` (taken from `offers`, same order) under the
	/// request's pricing rule and window.
	pub(crate) fn contract_terms(
		request: &RequestOf<T>,
		fills: &[ProposedFill],
		offers: &[(OfferId, OfferOf<T>)],
	) -> Vec<FillTerms<BalanceOf<T>>> {
		let clearing = offers.iter().map(|(_, o)| o.spec.price).max().unwrap_or_default();
		fills
			.iter()
			.zip(offers)
			.map(|(fill, (_, offer))| {
				let price = match request.spec.pricing {
					Pricing::PayAsBid => offer.spec.price,
					Pricing::PayAsClear => clearing,
				};
				let energy_wh = request.spec.window.energy_wh(fill.power_w);
				let cost = energy_cost(energy_wh, price.saturated_into()).saturated_into();
				FillTerms { price, energy_wh, cost }
			})
			.collect()
	}

	/// What buying `fills` (taken from `offers`, same order) would cost, in planks.
	pub(crate) fn total_cost(
		request: &RequestOf<T>,
		fills: &[ProposedFill],
		offers: &[(OfferId, OfferOf<T>)],
	) -> BalanceOf<T> {
		Self::contract_terms(request, fills, offers)
			.into_iter()
			.fold(Zero::zero(), |sum: BalanceOf<T>, t| sum.saturating_add(t.cost))
	}

	/// Buys the proposed match of request `id` for at most `max_cost`. Returns the
	/// number of fills.
	pub(crate) fn do_accept_match(
		dso: T::AccountId,
		id: RequestId,
		max_cost: BalanceOf<T>,
	) -> Result<u32, DispatchErrorWithPostInfo> {
		let purchase = Self::purchase_of(&dso, id, max_cost)?;
		let checked = T::WeightInfo::check_proposal(purchase.fills.len() as u32);
		T::Currency::hold(&HoldReason::Escrow.into(), &dso, purchase.cost)
			.map_err(|e| e.with_weight(checked))?;
		let report_deadline =
			purchase.request.spec.window.end.saturating_add(Params::<T>::get().settlement_grace_ms);
		Self::schedule(report_deadline, Task::Settle(id)).map_err(|e| e.with_weight(checked))?;
		Ok(Self::commit_purchase(id, dso, purchase, report_deadline))
	}

	/// Checks that `dso` may buy request `id`'s live proposal for at most `max_cost`
	/// and prices it; writes nothing.
	pub(crate) fn purchase_of(
		dso: &T::AccountId,
		id: RequestId,
		max_cost: BalanceOf<T>,
	) -> Result<Purchase<T>, DispatchErrorWithPostInfo> {
		let early = |e: Error<T>| e.with_weight(reads::<T>(3));
		let request = Requests::<T>::get(id).ok_or_else(|| early(Error::<T>::UnknownRequest))?;
		ensure!(&request.dso == dso, early(Error::<T>::NotRequestOwner));
		ensure!(request.status != RequestStatus::Accepted, early(Error::<T>::AlreadyAccepted));
		ensure!(request.status == RequestStatus::Open, early(Error::<T>::RequestNotOpen));
		ensure!(Self::now() < request.spec.window.start, early(Error::<T>::WindowStarted));
		Self::check_price_cap(&request.spec, &Params::<T>::get())
			.map_err(|e| e.with_weight(reads::<T>(3)))?;
		let proposal = Proposals::<T>::get(id).ok_or_else(|| early(Error::<T>::NoProposal))?;
		let checked = T::WeightInfo::check_proposal(proposal.fills.len() as u32);
		// The book may have changed since the proposal: check it again as it stands.
		let (_, book) = Self::score_fills(&request, &proposal.fills)
			.map_err(|_| Error::<T>::ProposalStale.with_weight(checked))?;
		Self::ensure_commitments_fit(&book.offers).map_err(|e| e.with_weight(checked))?;
		let terms = Self::contract_terms(&request, &proposal.fills, &book.offers);
		let cost =
			terms.iter().fold(Zero::zero(), |sum: BalanceOf<T>, t| sum.saturating_add(t.cost));
		ensure!(cost <= max_cost, Error::<T>::CostAboveMaximum.with_weight(checked));
		let fills = proposal
			.fills
			.iter()
			.zip(book.offers)
			.zip(terms)
			.map(|((fill, (offer_id, offer)), t)| (*fill, offer_id, offer, t))
			.collect();
		Ok(Purchase { request, fills, cost })
	}

	/// Every asset of the match has room for its new commitments.
	fn ensure_commitments_fit(offers: &[(OfferId, OfferOf<T>)]) -> DispatchResult {
		let mut new: BTreeMap<crate::AssetId, u32> = BTreeMap::new();
		for (_, offer) in offers {
			*new.entry(offer.spec.asset).or_default() += 1;
		}
		for (asset, n) in new {
			let held = Commitments::<T>::decode_len(asset).unwrap_or(0) as u32;
			ensure!(
				held.saturating_add(n) <= T::MaxCommitmentsPerAsset::get(),
				Error::<T>::TooManyCommitments
			);
		}
		Ok(())
	}

	/// Writes a checked purchase whose escrow is held: the fills, the commitments, the
	/// contract and the settlement task. Returns the number of fills.
	fn commit_purchase(
		id: RequestId,
		dso: T::AccountId,
		purchase: Purchase<T>,
		report_deadline: crate::Moment,
	) -> u32 {
		let Purchase { mut request, fills, cost } = purchase;
		let now = Self::now();
		let window = request.spec.window;
		let mut contract = Contract {
			fill_count: 0,
			power_w: 0,
			energy_wh: 0,
			cost,
			escrow: cost,
			accepted_at: now,
			reported: 0,
			report_deadline,
		};
		for (index, (proposed, offer_id, offer, terms)) in fills.into_iter().enumerate() {
			Self::contract_fill(id, &request, index as u32, proposed, offer_id, offer, terms);
			contract.fill_count += 1;
			contract.power_w = contract.power_w.saturating_add(proposed.power_w);
			contract.energy_wh =
				contract.energy_wh.saturating_add(window.energy_wh(proposed.power_w));
		}
		OpenRequests::<T>::remove(request.spec.location, id);
		OpenRequestCount::<T>::mutate(request.spec.location, |n| *n = n.saturating_sub(1));
		Self::drop_proposal(id);
		request.status = RequestStatus::Accepted;
		Requests::<T>::insert(id, request);
		let fills = contract.fill_count;
		Self::deposit_event(Event::MatchAccepted {
			request: id,
			dso,
			fills,
			power_w: contract.power_w,
			energy_wh: contract.energy_wh,
			cost,
			report_deadline,
		});
		Contracts::<T>::insert(id, contract);
		fills
	}

	/// Records one fill of a purchase: the offer is matched, the asset committed, the
	/// fill stored and announced.
	fn contract_fill(
		id: RequestId,
		request: &RequestOf<T>,
		index: u32,
		proposed: ProposedFill,
		offer_id: OfferId,
		offer: OfferOf<T>,
		terms: FillTerms<BalanceOf<T>>,
	) {
		let FillTerms { price, energy_wh, cost } = terms;
		let (window, direction) = (request.spec.window, request.spec.direction);
		// Checked just before: the offer is open and the asset has room.
		let _ = Self::mark_matched(offer_id, id);
		Commitments::<T>::mutate(offer.spec.asset, |c| {
			let _ = c.try_push(Commitment {
				request: id,
				window,
				direction,
				power_w: proposed.power_w,
			});
		});
		let device = Assets::<T>::get(offer.spec.asset)
			.map(|a| a.spec.device.into_inner())
			.unwrap_or_default();
		let fill = Fill {
			offer: offer_id,
			asset: offer.spec.asset,
			fsp: offer.fsp.clone(),
			power_w: proposed.power_w,
			price,
			energy_wh,
			cost,
			report: None,
			outcome: None,
		};
		Fills::<T>::insert(id, index, fill);
		Self::deposit_event(Event::FillContracted {
			request: id,
			fill_index: index,
			offer: offer_id,
			asset: offer.spec.asset,
			device,
			fsp: offer.fsp,
			window,
			direction,
			power_w: proposed.power_w,
			price,
			energy_wh,
			cost,
		});
	}
}
