//! `flexMarket_*`: the market's runtime API as JSON, with the units in the field
//! names (`_w`, `_wh`, `_ms`, prices per kWh in the smallest currency unit) and
//! amounts as decimal strings, since they exceed what JSON numbers carry exactly.

use std::sync::Arc;

use flexchain_runtime::{opaque::Block, AccountId, Balance, SS58_PREFIX, TOKEN_DECIMALS};
use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{error::ErrorObject, ErrorObjectOwned},
};
use pallet_flex_market::{
	runtime_api::FlexMarketApi as MarketRuntimeApi,
	views::{MatchPreview, SettlementView},
	Fill, LocationId, Offer, OfferId, Request, RequestId, Window,
};
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
use sp_runtime::traits::Block as BlockT;

type Hash = <Block as BlockT>::Hash;

/// The market's reads over JSON-RPC.
#[rpc(server)]
pub trait FlexMarketApi {
	/// Requests open for offers at `location`.
	#[method(name = "flexMarket_openRequests")]
	fn open_requests(&self, location: LocationId, at: Option<Hash>) -> RpcResult<Value>;

	/// Offers eligible for `request` now, cheapest first.
	#[method(name = "flexMarket_eligibleOffers")]
	fn eligible_offers(&self, request: RequestId, at: Option<Hash>) -> RpcResult<Value>;

	/// The request's proposed match (or a merit-order preview) with its totals.
	#[method(name = "flexMarket_matchPreview")]
	fn match_preview(&self, request: RequestId, at: Option<Hash>) -> RpcResult<Value>;

	/// The request's bought match with delivery reports and settlement.
	#[method(name = "flexMarket_settlement")]
	fn settlement(&self, request: RequestId, at: Option<Hash>) -> RpcResult<Value>;
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

fn api_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObject::owned(1, format!("runtime API call failed: {e}"), None::<()>)
}

fn account(a: &AccountId) -> String {
	a.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX))
}

fn amount(b: Balance) -> String {
	b.to_string()
}

fn window(w: &Window) -> Value {
	json!({ "start_ms": w.start, "end_ms": w.end, "duration_ms": w.duration_ms() })
}

fn request(id: RequestId, r: &Request<AccountId, Balance>) -> Value {
	let s = &r.spec;
	json!({
		"id": id,
		"dso": account(&r.dso),
		"location": s.location,
		"window": window(&s.window),
		"direction": format!("{:?}", s.direction),
		"power_w": s.power_w,
		"max_price_per_kwh": amount(s.max_price),
		"gate_closure_ms": s.gate_closure,
		"partial": s.partial,
		"pricing": format!("{:?}", s.pricing),
		"status": format!("{:?}", r.status),
		"deposit": amount(r.deposit),
	})
}

fn offer(id: OfferId, o: &Offer<AccountId, Balance>) -> Value {
	let s = &o.spec;
	json!({
		"id": id,
		"fsp": account(&o.fsp),
		"asset": s.asset,
		"location": o.location,
		"window": window(&s.window),
		"direction": format!("{:?}", s.direction),
		"power_w": s.power_w,
		"min_power_w": s.min_power_w(),
		"price_per_kwh": amount(s.price),
		"status": format!("{:?}", o.status),
	})
}

fn preview(p: &MatchPreview<AccountId, Balance>) -> Value {
	json!({
		"request": p.request,
		"source": format!("{:?}", p.source),
		"requested_w": p.requested_w,
		"power_w": p.power_w,
		"energy_wh": p.energy_wh,
		"cost": amount(p.cost),
		"currency_decimals": TOKEN_DECIMALS,
		"fills": p.fills.iter().map(|f| json!({
			"offer": f.offer,
			"asset": f.asset,
			"fsp": account(&f.fsp),
			"power_w": f.power_w,
			"price_per_kwh": amount(f.price),
			"energy_wh": f.energy_wh,
			"cost": amount(f.cost),
		})).collect::<Vec<_>>(),
	})
}

fn fill(index: usize, f: &Fill<AccountId, Balance>) -> Value {
	json!({
		"fill": index,
		"offer": f.offer,
		"asset": f.asset,
		"fsp": account(&f.fsp),
		"power_w": f.power_w,
		"price_per_kwh": amount(f.price),
		"contracted_wh": f.energy_wh,
		"cost": amount(f.cost),
		"report": f.report.map(|r| json!({
			"delivered_wh": r.delivered_wh,
			"samples_root": format!("{:?}", r.samples_root),
			"reported_at_ms": r.reported_at,
		})),
		"outcome": f.outcome.map(|o| json!({
			"delivery_rate_ppb": o.delivery_rate.deconstruct(),
			"paid": amount(o.paid),
			"penalty": amount(o.penalty),
			"refunded": amount(o.refunded),
		})),
	})
}

fn settlement(s: &SettlementView<AccountId, Balance>) -> Value {
	let c = &s.contract;
	json!({
		"request": request(s.request, &s.record),
		"power_w": c.power_w,
		"contracted_wh": c.energy_wh,
		"cost": amount(c.cost),
		"escrow": amount(c.escrow),
		"accepted_at_ms": c.accepted_at,
		"reported_fills": c.reported,
		"currency_decimals": TOKEN_DECIMALS,
		"fills": s.fills.iter().enumerate().map(|(i, f)| fill(i, f)).collect::<Vec<_>>(),
	})
}

impl<C> FlexMarket<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: MarketRuntimeApi<Block, AccountId, Balance>,
{
	fn at(&self, at: Option<Hash>) -> Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}
}

impl<C> FlexMarketApiServer for FlexMarket<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: MarketRuntimeApi<Block, AccountId, Balance>,
{
	fn open_requests(&self, location: LocationId, at: Option<Hash>) -> RpcResult<Value> {
		let list =
			self.client.runtime_api().open_requests(self.at(at), location).map_err(api_error)?;
		Ok(Value::Array(list.iter().map(|(id, r)| request(*id, r)).collect()))
	}

	fn eligible_offers(&self, id: RequestId, at: Option<Hash>) -> RpcResult<Value> {
		let list = self.client.runtime_api().eligible_offers(self.at(at), id).map_err(api_error)?;
		Ok(Value::Array(list.iter().map(|(id, o)| offer(*id, o)).collect()))
	}

	fn match_preview(&self, id: RequestId, at: Option<Hash>) -> RpcResult<Value> {
		let p = self.client.runtime_api().match_preview(self.at(at), id).map_err(api_error)?;
		Ok(p.as_ref().map(preview).unwrap_or(Value::Null))
	}

	fn settlement(&self, id: RequestId, at: Option<Hash>) -> RpcResult<Value> {
		let s = self.client.runtime_api().settlement(self.at(at), id).map_err(api_error)?;
		Ok(s.as_ref().map(settlement).unwrap_or(Value::Null))
	}
}
