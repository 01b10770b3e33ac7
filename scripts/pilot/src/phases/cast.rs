//! Phase 2: the genesis and the cast. What governance would vote in is in the
//! chain's genesis (the runtime has no sudo): this phase checks that it took (the
//! market clock's pace, the DSO with its location and oracle), reads market time,
//! places the window, and notes the cast's balances before the market steps.

use super::assets::Live;
use crate::{
	context::{hhmm, say, Run},
	genesis::LOCATION,
	market::account,
};
use anyhow::{bail, Result};
use flex_bridge::{clock::Clock, metering::MINUTE_MS};
use std::time::Duration;
use subxt::utils::AccountId32;

/// When the market steps happen, in market time.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
	/// The chain's market clock.
	pub clock: Clock,
	/// The window's start, market ms.
	pub start: u64,
	/// Its end.
	pub end: u64,
	/// The request's gate closure.
	pub gate: u64,
}

impl Schedule {
	/// A window of `minutes` far enough ahead of `now` for the market steps at `scale`
	/// (about 110 s of real time), on a minute boundary; the gate closes 20 s of real
	/// time before it.
	pub fn ahead(clock: Clock, now: u64, scale: u32, minutes: u64) -> Self {
		let scale = scale as u64;
		let start = (now + 110_000 * scale).div_ceil(MINUTE_MS) * MINUTE_MS;
		Self { clock, start, end: start + minutes * MINUTE_MS, gate: start - 20_000 * scale }
	}

	/// Real seconds until the window starts.
	pub fn seconds_to_start(&self) -> f64 {
		(self.clock.real_of_market(self.start) as f64 - Clock::real_now_ms() as f64) / 1000.0
	}
}

/// Checks the genesis took and places the window.
pub async fn genesis(run: &Run) -> Result<Schedule> {
	say(format!(
		"genesis (no sudo): market clock at {}x, parameters, DSO with its location and metering oracle, the cast funded",
		run.cli.scale
	));
	let m = &run.nodes.dso;
	let clock = run.unless_crash(m.wait_clock(Duration::from_secs(60))).await??;
	if (clock.scale - run.cli.scale as f64).abs() > 1e-9 {
		bail!("the chain's clock runs at {}x, not {}x", clock.scale, run.cli.scale);
	}
	let dso = run.cast.dso_account();
	match m.dso(&dso).await? {
		Some((locations, oracles))
			if locations.contains(&LOCATION) && oracles.contains(&account(&run.cast.oracle)) => {},
		other => bail!("the genesis did not register the DSO at location {LOCATION} with its oracle: {other:?}"),
	}
	let now = clock.now_ms();
	say(format!("market time now {} ({})", hhmm(now), clock.describe()));
	let s = Schedule::ahead(clock, now, run.cli.scale, run.sc.window_min);
	say(format!(
		"window {} - {} market time (gate closure {}), starts in {:.0} s real time",
		hhmm(s.start),
		hhmm(s.end),
		hhmm(s.gate),
		s.seconds_to_start()
	));
	Ok(s)
}

/// Who is in the report's balances, with the account.
pub type Party = (String, AccountId32);

/// The DSO and the FSPs, with their free + held balances before the market steps.
pub async fn balances(run: &Run, live: &[Live]) -> Result<(Vec<Party>, Vec<u128>)> {
	let mut cast: Vec<Party> = vec![("DSO (//OEDAS)".into(), run.cast.dso_account())];
	for l in live {
		cast.push((format!("FSP {} ({})", l.plan.name, l.plan.fsp), account(&l.fsp)));
	}
	let mut before = Vec::new();
	for (_, who) in &cast {
		let (free, held) = run.nodes.dso.balance(who).await?;
		before.push(free + held);
	}
	Ok((cast, before))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_window_is_on_a_minute_and_the_gate_before_it() {
		let s = Schedule::ahead(Clock::real(), 1_000_000_123, 15, 45);
		assert_eq!(s.start % MINUTE_MS, 0);
		assert!(s.start >= 1_000_000_123 + 110_000 * 15);
		assert_eq!(s.end - s.start, 45 * MINUTE_MS);
		assert_eq!(s.start - s.gate, 300_000);
	}
}
