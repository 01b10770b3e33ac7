//! On a network: every node sees the same settlement. Each node is asked, at the
//! block the last fill was settled in, for that block's hash, the market's record of
//! the settlement (`flexMarket_settlement`) and the cast's balances; all must agree,
//! and agree with what the run followed.

use super::{cast::Party, settlement::Settlement, trade::Trade};
use crate::{
	context::{say, NodeInfo, Run},
	market::Market,
	rpc,
};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What one node saw.
#[derive(Debug, PartialEq)]
pub struct View {
	/// The block's hash.
	pub hash: String,
	/// `flexMarket_settlement(request)` at it.
	pub settlement: Value,
	/// The cast's free + held balances at it.
	pub balances: Vec<u128>,
}

/// Asks `node` what it saw at `block`, once it has finalized it.
async fn view(node: &NodeInfo, request: u32, block: u64, parties: &[Party]) -> Result<View> {
	let m = Market::connect(&node.url, Duration::from_secs(30)).await?;
	let started = Instant::now();
	while m.finalized().await? < block {
		if started.elapsed() > Duration::from_secs(60) {
			bail!("{} did not finalize block {block} in a minute", node.name);
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	let hash = rpc::call(&node.url, "chain_getBlockHash", json!([block])).await?;
	let hash = hash.as_str().context("no block hash")?.to_string();
	let settlement = rpc::call(&node.url, "flexMarket_settlement", json!([request, hash])).await?;
	let mut balances = Vec::new();
	for (_, who) in parties {
		let (free, held) = m.balance_at(who, block).await?;
		balances.push(free + held);
	}
	Ok(View { hash, settlement, balances })
}

/// The delivered energy and payment of each fill in a `flexMarket_settlement` answer:
/// (asset, delivered Wh, paid planks).
pub fn figures(settlement: &Value) -> Result<Vec<(u32, u64, u128)>> {
	let fills = settlement["fills"].as_array().context("no fills in the settlement")?;
	fills
		.iter()
		.map(|f| {
			let asset = f["asset"].as_u64().context("asset")? as u32;
			let delivered = f["report"]["delivered_wh"].as_u64().unwrap_or(0);
			let paid = f["outcome"]["paid"].as_str().context("no outcome")?.parse()?;
			Ok((asset, delivered, paid))
		})
		.collect()
}

/// Checks that every node saw the same settlement as the run followed.
pub async fn check(run: &Run, trade: &Trade, done: &Settlement, parties: &[Party]) -> Result<()> {
	let mut views = Vec::new();
	for node in &run.nodes.all {
		let v = view(node, trade.request, done.block, parties).await;
		views.push((node, v.with_context(|| format!("asking {} ({})", node.name, node.url))?));
	}
	let (first, reference) = &views[0];
	for (node, v) in &views[1..] {
		if v != reference {
			bail!(
				"{} and {} disagree at block {}:\n{v:?}\n{reference:?}",
				node.name,
				first.name,
				done.block
			);
		}
	}
	for (asset, delivered, paid) in figures(&reference.settlement)? {
		let s = done.settled.get(&asset).context("a fill the run did not see settled")?;
		if (s.delivered_wh, s.paid) != (delivered, paid) {
			bail!("asset {asset}: the nodes record {delivered} Wh and {paid} planks, the events {} Wh and {}", s.delivered_wh, s.paid);
		}
	}
	let names: Vec<&str> = views.iter().map(|(n, _)| n.name.as_str()).collect();
	say(format!(
		"every node ({}) has the same settlement and balances at block #{} ({})",
		names.join(", "),
		done.block,
		&reference.hash[..10]
	));
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn figures_come_from_reports_and_outcomes() {
		let s = json!({ "fills": [
			{ "asset": 0, "report": { "delivered_wh": 7209 }, "outcome": { "paid": "720900000000" } },
			{ "asset": 1, "report": null, "outcome": { "paid": "0" } },
		] });
		assert_eq!(figures(&s).unwrap(), vec![(0, 7209, 720_900_000_000), (1, 0, 0)]);
		assert!(figures(&json!({ "fills": [{ "asset": 0, "outcome": null }] })).is_err());
	}
}
