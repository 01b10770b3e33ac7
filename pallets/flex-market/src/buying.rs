//! Buying: the DSO accepts the proposed match, its cost goes into escrow, the
//! assets are committed and every fill is announced for dispatch.

use crate::{
	pallet::*, Commitment, Contract, Fill, Pricing, RequestId, RequestStatus, Task, WH_PER_KWH,
};
use frame_support::{ensure, pallet_prelude::*, traits::fungible::MutateHold};
use sp_runtime::{traits::Zero, SaturatedConversion};

/// What a fill costs: price per kWh, contracted energy and the amount due.
pub struct FillTerms<Balance> {
	/// Price per kWh paid.
	pub price: Balance,
	/// Contracted energy in Wh.
	pub energy_wh: u64,
	/// Contracted cost.
	pub cost: Balance,
}

/// Cost of `energy_wh` at `price` per kWh, rounded down.
pub fn energy_cost(energy_wh: u64, price: u128) -> u128 {
	(energy_wh as u128).saturating_mul(price) / WH_PER_KWH
}

impl<T: Config> Pallet<T> {
	/// The terms of each fill of `fills` (taken from `offers`, same order) under the
	/// request's pricing rule and window.
	pub fn contract_terms(
		request: &RequestOf<T>,
		fills: &[crate::ProposedFill],
		offers: &[(crate::OfferId, OfferOf<T>)],
	) -> alloc::vec::Vec<FillTerms<BalanceOf<T>>> {
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

	/// Buys the proposed match of request `id`. Returns the number of fills.
	pub fn do_accept_match(dso: T::AccountId, id: RequestId) -> Result<u32, DispatchError> {
		let mut request = Requests::<T>::get(id).ok_or(Error::<T>::UnknownRequest)?;
		ensure!(request.dso == dso, Error::<T>::NotRequestOwner);
		ensure!(request.status != RequestStatus::Accepted, Error::<T>::AlreadyAccepted);
		ensure!(request.status == RequestStatus::Open, Error::<T>::RequestNotOpen);
		let now = Self::now();
		ensure!(now < request.spec.window.start, Error::<T>::WindowStarted);
		let params = Params::<T>::get();
		Self::check_price_cap(&request.spec, &params)?;
		let proposal = Proposals::<T>::get(id).ok_or(Error::<T>::NoProposal)?;
		// The book may have changed since the proposal: check it again as it stands.
		let (_, book) = Self::score_fills(&request, &proposal.fills)?;

		let window = request.spec.window;
		let terms = Self::contract_terms(&request, &proposal.fills, &book.offers);
		let mut contract = Contract {
			fill_count: 0,
			power_w: 0,
			energy_wh: 0,
			cost: Zero::zero(),
			escrow: Zero::zero(),
			accepted_at: now,
			reported: 0,
		};
		for (index, ((proposed, (offer_id, offer)), t)) in
			proposal.fills.iter().zip(book.offers.iter()).zip(terms).enumerate()
		{
			let FillTerms { price, energy_wh, cost } = t;
			Self::mark_matched(*offer_id, id)?;
			Commitments::<T>::try_mutate(offer.spec.asset, |c| {
				c.try_push(Commitment {
					request: id,
					window,
					direction: request.spec.direction,
					power_w: proposed.power_w,
				})
				.map_err(|_| Error::<T>::TooManyCommitments)
			})?;
			let device = Assets::<T>::get(offer.spec.asset)
				.map(|a| a.spec.device.into_inner())
				.unwrap_or_default();
			let index = index as u32;
			Fills::<T>::insert(
				id,
				index,
				Fill {
					offer: *offer_id,
					asset: offer.spec.asset,
					fsp: offer.fsp.clone(),
					power_w: proposed.power_w,
					price,
					energy_wh,
					cost,
					report: None,
					outcome: None,
				},
			);
			contract.fill_count += 1;
			contract.power_w = contract.power_w.saturating_add(proposed.power_w);
			contract.energy_wh = contract.energy_wh.saturating_add(energy_wh);
			contract.cost += cost;
			Self::deposit_event(Event::FillContracted {
				request: id,
				fill: index,
				offer: *offer_id,
				asset: offer.spec.asset,
				device,
				fsp: offer.fsp.clone(),
				window,
				direction: request.spec.direction,
				power_w: proposed.power_w,
				price,
				energy_wh,
				cost,
			});
		}
		T::Currency::hold(&HoldReason::Escrow.into(), &dso, contract.cost)?;
		contract.escrow = contract.cost;

		Self::schedule(window.end.saturating_add(params.settlement_grace_ms), Task::Settle(id))?;
		OpenRequests::<T>::remove(request.spec.location, id);
		OpenRequestCount::<T>::mutate(request.spec.location, |n| *n = n.saturating_sub(1));
		Proposals::<T>::remove(id);
		request.status = RequestStatus::Accepted;
		Requests::<T>::insert(id, request);
		let fills = contract.fill_count;
		Self::deposit_event(Event::MatchAccepted {
			request: id,
			dso,
			fills,
			power_w: contract.power_w,
			energy_wh: contract.energy_wh,
			cost: contract.cost,
		});
		Contracts::<T>::insert(id, contract);
		Ok(fills)
	}
}
