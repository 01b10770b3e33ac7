//! `flexMarket_*`: the market's runtime API as typed JSON, with the units in the
//! field names (`_w`, `_wh`, `_ms`, `_per_kwh` in planks), enums in `snake_case`, and
//! amounts as decimal strings, since they exceed what JSON numbers carry exactly.
//!
//! Errors carry a code that says what went wrong ([`ErrorCode`]), as
//! `pallet-transaction-payment`'s RPC does.

use std::sync::Arc;

use flexchain_runtime::{opaque::Block, AccountId, Balance, SS58_PREFIX, TOKEN_DECIMALS};
use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{error::ErrorObject, ErrorObjectOwned},
};
use pallet_flex_market::{
	runtime_api::FlexMarketApi as MarketRuntimeApi,
	views::{MatchPreview, OfferCursor, PreviewSource, SettlementView, DEFAULT_PAGE, MAX_PAGE},
	Direction, Fill, LocationId, Offer, OfferId, OfferStatus, Pricing, Request, RequestId,
	RequestStatus, Window,
};
use serde::{Deserialize, Serialize};
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
use sp_runtime::traits::Block as BlockT;

type Hash = <Block as BlockT>::Hash;

/// The market's reads over JSON-RPC.
#[rpc(server)]
pub trait FlexMarketApi {
	/// Requests open for offers at `location`.
	#[method(name = "flexMarket_openRequests")]
	fn open_requests(&self, location: LocationId, at: Option<Hash>) -> RpcResult<Vec<RequestJson>>;

	/// Offers eligible for `request` now, cheapest first and by id within a price, a
	/// page at a time: `page.limit` of them (100 unless given, at most 1,000) after
	/// `page.after`, the last offer of the previous page (its `price_per_kwh` and `id`;
	/// the whole offer may be passed). A page shorter than its limit is the last.
	#[method(name = "flexMarket_eligibleOffers")]
	fn eligible_offers(
		&self,
		request: RequestId,
		page: Option<PageJson>,
		at: Option<Hash>,
	) -> RpcResult<Vec<OfferJson>>;

	/// The request's proposed match (or a merit-order preview) with its totals; `null`
	/// for an unknown request or one without any cover.
	#[method(name = "flexMarket_matchPreview")]
	fn match_preview(&self, request: RequestId, at: Option<Hash>)
		-> RpcResult<Option<PreviewJson>>;

	/// The request's bought match with delivery reports and settlement; `null` for a
	/// request not bought (or unknown).
	#[method(name = "flexMarket_settlement")]
	fn settlement(&self, request: RequestId, at: Option<Hash>)
		-> RpcResult<Option<SettlementJson>>;

	/// The market's time now, Unix ms: what windows and gate closures are compared
	/// with (the chain's timestamp, or a multiple of it on demonstration chains).
	#[method(name = "flexMarket_now")]
	fn now(&self, at: Option<Hash>) -> RpcResult<u64>;
}

/// What went wrong, as the `code` of a JSON-RPC error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
	/// The runtime API call failed (the block is unknown or pruned, or the runtime trapped).
	RuntimeApi = 8001,
	/// The block's runtime predates the method (its `FlexMarketApi` is too old).
	RuntimeTooOld = 8002,
	/// A parameter is out of range (a page above 1,000 offers, a price that is not a
	/// number of planks).
	InvalidParams = 8003,
}

fn error(code: ErrorCode, message: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObject::owned(code as i32, message.to_string(), None::<()>)
}

fn api_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
	error(ErrorCode::RuntimeApi, format!("runtime API call failed: {e}"))
}

fn account(a: &AccountId) -> String {
	a.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX))
}

/// A delivery window in Unix ms of market time.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct WindowJson {
	/// First millisecond of delivery.
	pub start_ms: u64,
	/// First millisecond after delivery.
	pub end_ms: u64,
	/// Length in ms.
	pub duration_ms: u64,
}

impl From<&Window> for WindowJson {
	fn from(w: &Window) -> Self {
		Self { start_ms: w.start, end_ms: w.end, duration_ms: w.duration_ms() }
	}
}

/// Which way the power goes: `up` (discharge, less consumption) or `down`.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum DirectionJson {
	/// Less consumption or more injection.
	Up,
	/// More consumption or less injection.
	Down,
}

impl From<Direction> for DirectionJson {
	fn from(d: Direction) -> Self {
		match d {
			Direction::Up => Self::Up,
			Direction::Down => Self::Down,
		}
	}
}

