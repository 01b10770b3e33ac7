//! The runtime API of the market: the reads the UI, the node's JSON-RPC and the
//! bridge use.

use crate::{
	views::{MatchPreview, OfferCursor, SettlementView},
	LocationId, Moment, Offer, OfferId, Request, RequestId,
};
use alloc::vec::Vec;
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Reads of the flexibility market. Version 2 adds `market_now`, version 3
	/// `eligible_offers_page`.
	#[api_version(3)]
	pub trait FlexMarketApi<AccountId, Balance>
	where
		AccountId: Codec,
		Balance: Codec,
	{
		/// Requests open for offers at `location`.
		fn open_requests(location: LocationId) -> Vec<(RequestId, Request<AccountId, Balance>)>;
		/// Offers eligible for `request` now, cheapest first: all of them (up to a full
		/// book). Prefer `eligible_offers_page`.
		fn eligible_offers(request: RequestId) -> Vec<(OfferId, Offer<AccountId, Balance>)>;
		/// The request's proposed match, or a merit order computed for the preview, with totals.
		fn match_preview(request: RequestId) -> Option<MatchPreview<AccountId, Balance>>;
		/// The request's bought match with delivery reports and settlement.
		fn settlement(request: RequestId) -> Option<SettlementView<AccountId, Balance>>;
		/// The market's time now (Unix ms): what windows and gate closures are compared
		/// with. The chain's timestamp, or a multiple of it set by `set_clock`.
		fn market_now() -> Moment;
		/// A page of the offers eligible for `request` now: the `limit` cheapest (at
		/// most `views::MAX_PAGE`) after `after`, cheapest first and by id within a
		/// price; the last offer of a page is where the next one starts.
		fn eligible_offers_page(
			request: RequestId,
			after: Option<OfferCursor<Balance>>,
			limit: u32,
		) -> Vec<(OfferId, Offer<AccountId, Balance>)>;
	}
}
