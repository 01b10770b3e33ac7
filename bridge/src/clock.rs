//! Market time: one clock that the chain's market, the bridge and the simulators share.
//!
//! Real deployments run at scale 1. The demo and the tests compress the pilot's
//! 45-minute window into a few minutes by running every process on the same scaled
//! clock: `market = market_epoch + (real - epoch) * scale`, all in Unix milliseconds.
//! The chain keeps the authoritative one (`FlexMarket::Clock`, set by governance);
//! the bridge reads it from there and hands it to the simulators.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A possibly accelerated wall clock in Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clock {
	/// A real instant (Unix ms) ...
	pub epoch_ms: u64,
	/// ... and the market time at that instant.
	pub market_epoch_ms: u64,
	/// Market milliseconds per real millisecond (1.0 in production).
	pub scale: f64,
}

impl Default for Clock {
	fn default() -> Self {
		Self::real()
	}
}

impl Clock {
	/// The real clock.
	pub fn real() -> Self {
		Self { epoch_ms: 0, market_epoch_ms: 0, scale: 1.0 }
	}

	/// A clock running `scale` times faster than real time from `epoch_ms` on, when
	/// it reads real time.
	pub fn scaled(epoch_ms: u64, scale: f64) -> Self {
		Self { epoch_ms, market_epoch_ms: epoch_ms, scale }
	}

	/// A clock that reads `market_epoch_ms` at real instant `epoch_ms` and runs
	/// `scale` times faster than real time (the chain's `MarketClock`).
	pub fn anchored(epoch_ms: u64, market_epoch_ms: u64, scale: f64) -> Self {
		Self { epoch_ms, market_epoch_ms, scale }
	}

	/// Real Unix milliseconds now.
	pub fn real_now_ms() -> u64 {
		SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
	}

	/// Market time now, Unix milliseconds.
	pub fn now_ms(&self) -> u64 {
		self.market_of_real(Self::real_now_ms())
	}

	/// Market time of a real instant.
	pub fn market_of_real(&self, real_ms: u64) -> u64 {
		let delta = real_ms as f64 - self.epoch_ms as f64;
		(self.market_epoch_ms as f64 + delta * self.scale).max(0.0).round() as u64
	}

	/// Real instant of a market time.
	pub fn real_of_market(&self, market_ms: u64) -> u64 {
		let delta = market_ms as f64 - self.market_epoch_ms as f64;
		(self.epoch_ms as f64 + delta / self.scale).max(0.0).round() as u64
	}

	/// Real duration that a span of market time takes.
	pub fn real_duration(&self, market: Duration) -> Duration {
		Duration::from_secs_f64(market.as_secs_f64() / self.scale)
	}

	/// Sleep until the market clock reads `market_ms` (returns at once if it already did).
	pub async fn sleep_until(&self, market_ms: u64) {
		let now = Self::real_now_ms();
		let target = self.real_of_market(market_ms);
		if target > now {
			tokio::time::sleep(Duration::from_millis(target - now)).await;
		}
	}

	/// The first multiple of `step_ms` in market time strictly after `market_ms`.
	pub fn next_aligned(market_ms: u64, step_ms: u64) -> u64 {
		(market_ms / step_ms + 1) * step_ms
	}

	/// Describes the clock for logs and reports.
	pub fn describe(&self) -> String {
		if self.scale == 1.0 && self.epoch_ms == self.market_epoch_ms {
			"real time (scale 1)".into()
		} else {
			format!(
				"market time at {}x real time (market {} ms at real {} ms)",
				self.scale, self.market_epoch_ms, self.epoch_ms
			)
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn scaled_clock_maps_both_ways() {
		let c = Clock::scaled(1_000_000, 15.0);
		assert_eq!(c.market_of_real(1_000_000), 1_000_000);
		assert_eq!(c.market_of_real(1_004_000), 1_060_000);
		assert_eq!(c.real_of_market(1_060_000), 1_004_000);
		assert_eq!(c.real_duration(Duration::from_secs(45 * 60)), Duration::from_secs(180));
	}

	#[test]
	fn anchored_clock_goes_on_from_its_market_epoch() {
		let c = Clock::anchored(1_000_000, 5_000_000, 15.0);
		assert_eq!(c.market_of_real(1_004_000), 5_060_000);
		assert_eq!(c.real_of_market(5_060_000), 1_004_000);
	}

	#[test]
	fn alignment_is_strictly_after() {
		assert_eq!(Clock::next_aligned(59_999, 60_000), 60_000);
		assert_eq!(Clock::next_aligned(60_000, 60_000), 120_000);
	}
}
