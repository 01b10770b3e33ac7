//! Phase 4: the trade. The DSO prequalifies the assets and posts its request, the
//! FSPs offer, the match is proposed (by the node's off-chain solver, or the chain's
//! merit order) and the DSO buys it: its cost goes into escrow.

use super::{assets::Live, cast::Schedule};
use crate::{
	context::{say, Run},
	genesis::LOCATION,
	market::{all, Events, Pending, SubmitError, UNIT},
};
use anyhow::{bail, Context, Result};
use flex_bridge::{
	chain::runtime::{
		self,
		flex_market::events::{FillContracted, RequestCreated},
		runtime_types::pallet_flex_market::{pallet::Error as MarketError, types as t},
	},
	clock::Clock,
};
use std::collections::BTreeMap;

/// A fill the DSO bought: its index in the match, power (W) and energy (Wh).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
	/// Index of the fill in the match.
	pub fill: u32,
	/// Contracted power, W.
	pub power_w: u32,
	/// Contracted energy, Wh.
	pub energy_wh: u64,
}

/// What the trade settled on.
pub struct Trade {
	/// The DSO's request.
	pub request: u32,
	/// The bought fills by asset.
	pub accepted: BTreeMap<u32, Accepted>,
}

/// Runs the trade and checks it ended before the window starts.
pub async fn trade(run: &Run, s: &Schedule, live: &[Live]) -> Result<Trade> {
	let sc = &run.sc;
	say(format!(
		"the DSO prequalifies the assets and requests {} kW up at most {:.2} per kWh",
		sc.request_w / 1000,
		sc.max_price_milli as f64 / 1000.0
	));
	run.nodes.agree().await?;
	let request = prequalify_and_request(run, s, live).await?;
	say("the FSPs post their offers");
	offer(run, s, live).await?;
	say("the DSO matches and buys the match; the cost goes into escrow");
	run.nodes.agree().await?;
	propose(run, request).await?;
	let accepted = buy(run, request, live).await?;
	let escrow = run.nodes.dso.escrow(&run.cast.dso_account()).await?;
	say(format!("escrow held from the DSO: {:.3} FLEX", escrow as f64 / UNIT as f64));
	if Clock::real_now_ms() >= s.clock.real_of_market(s.start) {
		bail!("the market steps ran past the window's start; try a smaller --scale");
	}
	Ok(Trade { request, accepted })
}

/// The DSO's request for the scenario's window.
fn request_spec(run: &Run, s: &Schedule) -> t::RequestSpec<u128> {
	let sc = &run.sc;
	t::RequestSpec {
		location: LOCATION,
		window: t::Window { start: s.start, end: s.end },
		direction: t::Direction::Up,
		power_w: sc.request_w,
		max_price: sc.max_price_milli * UNIT / 1000,
		gate_closure: s.gate,
		partial: sc.partial,
		pricing: t::Pricing::PayAsBid,
		max_over_w: 0,
	}
}

/// The request the DSO created for window `start`, from the `RequestCreated` events.
fn created(run: &Run, events: &[Events], start: u64) -> Result<u32> {
	let dso = run.cast.dso_account();
	for e in events.iter().flat_map(|e| e.find::<RequestCreated>()) {
		let e = e?;
		if e.dso == dso && e.spec.location == LOCATION && e.spec.window.start == start {
			return Ok(e.request);
		}
	}
	bail!("no RequestCreated event for the DSO's request")
}

/// The DSO prequalifies every asset and posts its request: the request's id.
async fn prequalify_and_request(run: &Run, s: &Schedule, live: &[Live]) -> Result<u32> {
	let (m, dso) = (&run.nodes.dso, &run.cast.dso);
	let calls = runtime::transactions().flex_market();
	let mut round: Vec<Pending> = Vec::new();
	for l in live {
		let call = calls.set_asset_status(l.asset, t::AssetStatus::Prequalified);
		round.push(Box::pin(m.submit("set_asset_status", call, dso)));
	}
	let call = calls.create_request(request_spec(run, s));
	round.push(Box::pin(m.submit("create_request", call, dso)));
	created(run, &all(round).await?, s.start)
}

/// Every FSP offers its asset over the window.
async fn offer(run: &Run, s: &Schedule, live: &[Live]) -> Result<()> {
	let m = &run.nodes.fsp;
	let mut round: Vec<Pending> = Vec::new();
	for l in live {
		let offer = t::OfferSpec {
			asset: l.asset,
			window: t::Window { start: s.start, end: s.end },
			direction: t::Direction::Up,
			power_w: l.plan.offer_w,
			price: l.plan.price_milli * UNIT / 1000,
			divisibility: match l.plan.divisible_min_w {
				Some(min_power_w) => t::Divisibility::Divisible { min_power_w },
				None => t::Divisibility::AllOrNothing,
			},
		};
		let call = runtime::transactions().flex_market().create_offer(offer);
		round.push(Box::pin(m.submit("create_offer", call, &l.fsp)));
	}
	all(round).await?;
	Ok(())
}

/// A match is stored for `request`: the node's off-chain solver proposes during the
/// minutes before gate closure; the DSO runs the chain's merit order only when nothing
/// is proposed yet.
async fn propose(run: &Run, request: u32) -> Result<()> {
	let m = &run.nodes.dso;
	let kept = "  the off-chain solver's match is stored and at least as cheap: keeping it";
	if m.has_proposal(request).await? {
		say(kept);
		return Ok(());
	}
	let call = runtime::transactions().flex_market().match_request(request);
	match m.submit("match_request", call, &run.cast.dso).await {
		Ok(_) => say("  the chain's merit order proposed the match"),
		// The solver's proposal landed in the meantime.
		Err(SubmitError::Market { error: MarketError::NotBetter, .. }) => say(kept),
		Err(e) => return Err(e.into()),
	}
	Ok(())
}

/// The DSO buys the stored match for at most what it costs now: the fills by asset.
async fn buy(run: &Run, request: u32, live: &[Live]) -> Result<BTreeMap<u32, Accepted>> {
	let m = &run.nodes.dso;
	let cost = m.proposal_cost(request).await?.context("no match to buy")?;
	say(format!("  buying for at most {:.3} FLEX", cost as f64 / UNIT as f64));
	let call = runtime::transactions().flex_market().accept_match(request, cost);
	let bought = m.submit("accept_match", call, &run.cast.dso).await?;
	let mut accepted = BTreeMap::new();
	for f in bought.find::<FillContracted>() {
		let f = f?;
		if f.request == request {
			let a = Accepted { fill: f.fill_index, power_w: f.power_w, energy_wh: f.energy_wh };
			accepted.insert(f.asset, a);
		}
	}
	for l in live {
		match accepted.get(&l.asset) {
			Some(a) => say(format!(
				"  {}: {} kW, {} Wh contracted",
				l.plan.name,
				a.power_w / 1000,
				a.energy_wh
			)),
			None => say(format!("  {}: not in the match", l.plan.name)),
		}
	}
	Ok(accepted)
}
