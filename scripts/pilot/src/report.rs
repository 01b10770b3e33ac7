//! The run's report: the pilot's Table III per asset, the transformer's load before and
//! after, and the balances; printed, and written as JSON beside the charts.

use crate::transformer::{LoadPoint, LoadSummary};
use serde::Serialize;
use std::fmt::Write;

/// 1 FLEX in plancks.
const UNIT: f64 = 1e12;

/// One asset's line of Table III.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AssetRow {
	/// Name.
	pub name: String,
	/// What the scenario makes it show.
	pub role: String,
	/// The asset's id on chain.
	pub asset: u32,
	/// The FSP (SS58).
	pub fsp: String,
	/// Offered power, W.
	pub offered_w: u32,
	/// Offered price, FLEX per kWh.
	pub price_per_kwh: f64,
	/// Accepted power, W (0: not in the match).
	pub accepted_w: u32,
	/// Contracted energy, Wh.
	pub contracted_wh: u64,
	/// Delivered energy as settled, Wh.
	pub delivered_wh: u64,
	/// Delivered energy the bridge metered in the window, Wh.
	pub metered_wh: u64,
	/// Delivery rate, percent.
	pub rate_percent: f64,
	/// Paid to the FSP, plancks.
	pub paid: u128,
	/// Penalty deducted, plancks.
	pub penalty: u128,
	/// Delivery reports on chain for its fill.
	pub reports: u32,
	/// Why it was paid what it was.
	pub why: String,
}

/// A balance before and after.
#[derive(Clone, Debug, Serialize)]
pub struct BalanceRow {
	/// Who.
	pub who: String,
	/// Free + held before the market steps, plancks.
	pub before: u128,
	/// Free + held after settlement, plancks.
	pub after: u128,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
	/// Scenario name.
	pub scenario: String,
	/// Market ms per real ms.
	pub scale: f64,
	/// Window start and end, market Unix ms.
	pub window: (u64, u64),
	/// Requested power, W.
	pub requested_w: u32,
	/// Per asset.
	pub assets: Vec<AssetRow>,
	/// Contracted energy in total, Wh.
	pub contracted_wh: u64,
	/// Delivered energy in total, Wh.
	pub delivered_wh: u64,
	/// Paid in total, plancks.
	pub paid: u128,
	/// Held in escrow from the DSO after settlement, plancks.
	pub escrow_after: u128,
	/// The transformer's load, minute by minute.
	pub transformer: Vec<LoadPoint>,
	/// Its peak and average before and after.
	pub load: LoadSummary,
	/// Balances.
	pub balances: Vec<BalanceRow>,
	/// Real seconds the run took from start to settlement.
	pub real_seconds: f64,
}

fn flex(p: u128) -> String {
	format!("{:.3}", p as f64 / UNIT)
}

fn rate(delivered: u64, contracted: u64) -> f64 {
	if contracted == 0 {
		0.0
	} else {
		100.0 * delivered as f64 / contracted as f64
	}
}

impl Report {
	/// The report as printed at the end of a run.
	pub fn text(&self) -> String {
		let mut s = String::new();
		let _ = writeln!(
			s,
			"\n== Results (Table III): {} kW requested, {}-minute window, market clock at {}x ==",
			self.requested_w / 1000,
			(self.window.1 - self.window.0) / 60_000,
			self.scale
		);
		let _ = writeln!(
			s,
			"{:<22} {:>9} {:>10} {:>11} {:>10} {:>7} {:>11} {:>9} {:>7}",
			"Asset",
			"Price/kWh",
			"Accepted",
			"Contracted",
			"Delivered",
			"Rate",
			"Paid",
			"Penalty",
			"Reports"
		);
		for a in &self.assets {
			let _ = writeln!(
				s,
				"{:<22} {:>9.3} {:>7.1} kW {:>7.2} kWh {:>6.2} kWh {:>5.1} % {:>6} FLEX {:>9} {:>7}",
				a.name,
				a.price_per_kwh,
				a.accepted_w as f64 / 1000.0,
				a.contracted_wh as f64 / 1000.0,
				a.delivered_wh as f64 / 1000.0,
				a.rate_percent,
				flex(a.paid),
				flex(a.penalty),
				a.reports
			);
		}
		let accepted: u32 = self.assets.iter().map(|a| a.accepted_w).sum();
		let _ = writeln!(
			s,
			"{:<22} {:>9} {:>7.1} kW {:>7.2} kWh {:>6.2} kWh {:>5.1} % {:>6} FLEX",
			"Total",
			"",
			accepted as f64 / 1000.0,
			self.contracted_wh as f64 / 1000.0,
			self.delivered_wh as f64 / 1000.0,
			rate(self.delivered_wh, self.contracted_wh),
			flex(self.paid)
		);
		let _ = writeln!(s, "\nWhy:");
		for a in &self.assets {
			let _ = writeln!(s, "  {:<22} {}", a.name, a.why);
		}
		let l = &self.load;
		let _ =
			writeln!(s, "\nTransformer load in the window (base profile + metered asset power):");
		let _ = writeln!(
			s,
			"  without flexibility: peak {:.1} kW, average {:.1} kW\n  with flexibility:    peak {:.1} kW, average {:.1} kW\n  reduction: {:.1} % of the average load, {:.1} % of the peak",
			l.peak_before_kw,
			l.avg_before_kw,
			l.peak_after_kw,
			l.avg_after_kw,
			l.reduction_percent,
			l.peak_reduction_percent
		);
		let _ = writeln!(s, "\nBalances (free + held, FLEX; fees and deposits included):");
		for b in &self.balances {
			let delta = b.after as f64 / UNIT - b.before as f64 / UNIT;
			let _ = writeln!(
				s,
				"  {:<34} {:>12} -> {:>12}  ({delta:+.4})",
				b.who,
				flex(b.before),
				flex(b.after)
			);
		}
		let _ = writeln!(
			s,
			"  escrow held from the DSO after settlement: {} FLEX",
			flex(self.escrow_after)
		);
		s
	}
}

/// The per-minute energy (kWh per minute as kW) between register readings at minute
/// boundaries `0..=minutes`; gaps are spread evenly.
pub fn minute_power_kw(readings: &[(u64, i64)], minutes: u64) -> Vec<f64> {
	// (minute, register Wh) known points.
	let known: Vec<(u64, i64)> = readings.iter().copied().filter(|(m, _)| *m <= minutes).collect();
	(0..minutes)
		.map(|m| {
			let before = known.iter().rev().find(|(k, _)| *k <= m);
			let after = known.iter().find(|(k, _)| *k > m);
			match (before, after) {
				(Some((m0, r0)), Some((m1, r1))) => {
					(r1 - r0) as f64 / (m1 - m0) as f64 * 60.0 / 1000.0
				},
				_ => 0.0,
			}
		})
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn minute_power_spreads_gaps() {
		// 10 kW for two minutes, a reading missing at minute 3, then idle.
		let p = minute_power_kw(&[(0, 0), (1, 167), (2, 333), (4, 500), (5, 500)], 5);
		assert!((p[0] - 10.02).abs() < 0.01);
		assert!((p[2] - 5.01).abs() < 0.01 && (p[3] - 5.01).abs() < 0.01);
		assert_eq!(p[4], 0.0);
	}
}