/// A request as the RPC shows it.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct RequestJson {
	/// Request id.
	pub id: RequestId,
	/// The DSO (SS58).
	pub dso: String,
	/// Grid location.
	pub location: LocationId,
	/// Delivery window.
	pub window: WindowJson,
	/// Which way.
	pub direction: DirectionJson,
	/// Requested power in W.
	pub power_w: u32,
	/// Most W a match may cover above `power_w`.
	pub max_over_w: u32,
	/// Price ceiling, planks per kWh.
	pub max_price_per_kwh: String,
	/// Gate closure, Unix ms of market time.
	pub gate_closure_ms: u64,
	/// Whether a partial cover is acceptable.
	pub partial: bool,
	/// `pay_as_bid` or `pay_as_clear`.
	pub pricing: &'static str,
	/// `open`, `accepted`, `settled`, `cancelled` or `expired`.
	pub status: &'static str,
	/// Deposit held, planks.
	pub deposit: String,
}

fn pricing(p: Pricing) -> &'static str {
	match p {
		Pricing::PayAsBid => "pay_as_bid",
		Pricing::PayAsClear => "pay_as_clear",
	}
}

fn request_status(s: RequestStatus) -> &'static str {
	match s {
		RequestStatus::Open => "open",
		RequestStatus::Accepted => "accepted",
		RequestStatus::Settled => "settled",
		RequestStatus::Cancelled => "cancelled",
		RequestStatus::Expired => "expired",
	}
}

impl RequestJson {
	fn new(id: RequestId, r: &Request<AccountId, Balance>) -> Self {
		let s = &r.spec;
		Self {
			id,
			dso: account(&r.dso),
			location: s.location,
			window: (&s.window).into(),
			direction: s.direction.into(),
			power_w: s.power_w,
			max_over_w: s.max_over_w,
			max_price_per_kwh: s.max_price.to_string(),
			gate_closure_ms: s.gate_closure,
			partial: s.partial,
			pricing: pricing(s.pricing),
			status: request_status(r.status),
			deposit: r.deposit.to_string(),
		}
	}
}

/// An offer as the RPC shows it.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct OfferJson {
	/// Offer id.
	pub id: OfferId,
	/// The FSP (SS58).
	pub fsp: String,
	/// The asset.
	pub asset: u32,
	/// Grid location.
	pub location: LocationId,
	/// Window it can deliver in.
	pub window: WindowJson,
	/// Which way.
	pub direction: DirectionJson,
	/// Offered power in W.
	pub power_w: u32,
	/// Smallest part a match may take, in W (`power_w` for all-or-nothing).
	pub min_power_w: u32,
	/// Price, planks per kWh.
	pub price_per_kwh: String,
	/// `open` or `matched`.
	pub status: &'static str,
	/// The request that bought it, when matched.
	pub matched_to: Option<RequestId>,
}

impl OfferJson {
	fn new(id: OfferId, o: &Offer<AccountId, Balance>) -> Self {
		let s = &o.spec;
		let (status, matched_to) = match o.status {
			OfferStatus::Open => ("open", None),
			OfferStatus::Matched(r) => ("matched", Some(r)),
		};
		Self {
			id,
			fsp: account(&o.fsp),
			asset: s.asset,
			location: o.location,
			window: (&s.window).into(),
			direction: s.direction.into(),
			power_w: s.power_w,
			min_power_w: s.min_power_w(),
			price_per_kwh: s.price.to_string(),
			status,
			matched_to,
		}
	}
}

/// Which page of eligible offers to answer.
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
pub struct PageJson {
	/// The last offer of the previous page; the first page without it.
	pub after: Option<CursorJson>,
	/// Offers in the page: 100 unless given, at most 1,000.
	pub limit: Option<u32>,
}

/// Where a page starts: after the offer with this price and id. Other fields are
/// ignored, so the last offer of a page may be passed as it came.
#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct CursorJson {
	/// Its price, planks per kWh: a decimal string (or a number).
	pub price_per_kwh: AmountJson,
	/// Its id.
	pub id: OfferId,
}

/// An amount in planks as a client may write it.
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum AmountJson {
	/// A decimal string, as this RPC writes amounts.
	Text(String),
	/// A JSON number.
	Number(u64),
}

