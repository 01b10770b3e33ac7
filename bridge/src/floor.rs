//! The owner's state-of-charge floor, kept exactly.
//!
//! Checked once a metering minute, a 10 kW battery that does not stop on its own runs
//! up to a minute (~167 Wh) below its floor. Instead the bridge predicts when the
//! floor will be crossed, from the state of charge, the energy per percent (the
//! device's rating, or what the window's export register and SoC showed so far) and
//! the power; it reads the device more often as the crossing nears and stops it at
//! the predicted instant.

use serde::{Deserialize, Serialize};

/// Market ms before a predicted crossing within which the bridge stops at the crossing
/// instead of reading once more.
pub const NEAR_MS: u64 = 3_000;
/// Shortest wait between two reads as the floor nears, market ms.
pub const MIN_STEP_MS: u64 = 1_000;
/// SoC drop (percentage points) over which the energy per percent is estimated when
/// the device does not tell its capacity.
const MIN_DROP_PCT: f64 = 0.5;

/// A reading of a device at any instant (not only on the minute).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
	/// When the bridge got it, market ms.
	pub at_ms: u64,
	/// Export register, Wh.
	pub exported_wh: f64,
	/// Import register, Wh.
	pub imported_wh: f64,
	/// Power, W (positive = export).
	pub power_w: f64,
	/// State of charge, percent.
	pub soc_percent: Option<f64>,
	/// Usable capacity the device states, Wh.
	pub capacity_wh: Option<f64>,
}

/// What to do next about the floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
	/// Stop now: the floor is reached.
	StopNow,
	/// Stop at this market time (the predicted crossing is close).
	StopAt(u64),
	/// Read the device again at this market time.
	ReadAt(u64),
	/// Nothing to predict: keep the metering minute's pace.
	Minute,
}

/// Watches one discharge against its floor.
#[derive(Clone, Debug, PartialEq)]
pub struct FloorWatch {
	/// The floor, percent.
	pub floor_percent: f64,
	base: Option<Snapshot>,
}

impl Snapshot {
	/// The minute sample this reading gives, filed under `at_ms`.
	pub fn sample(&self, at_ms: u64) -> crate::metering::Sample {
		let register = |wh: f64| wh.round().max(0.0) as u64;
		crate::metering::Sample {
			at_ms,
			exported_wh: register(self.exported_wh),
			imported_wh: register(self.imported_wh),
			power_w: self.power_w.round() as i64,
			soc_permille: self.soc_percent.map(|p| (p * 10.0).round().clamp(0.0, 1000.0) as u16),
		}
	}
}

impl FloorWatch {
	/// A watch of `floor_percent`.
	pub fn new(floor_percent: f64) -> Self {
		Self { floor_percent, base: None }
	}

	/// Takes a reading: the first with a state of charge is the base of the estimate.
	pub fn observe(&mut self, s: &Snapshot) {
		if self.base.is_none() && s.soc_percent.is_some() {
			self.base = Some(*s);
		}
	}

	/// Wh per percentage point of state of charge.
	pub fn wh_per_percent(&self, s: &Snapshot) -> Option<f64> {
		if let Some(c) = s.capacity_wh.filter(|c| *c > 0.0) {
			return Some(c / 100.0);
		}
		let base = self.base?;
		let drop = base.soc_percent? - s.soc_percent?;
		let wh = s.exported_wh - base.exported_wh;
		(drop >= MIN_DROP_PCT && wh > 0.0).then(|| wh / drop)
	}

	/// The market time at which the floor will be crossed at the reading's power.
	pub fn crossing_ms(&self, s: &Snapshot) -> Option<u64> {
		let soc = s.soc_percent?;
		if soc <= self.floor_percent {
			return Some(s.at_ms);
		}
		if s.power_w < 1.0 {
			return None;
		}
		let wh = (soc - self.floor_percent) * self.wh_per_percent(s)?;
		Some(s.at_ms + (wh / s.power_w * 3_600_000.0).round() as u64)
	}

	/// What to do after reading `s` at market time `now_ms`, when the next metering
	/// minute's check is at `minute_ms`.
	pub fn next(&self, s: &Snapshot, now_ms: u64, minute_ms: u64) -> Next {
		if s.soc_percent.is_some_and(|soc| soc <= self.floor_percent) {
			return Next::StopNow;
		}
		let Some(cross) = self.crossing_ms(s) else { return Next::Minute };
		if cross <= now_ms {
			Next::StopNow
		} else if cross <= now_ms + NEAR_MS {
			Next::StopAt(cross)
		} else if cross < minute_ms + NEAR_MS {
			// Halve the distance: the nearer the floor, the fresher the reading.
			Next::ReadAt(now_ms + ((cross - now_ms) / 2).max(MIN_STEP_MS))
		} else {
			Next::Minute
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn snap(at_s: u64, exported_wh: f64, soc: f64) -> Snapshot {
		Snapshot {
			at_ms: at_s * 1_000,
			exported_wh,
			imported_wh: 0.0,
			power_w: 10_000.0,
			soc_percent: Some(soc),
			capacity_wh: None,
		}
	}

	#[test]
	fn the_crossing_comes_from_the_stated_capacity_or_the_window_so_far() {
		let mut w = FloorWatch::new(20.0);
		// 13.5 kWh, 1 % above the floor at 10 kW: 135 Wh, 48.6 s.
		let s = Snapshot { capacity_wh: Some(13_500.0), ..snap(100, 0.0, 21.0) };
		assert_eq!(w.crossing_ms(&s), Some(148_600));
		// Without a capacity: nothing until half a percent has gone.
		w.observe(&snap(0, 1_000.0, 30.0));
		assert_eq!(w.crossing_ms(&snap(10, 1_027.0, 29.8)), None);
		// 400 Wh for 1 % (a 40 kWh car): 9 % left is 3.6 kWh, 1296 s at 10 kW.
		assert_eq!(w.crossing_ms(&snap(144, 1_400.0, 29.0)), Some((144 + 1_296) * 1_000));
		assert_eq!(w.crossing_ms(&snap(144, 1_400.0, 19.9)), Some(144_000));
		let idle = Snapshot { power_w: 0.0, ..snap(144, 1_400.0, 29.0) };
		assert_eq!(w.crossing_ms(&idle), None);
	}

	#[test]
	fn reads_come_faster_as_the_floor_nears_and_the_stop_lands_on_it() {
		let w = FloorWatch::new(20.0);
		let at = |soc: f64, now_s: u64| Snapshot {
			capacity_wh: Some(13_500.0),
			..snap(now_s, 0.0, soc)
		};
		// 5 % above: 243 s away, beyond the next minute: the minute's pace.
		assert_eq!(w.next(&at(25.0, 0), 0, 60_000), Next::Minute);
		// 1 % above: 48.6 s away, before the next minute: read again halfway.
		assert_eq!(w.next(&at(21.0, 0), 0, 60_000), Next::ReadAt(24_300));
		// 0.05 % above: 2.4 s away: stop at the crossing.
		assert_eq!(w.next(&at(20.05, 10), 10_000, 60_000), Next::StopAt(12_430));
		assert_eq!(w.next(&at(20.0, 10), 10_000, 60_000), Next::StopNow);
		// The halving never goes below the shortest step.
		assert_eq!(w.next(&at(20.1, 0), 0, 60_000), Next::ReadAt(2_430));
	}
}
