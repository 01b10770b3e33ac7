//! One-minute meter samples, delivered energy per fill and the Merkle root of the
//! samples behind it (the root the oracle posts with its delivery report), and the
//! plausibility rules readings must pass: the bridge's clock, registers that never run
//! backwards, and a cap of contracted power × window × (1 + tolerance) per fill.

use crate::anomaly::AnomalyKind;
use blake2::{digest::consts::U32, Blake2b, Digest};
use serde::{Deserialize, Serialize};

/// Market milliseconds in a metering interval.
pub const MINUTE_MS: u64 = 60_000;
/// Default tolerance above contracted power × window, percent: a meter's class
/// accuracy (1-2 %) and the rounding of the minute registers.
pub const DEFAULT_TOLERANCE_PERCENT: f64 = 2.0;
/// Default largest difference between a device's timestamp and the bridge's clock,
/// market seconds.
pub const DEFAULT_MAX_CLOCK_SKEW_S: u64 = 120;

/// A meter reading of one asset at one minute of market time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
	/// Start of the minute the reading belongs to (market time, Unix ms, minute-aligned).
	pub at_ms: u64,
	/// Export register, Wh.
	pub exported_wh: u64,
	/// Import register, Wh.
	pub imported_wh: u64,
	/// Active power, W (positive = export).
	pub power_w: i64,
	/// State of charge in tenths of a percent, if known.
	pub soc_permille: Option<u16>,
}

/// The minute that `ms` falls in.
pub fn minute_of(ms: u64) -> u64 {
	ms - ms % MINUTE_MS
}

/// The minute nearest to `ms` (a reading taken a little late still counts for its minute).
pub fn nearest_minute(ms: u64) -> u64 {
	minute_of(ms + MINUTE_MS / 2)
}

/// Which register a delivery counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Register {
	/// Export (discharge, generation): upward flexibility.
	Export,
	/// Import (charge, consumption): downward flexibility.
	Import,
}

impl Register {
	/// The register's value in `s`, Wh.
	pub fn of(self, s: &Sample) -> u64 {
		match self {
			Register::Export => s.exported_wh,
			Register::Import => s.imported_wh,
		}
	}
}

/// Energy delivered in `[start_ms, end_ms]`: the register at the last sample of the
/// window minus the register at its first. Minutes without a sample count for nothing
/// beyond what the registers show, so a device that went quiet is paid for what it
/// metered. Fewer than two samples in the window deliver nothing.
pub fn delivered_wh(samples: &[Sample], start_ms: u64, end_ms: u64, register: Register) -> u64 {
	let inside: Vec<&Sample> =
		samples.iter().filter(|s| s.at_ms >= start_ms && s.at_ms <= end_ms).collect();
	match (inside.iter().min_by_key(|s| s.at_ms), inside.iter().max_by_key(|s| s.at_ms)) {
		(Some(first), Some(last)) => register.of(last).saturating_sub(register.of(first)),
		_ => 0,
	}
}

/// The tolerances the bridge meters with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeteringPolicy {
	/// A fill reports at most power × window × (1 + `tolerance_percent` / 100).
	pub tolerance_percent: f64,
	/// A device's timestamp may differ from the bridge's clock at arrival by at most
	/// this much, market ms; further off, the reading is refused.
	pub max_clock_skew_ms: u64,
}

impl Default for MeteringPolicy {
	fn default() -> Self {
		Self {
			tolerance_percent: DEFAULT_TOLERANCE_PERCENT,
			max_clock_skew_ms: DEFAULT_MAX_CLOCK_SKEW_S * 1_000,
		}
	}
}

impl MeteringPolicy {
	/// The most a fill of `power_w` over `[start_ms, end_ms]` may report, Wh.
	pub fn cap_wh(&self, power_w: u64, start_ms: u64, end_ms: u64) -> u64 {
		let contracted = power_w as f64 * end_ms.saturating_sub(start_ms) as f64 / 3_600_000.0;
		(contracted * (1.0 + self.tolerance_percent / 100.0)).floor() as u64
	}