impl PageJson {
	/// The runtime's cursor and limit for this page.
	fn resolve(&self) -> Result<(Option<OfferCursor<Balance>>, u32), ErrorObjectOwned> {
		let limit = self.limit.unwrap_or(DEFAULT_PAGE);
		if limit > MAX_PAGE {
			return Err(error(
				ErrorCode::InvalidParams,
				format!("a page holds at most {MAX_PAGE} offers, not {limit}"),
			));
		}
		let after = match &self.after {
			None => None,
			Some(c) => Some(OfferCursor { price: c.price_per_kwh.planks()?, offer: c.id }),
		};
		Ok((after, limit))
	}
}

impl AmountJson {
	fn planks(&self) -> Result<Balance, ErrorObjectOwned> {
		match self {
			Self::Number(n) => Ok(Balance::from(*n)),
			Self::Text(t) => t.parse().map_err(|_| {
				error(ErrorCode::InvalidParams, format!("{t:?} is not an amount of planks"))
			}),
		}
	}
}

/// The page of `offers` (all eligible, cheapest first) after `after`, at most `limit`:
/// how a node pages for a runtime older than `FlexMarketApi` version 3.
fn page_of<T>(
	offers: Vec<(OfferId, Offer<AccountId, T>)>,
	after: Option<OfferCursor<T>>,
	limit: u32,
) -> Vec<(OfferId, Offer<AccountId, T>)>
where
	T: Ord + Copy,
{
	offers
		.into_iter()
		.filter(|(id, o)| after.is_none_or(|c| (o.spec.price, *id) > (c.price, c.offer)))
		.take(limit as usize)
		.collect()
}

/// One fill of a match preview.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct PreviewFillJson {
	/// The offer.
	pub offer: OfferId,
	/// The asset.
	pub asset: u32,
	/// The FSP (SS58).
	pub fsp: String,
	/// Power taken in W.
	pub power_w: u32,
	/// Price paid, planks per kWh.
	pub price_per_kwh: String,
	/// Energy over the window in Wh.
	pub energy_wh: u64,
	/// Cost in planks.
	pub cost: String,
}

/// A request's match with its totals.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct PreviewJson {
	/// The request.
	pub request: RequestId,
	/// `stored` (the proposal on chain) or `merit_order` (computed for the preview).
	pub source: &'static str,
	/// Requested power in W.
	pub requested_w: u32,
	/// Power of the fills in W.
	pub power_w: u32,
	/// Energy in Wh.
	pub energy_wh: u64,
	/// What buying it costs, in planks: pass it as `acceptMatch`'s `maxCost`.
	pub cost: String,
	/// Decimals of the currency (planks per FLEX = 10^decimals).
	pub currency_decimals: u32,
	/// The fills.
	pub fills: Vec<PreviewFillJson>,
}

impl From<&MatchPreview<AccountId, Balance>> for PreviewJson {
	fn from(p: &MatchPreview<AccountId, Balance>) -> Self {
		Self {
			request: p.request,
			source: match p.source {
				PreviewSource::Stored => "stored",
				PreviewSource::MeritOrder => "merit_order",
			},
			requested_w: p.requested_w,
			power_w: p.power_w,
			energy_wh: p.energy_wh,
			cost: p.cost.to_string(),
			currency_decimals: TOKEN_DECIMALS as u32,
			fills: p
				.fills
				.iter()
				.map(|f| PreviewFillJson {
					offer: f.offer,
					asset: f.asset,
					fsp: account(&f.fsp),
					power_w: f.power_w,
					price_per_kwh: f.price.to_string(),
					energy_wh: f.energy_wh,
					cost: f.cost.to_string(),
				})
				.collect(),
		}
	}
}

/// A metering oracle's report of a fill.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ReportJson {
	/// Delivered energy in Wh.
	pub delivered_wh: u64,
	/// Root of the minute samples, hex.
	pub samples_root: String,
	/// When it was reported, Unix ms of market time.
	pub reported_at_ms: u64,
}

/// How a fill was settled.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct OutcomeJson {
	/// Delivered / contracted, in parts per billion.
	pub delivery_rate_ppb: u32,
	/// Paid to the FSP, planks.
	pub paid: String,
	/// Penalty deducted, planks.
	pub penalty: String,
	/// Returned to the DSO, planks.
	pub refunded: String,
}

/// One fill of a bought match.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct FillJson {
	/// Index of the fill within the match.
	pub fill_index: u32,
	/// The offer taken.
	pub offer: OfferId,
	/// The asset.
	pub asset: u32,
	/// The FSP (SS58).
	pub fsp: String,
	/// Contracted power in W.
	pub power_w: u32,
	/// Price, planks per kWh.
	pub price_per_kwh: String,
	/// Contracted energy in Wh.
	pub contracted_wh: u64,
	/// Contracted cost, planks.
	pub cost: String,
	/// The report, once made.
	pub report: Option<ReportJson>,
	/// The settlement, once made.
	pub outcome: Option<OutcomeJson>,
}

