//! The LV transformer: a base load profile plus the metered power of the assets.
//!
//! The base is the shipped SimBench week (`data/`), its Monday 16:00 aligned with the
//! window's start as in the pilot; the load with flexibility subtracts, minute by
//! minute, the power the bridge metered at each asset.

use anyhow::{bail, Context, Result};
use serde::Serialize;

/// The shipped profile (SimBench `1-LV-semiurb5--0-sw`, ODbL; see `data/README.md`).
const SHIPPED: &str = include_str!("../data/lv-transformer-semiurb5-2016-10-10.csv");
/// Monday 16:00, the pilot's window start, in minutes from the profile's start.
pub const PILOT_MINUTE: f64 = 16.0 * 60.0;

/// A load profile in equal steps.
#[derive(Clone, Debug)]
pub struct Profile {
	step_min: f64,
	kw: Vec<f64>,
}

impl Profile {
	/// The profile shipped with the demo.
	pub fn shipped() -> Result<Self> {
		Self::parse(SHIPPED)
	}

	/// Parses `time,...,transformer_kw` rows in 15-minute steps.
	pub fn parse(csv: &str) -> Result<Self> {
		let mut lines = csv.lines();
		let header = lines.next().context("empty profile")?;
		let col = header
			.split(',')
			.position(|c| c.trim() == "transformer_kw")
			.context("profile has no transformer_kw column")?;
		let mut kw = Vec::new();
		for (i, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
			let v =
				line.split(',').nth(col).and_then(|v| v.trim().parse::<f64>().ok()).with_context(
					|| format!("profile line {}: no number in transformer_kw", i + 2),
				)?;
			kw.push(v);
		}
		if kw.len() < 2 {
			bail!("profile needs at least two rows");
		}
		Ok(Self { step_min: 15.0, kw })
	}

	/// Load at `minute` from the profile's start, linearly interpolated.
	pub fn at(&self, minute: f64) -> f64 {
		let x = (minute / self.step_min).clamp(0.0, (self.kw.len() - 1) as f64);
		let i = (x.floor() as usize).min(self.kw.len() - 2);
		let f = x - i as f64;
		self.kw[i] * (1.0 - f) + self.kw[i + 1] * f
	}
}

/// One minute of the transformer's load.
#[derive(Clone, Debug, Serialize)]
pub struct LoadPoint {
	/// Minute of the window.
	pub minute: u32,
	/// Base load without flexibility, kW.
	pub base_kw: f64,
	/// Metered power of all dispatched assets, kW (export positive).
	pub flex_kw: f64,
	/// Load with flexibility, kW.
	pub load_kw: f64,
}

/// Peak and average before and after.
#[derive(Clone, Debug, Serialize)]
pub struct LoadSummary {
	/// Peak of the base load in the window, kW.
	pub peak_before_kw: f64,
	/// Peak with flexibility, kW.
	pub peak_after_kw: f64,
	/// Average base load, kW.
	pub avg_before_kw: f64,
	/// Average load with flexibility, kW.
	pub avg_after_kw: f64,
	/// Reduction of the average load, percent.
	pub reduction_percent: f64,
	/// Reduction of the peak, percent.
	pub peak_reduction_percent: f64,
}

/// The transformer model of a run.
#[derive(Clone, Debug)]
pub struct Transformer {
	/// The base profile.
	pub profile: Profile,
	/// Factor applied to the profile.
	pub scale: f64,
}

impl Transformer {
	/// The load series of a window of `minutes`, given each asset's metered power per
	/// minute (kW, one entry per minute).
	pub fn series(&self, minutes: u32, assets_kw: &[Vec<f64>]) -> Vec<LoadPoint> {
		(0..minutes)
			.map(|m| {
				let base_kw = self.scale * self.profile.at(PILOT_MINUTE + m as f64 + 0.5);
				let flex_kw: f64 =
					assets_kw.iter().map(|a| a.get(m as usize).copied().unwrap_or(0.0)).sum();
				LoadPoint { minute: m, base_kw, flex_kw, load_kw: base_kw - flex_kw }
			})
			.collect()
	}
}

/// Peak and average of a series before and after flexibility.
pub fn summarize(series: &[LoadPoint]) -> LoadSummary {
	let n = series.len().max(1) as f64;
	let peak = |f: fn(&LoadPoint) -> f64| series.iter().map(f).fold(f64::MIN, f64::max);
	let (peak_before_kw, peak_after_kw) = (peak(|p| p.base_kw), peak(|p| p.load_kw));
	let avg_before_kw = series.iter().map(|p| p.base_kw).sum::<f64>() / n;
	let avg_after_kw = series.iter().map(|p| p.load_kw).sum::<f64>() / n;
	LoadSummary {
		peak_before_kw,
		peak_after_kw,
		avg_before_kw,
		avg_after_kw,
		reduction_percent: 100.0 * (avg_before_kw - avg_after_kw) / avg_before_kw,
		peak_reduction_percent: 100.0 * (peak_before_kw - peak_after_kw) / peak_before_kw,
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_shipped_profile_has_the_monday_afternoon() {
		let p = Profile::shipped().unwrap();
		assert_eq!(p.kw.len(), 672);
		assert!((p.at(PILOT_MINUTE) - 49.73).abs() < 1e-9);
		assert!((p.at(PILOT_MINUTE + 7.5) - (49.73 + 59.0) / 2.0).abs() < 1e-9);
	}

	#[test]
	fn the_reduction_comes_from_the_series() {
		let t = Transformer {
			profile: Profile::parse("t,transformer_kw\na,100\nb,100\n").unwrap(),
			scale: 1.0,
		};
		let s = t.series(4, &[vec![10.0, 10.0, 10.0, 10.0], vec![10.0, 10.0, 0.0]]);
		assert_eq!(s[2].load_kw, 90.0);
		let sum = summarize(&s);
		assert_eq!((sum.avg_before_kw, sum.avg_after_kw), (100.0, 85.0));
		assert!((sum.reduction_percent - 15.0).abs() < 1e-9);
		assert_eq!(sum.peak_after_kw, 90.0);
	}

	#[test]
	fn a_bad_profile_is_refused() {
		assert!(Profile::parse("time,load_kw\nx,1\n").is_err());
		assert!(Profile::parse("time,transformer_kw\nx,abc\ny,2\n").is_err());
	}
}
