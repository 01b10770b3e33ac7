//! One-minute meter samples, delivered energy per fill and the Merkle root of the
//! samples behind it (the root the oracle posts with its delivery report).

use blake2::{digest::consts::U32, Blake2b, Digest};
use serde::{Deserialize, Serialize};

/// Market milliseconds in a metering interval.
pub const MINUTE_MS: u64 = 60_000;

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

/// Energy delivered in `[start_ms, end_ms]`: the register at the last sample of the
/// window minus the register at its first. Minutes without a sample count for nothing
/// beyond what the registers show, so a device that went quiet is paid for what it
/// metered. Fewer than two samples in the window deliver nothing.
pub fn delivered_wh(samples: &[Sample], start_ms: u64, end_ms: u64, register: Register) -> u64 {
	let inside: Vec<&Sample> =
		samples.iter().filter(|s| s.at_ms >= start_ms && s.at_ms <= end_ms).collect();
	let value = |s: &Sample| match register {
		Register::Export => s.exported_wh,
		Register::Import => s.imported_wh,
	};
	match (inside.iter().min_by_key(|s| s.at_ms), inside.iter().max_by_key(|s| s.at_ms)) {
		(Some(first), Some(last)) => value(last).saturating_sub(value(first)),
		_ => 0,
	}
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