impl FillJson {
	fn new(index: u32, f: &Fill<AccountId, Balance>) -> Self {
		Self {
			fill_index: index,
			offer: f.offer,
			asset: f.asset,
			fsp: account(&f.fsp),
			power_w: f.power_w,
			price_per_kwh: f.price.to_string(),
			contracted_wh: f.energy_wh,
			cost: f.cost.to_string(),
			report: f.report.map(|r| ReportJson {
				delivered_wh: r.delivered_wh,
				samples_root: format!("{:?}", r.samples_root),
				reported_at_ms: r.reported_at,
			}),
			outcome: f.outcome.map(|o| OutcomeJson {
				delivery_rate_ppb: o.delivery_rate.deconstruct(),
				paid: o.paid.to_string(),
				penalty: o.penalty.to_string(),
				refunded: o.refunded.to_string(),
			}),
		}
	}
}

/// A bought match with its reports and settlement.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SettlementJson {
	/// The request.
	pub request: RequestJson,
	/// Contracted power in W.
	pub power_w: u32,
	/// Contracted energy in Wh.
	pub contracted_wh: u64,
	/// Total cost, planks.
	pub cost: String,
	/// Still in escrow, planks.
	pub escrow: String,
	/// When it was bought, Unix ms of market time.
	pub accepted_at_ms: u64,
	/// Reports are taken until then; settlement follows (Unix ms of market time).
	pub report_deadline_ms: u64,
	/// Number of fills reported.
	pub reported_fills: u32,
	/// Decimals of the currency.
	pub currency_decimals: u32,
	/// The fills.
	pub fills: Vec<FillJson>,
}

impl From<&SettlementView<AccountId, Balance>> for SettlementJson {
	fn from(s: &SettlementView<AccountId, Balance>) -> Self {
		let c = &s.contract;
		Self {
			request: RequestJson::new(s.request, &s.record),
			power_w: c.power_w,
			contracted_wh: c.energy_wh,
			cost: c.cost.to_string(),
			escrow: c.escrow.to_string(),
			accepted_at_ms: c.accepted_at,
			report_deadline_ms: c.report_deadline,
			reported_fills: c.reported,
			currency_decimals: TOKEN_DECIMALS as u32,
			fills: s.fills.iter().enumerate().map(|(i, f)| FillJson::new(i as u32, f)).collect(),
		}
	}
}

/// Implements [`FlexMarketApiServer`] over a client.
pub struct FlexMarket<C> {
	client: Arc<C>,
}

impl<C> FlexMarket<C> {
	/// Serves the market's reads from `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

impl<C> FlexMarket<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: MarketRuntimeApi<Block, AccountId, Balance>,
{
	fn at(&self, at: Option<Hash>) -> Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}

	/// The version of `FlexMarketApi` the runtime of block `at` implements (0: none).
	fn api_version(&self, at: Hash) -> Result<u32, ErrorObjectOwned> {
		let api = self.client.runtime_api();
		let version = api
			.api_version::<dyn MarketRuntimeApi<Block, AccountId, Balance>>(at)
			.map_err(api_error)?;
		Ok(version.unwrap_or(0))
	}
}

impl<C> FlexMarketApiServer for FlexMarket<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: MarketRuntimeApi<Block, AccountId, Balance>,
{
	fn open_requests(&self, location: LocationId, at: Option<Hash>) -> RpcResult<Vec<RequestJson>> {
		let list =
			self.client.runtime_api().open_requests(self.at(at), location).map_err(api_error)?;
		Ok(list.iter().map(|(id, r)| RequestJson::new(*id, r)).collect())
	}

	fn eligible_offers(
		&self,
		id: RequestId,
		page: Option<PageJson>,
		at: Option<Hash>,
	) -> RpcResult<Vec<OfferJson>> {
		let (after, limit) = page.unwrap_or_default().resolve()?;
		let api = self.client.runtime_api();
		let at = self.at(at);
		let list = if self.api_version(at)? >= 3 {
			api.eligible_offers_page(at, id, after, limit).map_err(api_error)?
		} else {
			page_of(api.eligible_offers(at, id).map_err(api_error)?, after, limit)
		};
		Ok(list.iter().map(|(id, o)| OfferJson::new(*id, o)).collect())
	}

