//! State-of-charge physics shared by the simulated battery and the simulated car.
//!
//! Power follows the setpoint within the device's limits; discharging stops at the
//! reserve state of charge, charging at full. Energy registers count what crossed
//! the meter, so a floor reached mid-window shows up as delivery below the contract.

/// A storage device integrated over market time (positive power = export).
#[derive(Clone, Debug, PartialEq)]
pub struct Storage {
	/// Usable capacity in Wh.
	pub capacity_wh: f64,
	/// State of charge, 0.0 to 1.0.
	pub soc: f64,
	/// Largest export (discharge) power in W.
	pub max_export_w: f64,
	/// Largest import (charge) power in W.
	pub max_import_w: f64,
	/// The device stops exporting at this state of charge.
	pub reserve_soc: f64,
	/// Requested power in W, positive = export.
	pub setpoint_w: f64,
	/// Power applied over the last step in W.
	pub power_w: f64,
	/// Energy exported since manufacture, Wh.
	pub exported_wh: f64,
	/// Energy imported since manufacture, Wh.
	pub imported_wh: f64,
	/// Market time (ms) when the setpoint reverts to zero, if a reversion timer runs.
	pub revert_at_ms: Option<u64>,
	/// Market time (ms) the state is computed for.
	pub at_ms: u64,
}

impl Storage {
	/// A device at rest.
	pub fn new(capacity_wh: f64, soc: f64, max_w: f64, reserve_soc: f64, at_ms: u64) -> Self {
		Self {
			capacity_wh,
			soc: soc.clamp(0.0, 1.0),
			max_export_w: max_w,
			max_import_w: max_w,
			reserve_soc: reserve_soc.clamp(0.0, 1.0),
			setpoint_w: 0.0,
			power_w: 0.0,
			exported_wh: 0.0,
			imported_wh: 0.0,
			revert_at_ms: None,
			at_ms,
		}
	}

	/// Advances the state to market time `now_ms`.
	pub fn advance(&mut self, now_ms: u64) {
		while self.at_ms < now_ms {
			let until = match self.revert_at_ms {
				Some(r) if r > self.at_ms && r < now_ms => r,
				_ => now_ms,
			};
			self.step(until);
			if self.revert_at_ms.is_some_and(|r| r <= self.at_ms) {
				self.setpoint_w = 0.0;
				self.revert_at_ms = None;
			}
		}
		if self.revert_at_ms.is_some_and(|r| r <= self.at_ms) {
			self.setpoint_w = 0.0;
			self.revert_at_ms = None;
		}
	}

	fn step(&mut self, until_ms: u64) {
		let hours = (until_ms - self.at_ms) as f64 / 3_600_000.0;
		let wanted = self.setpoint_w.clamp(-self.max_import_w, self.max_export_w);
		let (power, energy) = if wanted > 0.0 {
			let available = ((self.soc - self.reserve_soc) * self.capacity_wh).max(0.0);
			let energy = (wanted * hours).min(available);
			self.exported_wh += energy;
			self.soc -= energy / self.capacity_wh;
			(if energy < wanted * hours { 0.0 } else { wanted }, energy)
		} else if wanted < 0.0 {
			let room = ((1.0 - self.soc) * self.capacity_wh).max(0.0);
			let energy = (-wanted * hours).min(room);
			self.imported_wh += energy;
			self.soc += energy / self.capacity_wh;
			(if energy < -wanted * hours { 0.0 } else { wanted }, -energy)
		} else {
			(0.0, 0.0)
		};
		let _ = energy;
		self.power_w = power;
		self.at_ms = until_ms;
	}

	/// Sets the requested power at market time `now_ms`, with an optional reversion
	/// timeout in seconds of market time.
	pub fn command(&mut self, now_ms: u64, setpoint_w: f64, revert_after_s: Option<u64>) {
		self.advance(now_ms);
		self.setpoint_w = setpoint_w;
		self.revert_at_ms = revert_after_s.filter(|s| *s > 0).map(|s| now_ms + s * 1000);
		let wanted = setpoint_w.clamp(-self.max_import_w, self.max_export_w);
		let blocked =
			(wanted > 0.0 && self.soc <= self.reserve_soc) || (wanted < 0.0 && self.soc >= 1.0);
		self.power_w = if blocked { 0.0 } else { wanted };
	}

	/// Sets the requested power at market time `now_ms` until market time `until_ms`
	/// (a charging profile's `validTo`), when it returns to zero.
	pub fn command_until(&mut self, now_ms: u64, setpoint_w: f64, until_ms: Option<u64>) {
		self.command(now_ms, setpoint_w, None);
		self.revert_at_ms = until_ms;
		if until_ms.is_some_and(|u| u <= now_ms) {
			self.command(now_ms, 0.0, None);
		}
	}

	/// State of charge in percent.
	pub fn soc_percent(&self) -> f64 {
		self.soc * 100.0
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const MIN: u64 = 60_000;

	#[test]
	fn full_power_until_the_reserve_then_nothing() {
		// 13.5 kWh at 73.4 %, reserve 20 %: 7.209 kWh above the floor, less than the
		// 7.5 kWh of 45 minutes at 10 kW.
		let mut b = Storage::new(13_500.0, 0.734, 10_000.0, 0.20, 0);
		b.command(0, 10_000.0, None);
		b.advance(30 * MIN);
		assert!((b.exported_wh - 5_000.0).abs() < 1e-6);
		assert_eq!(b.power_w, 10_000.0);
		b.advance(45 * MIN);
		assert!((b.exported_wh - 7_209.0).abs() < 1e-6, "{}", b.exported_wh);
		assert!((b.soc - 0.20).abs() < 1e-9);
		assert_eq!(b.power_w, 0.0);
	}

	#[test]
	fn limits_reversion_and_charging() {
		let mut b = Storage::new(10_000.0, 0.5, 5_000.0, 0.1, 0);
		b.command(0, 8_000.0, Some(600));
		b.advance(20 * MIN);
		// clamped to 5 kW, reverted after 10 minutes
		assert!((b.exported_wh - 5_000.0 / 6.0).abs() < 1e-6);
		assert_eq!(b.setpoint_w, 0.0);
		assert_eq!(b.power_w, 0.0);
		b.command(20 * MIN, -5_000.0, None);
		b.advance(140 * MIN);
		assert!((b.soc - 1.0).abs() < 1e-9);
		assert_eq!(b.power_w, 0.0);
		b.command(140 * MIN, 1_000.0, None);
		assert_eq!(b.power_w, 1_000.0);
	}
}
