//! Phase 5: the window. Every five market minutes a line of what the bridge metered
//! for each contracted asset (energy so far and state of charge).

use super::{assets::Live, cast::Schedule, trade::Trade};
use crate::context::{hhmm, say, Run};
use anyhow::Result;
use flex_bridge::{
	clock::Clock,
	metering::{Sample, MINUTE_MS},
};
use std::time::Duration;

/// The bridge's samples of `asset` from `from` to `to` (market ms).
pub async fn samples(
	client: &reqwest::Client,
	base: &str,
	asset: u32,
	from: u64,
	to: u64,
) -> Result<Vec<Sample>> {
	Ok(client
		.get(format!("{base}/samples/{asset}?from={from}&to={to}"))
		.timeout(Duration::from_secs(5))
		.send()
		.await?
		.error_for_status()?
		.json()
		.await?)
}

/// One asset's part of a progress line: energy since the window's start, and the last
/// state of charge.
fn progress(name: &str, s: &[Sample]) -> String {
	let wh = s
		.last()
		.zip(s.first())
		.map(|(b, a)| b.exported_wh.saturating_sub(a.exported_wh))
		.unwrap_or(0);
	let soc = s.last().and_then(|x| x.soc_permille).map(|p| p as f64 / 10.0);
	format!(
		" {name} {:.2} kWh{} |",
		wh as f64 / 1000.0,
		soc.map(|s| format!(" SoC {s:.1} %")).unwrap_or_default()
	)
}

/// Follows the window until five market minutes after its end.
pub async fn watch(run: &Run, s: &Schedule, live: &[Live], trade: &Trade) -> Result<()> {
	say(format!(
		"waiting for the window ({:.0} s)",
		(s.clock.real_of_market(s.start) as f64 - Clock::real_now_ms() as f64) / 1000.0
	));
	let client = reqwest::Client::new();
	let base = run.bridge_http();
	let mut minute = s.start;
	while minute < s.end + 5 * MINUTE_MS {
		minute += 5 * MINUTE_MS;
		run.unless_crash(s.clock.sleep_until(minute.min(s.end + MINUTE_MS))).await?;
		if minute > s.end {
			continue;
		}
		let mut line = format!("{} +{:>2} min |", hhmm(minute), (minute - s.start) / MINUTE_MS);
		for l in live.iter().filter(|l| trade.accepted.contains_key(&l.asset)) {
			let samples = samples(&client, &base, l.asset, s.start, minute).await;
			line += &progress(l.plan.name, &samples.unwrap_or_default());
		}
		say(line);
	}
	Ok(())
}