	/// Checks the device's timestamp of a reading against the bridge's clock when it
	/// arrived (both market ms).
	pub fn check_clock(&self, device_ms: u64, received_ms: u64) -> Result<(), AnomalyKind> {
		if device_ms > received_ms.saturating_add(self.max_clock_skew_ms) {
			Err(AnomalyKind::FutureDated)
		} else if device_ms.saturating_add(self.max_clock_skew_ms) < received_ms {
			Err(AnomalyKind::Stale)
		} else {
			Ok(())
		}
	}
}

/// A reading whose register runs against a neighbouring sample's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backwards {
	/// The register.
	pub register: Register,
	/// The neighbour's minute.
	pub neighbour_ms: u64,
	/// The neighbour's register, Wh.
	pub neighbour_wh: u64,
	/// The new reading's register, Wh.
	pub wh: u64,
}

impl std::fmt::Display for Backwards {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		write!(
			f,
			"{:?} register {} Wh against {} Wh at {} ms",
			self.register, self.wh, self.neighbour_wh, self.neighbour_ms
		)
	}
}

/// Checks that `new` keeps both registers monotonic between the sample before it
/// (`prev`) and the one after it (`next`).
pub fn check_monotonic(
	prev: Option<&Sample>,
	new: &Sample,
	next: Option<&Sample>,
) -> Result<(), Backwards> {
	for register in [Register::Export, Register::Import] {
		let wh = register.of(new);
		if let Some(p) = prev.filter(|p| register.of(p) > wh) {
			return Err(Backwards {
				register,
				neighbour_ms: p.at_ms,
				neighbour_wh: register.of(p),
				wh,
			});
		}
		if let Some(n) = next.filter(|n| register.of(n) < wh) {
			return Err(Backwards {
				register,
				neighbour_ms: n.at_ms,
				neighbour_wh: register.of(n),
				wh,
			});
		}
	}
	Ok(())
}

type Blake2b256 = Blake2b<U32>;

fn hash(parts: &[&[u8]]) -> [u8; 32] {
	let mut h = Blake2b256::new();
	for p in parts {
		h.update(p);
	}
	h.finalize().into()
}

/// The leaf of one sample: BLAKE2b-256 of asset id, minute, registers, power and
/// state of charge, each little-endian (SoC `0xFFFF` when unknown).
pub fn leaf(asset: u32, s: &Sample) -> [u8; 32] {
	hash(&[
		&asset.to_le_bytes(),
		&s.at_ms.to_le_bytes(),
		&s.exported_wh.to_le_bytes(),
		&s.imported_wh.to_le_bytes(),
		&s.power_w.to_le_bytes(),
		&s.soc_permille.unwrap_or(u16::MAX).to_le_bytes(),
	])
}

/// Merkle root over the samples in time order: pairs hashed with BLAKE2b-256, an odd
/// last node carried up unchanged; all zeros for no samples.
pub fn samples_root(asset: u32, samples: &[Sample]) -> [u8; 32] {
	let mut sorted: Vec<&Sample> = samples.iter().collect();
	sorted.sort_by_key(|s| s.at_ms);
	let mut level: Vec<[u8; 32]> = sorted.iter().map(|s| leaf(asset, s)).collect();
	if level.is_empty() {
		return [0; 32];
	}
	while level.len() > 1 {
		level = level
			.chunks(2)
			.map(|p| if p.len() == 2 { hash(&[&p[0], &p[1]]) } else { p[0] })
			.collect();
	}
	level[0]
}

#[cfg(test)]
mod tests {
	use super::*;

	fn s(minute: u64, wh: u64) -> Sample {
		Sample {
			at_ms: minute * MINUTE_MS,
			exported_wh: wh,
			imported_wh: 0,
			power_w: 0,
			soc_permille: None,
		}
	}

	#[test]
	fn minutes() {
		assert_eq!(minute_of(119_999), 60_000);
		assert_eq!(nearest_minute(89_000), 60_000);
		assert_eq!(nearest_minute(91_000), 120_000);
	}