	fn match_preview(&self, id: RequestId, at: Option<Hash>) -> RpcResult<Option<PreviewJson>> {
		let p = self.client.runtime_api().match_preview(self.at(at), id).map_err(api_error)?;
		Ok(p.as_ref().map(PreviewJson::from))
	}

	fn settlement(&self, id: RequestId, at: Option<Hash>) -> RpcResult<Option<SettlementJson>> {
		let s = self.client.runtime_api().settlement(self.at(at), id).map_err(api_error)?;
		Ok(s.as_ref().map(SettlementJson::from))
	}

	fn now(&self, at: Option<Hash>) -> RpcResult<u64> {
		let api = self.client.runtime_api();
		let at = self.at(at);
		let version = self.api_version(at)?;
		if version < 2 {
			return Err(error(
				ErrorCode::RuntimeTooOld,
				format!("the runtime's FlexMarketApi is version {version}; market_now needs 2"),
			));
		}
		api.market_now(at).map_err(api_error)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn enums_are_snake_case_and_amounts_strings() {
		let json = serde_json::to_value(DirectionJson::Up).unwrap();
		assert_eq!(json, serde_json::json!("up"));
		let o = OutcomeJson {
			delivery_rate_ppb: 961_333_333,
			paid: u128::MAX.to_string(),
			penalty: "0".into(),
			refunded: "1".into(),
		};
		let v = serde_json::to_value(o).unwrap();
		assert_eq!(v["paid"], serde_json::json!("340282366920938463463374607431768211455"));
	}

	#[test]
	fn error_codes_are_distinct() {
		assert_eq!(error(ErrorCode::RuntimeApi, "x").code(), 8001);
		assert_eq!(error(ErrorCode::RuntimeTooOld, "x").code(), 8002);
		assert_eq!(error(ErrorCode::InvalidParams, "x").code(), 8003);
	}

	fn offer(price: Balance) -> Offer<AccountId, Balance> {
		use pallet_flex_market::{Divisibility, OfferSpec};
		Offer {
			fsp: AccountId::new([1; 32]),
			location: 1,
			spec: OfferSpec {
				asset: 0,
				window: Window { start: 1, end: 2 },
				direction: Direction::Up,
				power_w: 1_000,
				price,
				divisibility: Divisibility::AllOrNothing,
			},
			status: OfferStatus::Open,
		}
	}

	#[test]
	fn the_last_offer_of_a_page_is_where_the_next_starts() {
		let last = serde_json::to_value(OfferJson::new(7, &offer(u128::MAX))).unwrap();
		let page: PageJson =
			serde_json::from_value(serde_json::json!({ "after": last, "limit": 2 })).unwrap();
		let (after, limit) = page.resolve().unwrap();
		assert_eq!(after, Some(OfferCursor { price: u128::MAX, offer: 7 }));
		assert_eq!(limit, 2);
		let by_number: PageJson =
			serde_json::from_value(serde_json::json!({ "after": { "price_per_kwh": 5, "id": 1 } }))
				.unwrap();
		assert_eq!(by_number.resolve().unwrap(), (Some(OfferCursor { price: 5, offer: 1 }), 100));
	}

	#[test]
	fn pages_are_bounded() {
		assert_eq!(PageJson::default().resolve().unwrap(), (None, DEFAULT_PAGE));
		let big = PageJson { after: None, limit: Some(MAX_PAGE + 1) };
		assert_eq!(big.resolve().unwrap_err().code(), 8003);
		let nan = PageJson {
			after: Some(CursorJson { price_per_kwh: AmountJson::Text("1e3".into()), id: 0 }),
			limit: None,
		};
		assert_eq!(nan.resolve().unwrap_err().code(), 8003);
	}

	#[test]
	fn an_old_runtime_is_paged_by_the_node() {
		// Cheapest first, by id within a price, as the runtime answers.
		let all = vec![(4, offer(1)), (2, offer(2)), (3, offer(2)), (1, offer(3))];
		let ids = |page: Vec<(OfferId, Offer<AccountId, Balance>)>| {
			page.into_iter().map(|(id, _)| id).collect::<Vec<_>>()
		};
		assert_eq!(ids(page_of(all.clone(), None, 2)), [4, 2]);
		let after = Some(OfferCursor { price: 2, offer: 2 });
		assert_eq!(ids(page_of(all.clone(), after, 2)), [3, 1]);
		assert_eq!(
			ids(page_of(all, Some(OfferCursor { price: 3, offer: 1 }), 2)),
			Vec::<OfferId>::new()
		);
	}
}
