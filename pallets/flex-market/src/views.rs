//! Read-only views for the runtime API: what the UI's request, offer, matching and
//! settlement tabs show, and what the bridge needs to dispatch.

use crate::{pallet::*, AssetId, AssetStatus, Contract, Fill, OfferId, Request, RequestId};
use alloc::{collections::BTreeMap, vec::Vec};
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// Most offers in one page of [`Pallet::eligible_offers_page`].
pub const MAX_PAGE: u32 = 1_000;
/// Offers in a page when the caller does not say how many.
pub const DEFAULT_PAGE: u32 = 100;

/// Where a page of eligible offers starts: after the offer with this price and id.
/// Pages list offers cheapest first, offers of one price by id; the last offer of
/// one page is where the next one starts.
#[derive(Clone, Copy, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct OfferCursor<Balance> {
	/// Price of the last offer seen, in planks per kWh.
	pub price: Balance,
	/// Id of the last offer seen.
	pub offer: OfferId,
}

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

	/// Offers eligible for request `id` now, cheapest first (by id within a price): all
	/// of them, up to `MaxOffersPerBook`. Prefer [`Self::eligible_offers_page`].
	pub fn eligible_offers(id: RequestId) -> Vec<(OfferId, OfferOf<T>)> {
		Self::cheapest_eligible(id, None, usize::MAX)
	}

	/// A page of the offers eligible for request `id` now: the `limit` (at most
	/// `MAX_PAGE`) cheapest after `after`, cheapest first and by id within a price.
	/// It reads the request's whole book, but holds and returns no more than a page.
	pub fn eligible_offers_page(
		id: RequestId,
		after: Option<OfferCursor<BalanceOf<T>>>,
		limit: u32,
	) -> Vec<(OfferId, OfferOf<T>)> {
		Self::cheapest_eligible(id, after.map(|c| (c.price, c.offer)), limit.min(MAX_PAGE) as usize)
	}

	/// The `limit` cheapest offers eligible for request `id` after `start` (price, id).
	fn cheapest_eligible(
		id: RequestId,
		start: Option<(BalanceOf<T>, OfferId)>,
		limit: usize,
	) -> Vec<(OfferId, OfferOf<T>)> {
		let Some(request) = Requests::<T>::get(id) else { return Vec::new() };
		let mut page = BTreeMap::new();
		for (offer_id, offer) in Self::eligible_in_book(&request) {
			let key = (offer.spec.price, offer_id);
			if start.is_some_and(|s| key <= s) {
				continue;
			}
			page.insert(key, offer);
			if page.len() > limit {
				page.pop_last();
			}
		}
		page.into_iter().map(|((_, offer_id), offer)| (offer_id, offer)).collect()
	}

	/// The offers of the request's book that may serve it now (open, covering its
	/// window, at most its price, of a prequalified asset), in storage order.
	fn eligible_in_book(
		request: &RequestOf<T>,
	) -> impl Iterator<Item = (OfferId, OfferOf<T>)> + '_ {
		let mut qualified = BTreeMap::<AssetId, bool>::new();
		Book::<T>::iter_key_prefix((request.spec.location, request.spec.direction))
			.filter_map(|id| Offers::<T>::get(id).map(|offer| (id, offer)))
			.filter(|(_, offer)| Self::eligibility(request, offer).is_ok())
			.filter(move |(_, offer)| {
				*qualified.entry(offer.spec.asset).or_insert_with(|| {
					Assets::<T>::get(offer.spec.asset)
						.is_some_and(|a| a.status == AssetStatus::Prequalified)
				})
			})
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
