//! Read-only views for the runtime API: what the UI's request, offer, matching and
//! settlement tabs show, and what the bridge needs to dispatch.

use crate::{pallet::*, AssetId, Contract, Fill, Offer, OfferId, Request, RequestId};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// Where a match preview comes from.
#[derive(Clone, Copy, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub enum PreviewSource {
	/// The proposal stored on chain (the DSO's merit order or a solver's solution).
	Stored,
	/// A merit order computed for the preview only, nothing stored.
	MeritOrder,
}

/// One fill of a match preview.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct PreviewFill<AccountId, Balance> {
	/// The offer.
	pub offer: OfferId,
	/// The asset.
	pub asset: AssetId,
	/// The FSP.
	pub fsp: AccountId,
	/// Power taken in W.
	pub power_w: u32,
	/// Price per kWh.
	pub price: Balance,
	/// Energy over the window in Wh.
	pub energy_wh: u64,
	/// Cost of that energy.
	pub cost: Balance,
}

/// A request's match with its totals, as the matching tab shows it.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct MatchPreview<AccountId, Balance> {
	/// The request.
	pub request: RequestId,
	/// Requested power in W.
	pub requested_w: u32,
	/// Where the match comes from.
	pub source: PreviewSource,
	/// The fills.
	pub fills: Vec<PreviewFill<AccountId, Balance>>,
	/// Total power in W.
	pub power_w: u32,
	/// Total energy in Wh.
	pub energy_wh: u64,
	/// Total cost.
	pub cost: Balance,
}

/// A request's settlement (or its state so far).
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct SettlementView<AccountId, Balance> {
	/// The request.
	pub request: RequestId,
	/// Its record.
	pub record: Request<AccountId, Balance>,
	/// The bought match's totals.
	pub contract: Contract<Balance>,
	/// The fills with their reports and outcomes.
	pub fills: Vec<Fill<AccountId, Balance>>,
}

impl<T: Config> Pallet<T> {
	/// Open requests at `location`.
	pub fn open_requests(location: crate::LocationId) -> Vec<(RequestId, RequestOf<T>)> {
		OpenRequests::<T>::iter_key_prefix(location)
			.filter_map(|id| Requests::<T>::get(id).map(|r| (id, r)))
			.collect()
	}

	/// Offers eligible for request `id` now, cheapest first.
	pub fn eligible_offers(id: RequestId) -> Vec<(OfferId, Offer<T::AccountId, BalanceOf<T>>)> {
		let Some(request) = Requests::<T>::get(id) else { return Vec::new() };
		let mut offers = Self::eligible_book(&request).0.offers;
		offers.sort_by_key(|a| (a.1.spec.price, a.0));
		offers
	}

	/// The stored proposal of request `id`, or a merit order computed on the spot.
	pub fn match_preview(id: RequestId) -> Option<MatchPreview<T::AccountId, BalanceOf<T>>> {
		let request = Requests::<T>::get(id)?;
		let (fills, source) = match Proposals::<T>::get(id) {
			Some(p) => (p.fills.into_inner(), PreviewSource::Stored),
			None => {
				let (fills, _, _) = Self::merit_order_of(&request).ok()?;
				(fills, PreviewSource::MeritOrder)
			},
		};
		let offers: Vec<_> =
			fills.iter().filter_map(|f| Offers::<T>::get(f.offer).map(|o| (f.offer, o))).collect();
		if offers.len() != fills.len() {
			return None;
		}
		let terms = Self::contract_terms(&request, &fills, &offers);
		let mut preview = MatchPreview {
			request: id,
			requested_w: request.spec.power_w,
			source,
			fills: Vec::with_capacity(fills.len()),
			power_w: 0,
			energy_wh: 0,
			cost: Default::default(),
		};
		for ((fill, (offer_id, offer)), t) in fills.iter().zip(offers).zip(terms) {
			preview.power_w += fill.power_w;
			preview.energy_wh += t.energy_wh;
			preview.cost += t.cost;
			preview.fills.push(PreviewFill {
				offer: offer_id,
				asset: offer.spec.asset,
				fsp: offer.fsp,
				power_w: fill.power_w,
				price: t.price,
				energy_wh: t.energy_wh,
				cost: t.cost,
			});
		}
		Some(preview)
	}

	/// The bought match of request `id` with its reports and settlement.
	pub fn settlement(id: RequestId) -> Option<SettlementView<T::AccountId, BalanceOf<T>>> {
		let record = Requests::<T>::get(id)?;
		let contract = Contracts::<T>::get(id)?;
		let fills = (0..contract.fill_count).filter_map(|i| Fills::<T>::get(id, i)).collect();
		Some(SettlementView { request: id, record, contract, fills })
	}
}