	#[test]
	fn delivered_is_the_register_difference_inside_the_window() {
		// 45 one-minute steps at 10 kW (166.67 Wh a minute) until the floor at minute 43.
		let samples: Vec<Sample> = (0..=50)
			.map(|m| s(m, 1_000 + (m.min(43) as f64 * 10_000.0 / 60.0).floor() as u64))
			.collect();
		let d = delivered_wh(&samples, 0, 45 * MINUTE_MS, Register::Export);
		assert_eq!(d, 7_166);
		// A gap in the middle changes nothing; a missing tail counts up to the last sample.
		let gappy: Vec<Sample> = samples
			.iter()
			.copied()
			.filter(|x| !(10..20).contains(&(x.at_ms / MINUTE_MS)))
			.collect();
		assert_eq!(delivered_wh(&gappy, 0, 45 * MINUTE_MS, Register::Export), 7_166);
		let early: Vec<Sample> =
			samples.iter().copied().filter(|x| x.at_ms <= 30 * MINUTE_MS).collect();
		assert_eq!(delivered_wh(&early, 0, 45 * MINUTE_MS, Register::Export), 5_000);
		assert_eq!(delivered_wh(&samples[..1], 0, 45 * MINUTE_MS, Register::Export), 0);
		assert_eq!(delivered_wh(&samples, 0, 45 * MINUTE_MS, Register::Import), 0);
	}

	#[test]
	fn the_cap_is_power_times_window_plus_the_tolerance() {
		let p = MeteringPolicy::default();
		// The pilot's fill: 10 kW for 45 minutes is 7.5 kWh, 7.65 kWh with 2 %.
		assert_eq!(p.cap_wh(10_000, 0, 45 * MINUTE_MS), 7_650);
		let strict = MeteringPolicy { tolerance_percent: 0.0, ..p };
		assert_eq!(strict.cap_wh(10_000, 0, 45 * MINUTE_MS), 7_500);
		assert_eq!(p.cap_wh(10_000, 45 * MINUTE_MS, 0), 0);
	}

	#[test]
	fn device_clocks_are_checked_against_the_bridges() {
		let p = MeteringPolicy { max_clock_skew_ms: 60_000, ..Default::default() };
		let now = 10 * MINUTE_MS;
		assert_eq!(p.check_clock(now + 60_000, now), Ok(()));
		assert_eq!(p.check_clock(now - 60_000, now), Ok(()));
		assert_eq!(p.check_clock(now + 60_001, now), Err(AnomalyKind::FutureDated));
		assert_eq!(p.check_clock(now - 60_001, now), Err(AnomalyKind::Stale));
		assert_eq!(p.check_clock(u64::MAX, now), Err(AnomalyKind::FutureDated));
		assert_eq!(p.check_clock(0, now), Err(AnomalyKind::Stale));
	}

	#[test]
	fn registers_may_not_run_backwards_either_side() {
		let (a, b, c) = (s(1, 100), s(2, 150), s(3, 200));
		assert_eq!(check_monotonic(Some(&a), &b, Some(&c)), Ok(()));
		assert_eq!(check_monotonic(None, &a, None), Ok(()));
		let low = s(2, 90);
		let e = check_monotonic(Some(&a), &low, Some(&c)).unwrap_err();
		assert_eq!((e.register, e.neighbour_wh, e.wh), (Register::Export, 100, 90));
		let high = s(2, 250);
		assert_eq!(check_monotonic(Some(&a), &high, Some(&c)).unwrap_err().neighbour_ms, c.at_ms);
		let import_back = Sample { imported_wh: 5, ..s(2, 150) };
		let prev = Sample { imported_wh: 6, ..a };
		assert_eq!(
			check_monotonic(Some(&prev), &import_back, None).unwrap_err().register,
			Register::Import
		);
	}

	#[test]
	fn root_depends_on_every_sample_and_not_on_order() {
		let a: Vec<Sample> = (0..5).map(|m| s(m, m * 100)).collect();
		let mut b = a.clone();
		b.reverse();
		assert_eq!(samples_root(1, &a), samples_root(1, &b));
		assert_ne!(samples_root(1, &a), samples_root(2, &a));
		let mut c = a.clone();
		c[3].exported_wh += 1;
		assert_ne!(samples_root(1, &a), samples_root(1, &c));
		assert_eq!(samples_root(1, &[]), [0; 32]);
		assert_eq!(samples_root(1, &a[..1]), leaf(1, &a[0]));
		let l: Vec<[u8; 32]> = a[..3].iter().map(|x| leaf(1, x)).collect();
		assert_eq!(samples_root(1, &a[..3]), hash(&[&hash(&[&l[0], &l[1]]), &l[2]]));
	}
}
