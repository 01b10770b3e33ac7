//! Phase 6: settlement. The bridge reports delivery per fill; the chain settles each
//! fill after the grace period. Followed in finalized blocks of the node the bridge
//! follows.

use super::{cast::Schedule, trade::Trade};
use crate::context::{say, Run};
use anyhow::{bail, Result};
use flex_bridge::chain::{Chain, MarketEvent};
use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};

/// How one fill was settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settled {
	/// Contracted energy, Wh.
	pub contracted_wh: u64,
	/// Delivered energy as reported, Wh.
	pub delivered_wh: u64,
	/// Delivery rate, parts per billion.
	pub rate_ppb: u32,
	/// Paid to the FSP, planks.
	pub paid: u128,
	/// Penalty, planks.
	pub penalty: u128,
}

/// What the chain recorded after the window.
pub struct Settlement {
	/// Delivery reports per fill index.
	pub reports: BTreeMap<u32, u32>,
	/// The settled fills by asset.
	pub settled: BTreeMap<u32, Settled>,
	/// The finalized block the last fill was settled in.
	pub block: u64,
}

impl Settlement {
	/// Takes in one block's market events about `request`.
	fn take(&mut self, request: u32, block: u64, events: Vec<MarketEvent>) {
		for e in events {
			match e {
				MarketEvent::DeliveryReported { request: r, fill, delivered_wh }
					if r == request =>
				{
					*self.reports.entry(fill).or_default() += 1;
					say(format!("  delivery reported for fill {fill}: {delivered_wh} Wh"));
				},
				MarketEvent::FillSettled {
					request: r,
					asset,
					contracted_wh,
					delivered_wh,
					rate_ppb,
					paid,
					penalty,
					..
				} if r == request => {
					let s = Settled { contracted_wh, delivered_wh, rate_ppb, paid, penalty };
					self.settled.insert(asset, s);
					self.block = block;
				},
				_ => {},
			}
		}
	}
}

/// Follows finalized blocks until every bought fill is settled.
pub async fn follow(run: &Run, s: &Schedule, trade: &Trade) -> Result<Settlement> {
	say("the bridge reports delivery; settlement follows the grace period");
	let chain = Chain::connect(&run.nodes.bridge_url, run.cast.oracle_uri).await?;
	let grace = Duration::from_millis(run.nodes.dso.settlement_grace_ms().await?);
	let deadline = Instant::now()
		+ Duration::from_secs(120)
		+ s.clock.real_duration(grace + Duration::from_secs(60));
	let mut out = Settlement { reports: BTreeMap::new(), settled: BTreeMap::new(), block: 0 };
	let mut next_block = 1;
	while out.settled.len() < trade.accepted.len() {
		if Instant::now() > deadline {
			bail!(
				"no settlement of every fill in time: {} of {} settled; see {}",
				out.settled.len(),
				trade.accepted.len(),
				run.out.join("bridge.log").display()
			);
		}
		run.procs.check()?;
		let head = chain.finalized().await?;
		while next_block <= head {
			out.take(trade.request, next_block, chain.events(next_block).await?);
			next_block += 1;
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
	say("settled");
	Ok(out)
}
