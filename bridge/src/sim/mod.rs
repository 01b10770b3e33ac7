//! Simulated devices: a SunSpec battery and an OCPP 1.6J V2G charge point.

pub mod battery;
pub mod charger;
pub mod physics;

use crate::clock::Clock;

/// Clock and outage arguments both simulators take.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
	/// Market ms per real ms.
	#[arg(long, default_value_t = 1.0)]
	pub scale: f64,
	/// A real instant, Unix ms ...
	#[arg(long, default_value_t = 0)]
	pub epoch_ms: u64,
	/// ... and the market time then (default: the same).
	#[arg(long)]
	pub market_epoch_ms: Option<u64>,
	/// Drop off the network at this market time, Unix ms.
	#[arg(long)]
	pub offline_at_ms: Option<u64>,
	/// For this long, market seconds.
	#[arg(long, default_value_t = 300)]
	pub offline_for_s: u64,
}

impl SimArgs {
	/// The command-line arguments that give a simulator (ours, or the Python peers of
	/// the interoperability tests, which take the same) the market clock `clock`.
	pub fn clock_args(clock: &Clock) -> Vec<String> {
		vec![
			"--scale".into(),
			clock.scale.to_string(),
			"--epoch-ms".into(),
			clock.epoch_ms.to_string(),
			"--market-epoch-ms".into(),
			clock.market_epoch_ms.to_string(),
		]
	}

	/// The market clock these arguments describe.
	pub fn clock(&self) -> Clock {
		Clock::anchored(self.epoch_ms, self.market_epoch_ms.unwrap_or(self.epoch_ms), self.scale)
	}

	/// Runs `set_online(false)` at the outage's start and `set_online(true)` at its end.
	pub async fn outage(&self, set_online: impl Fn(bool)) {
		let Some(at) = self.offline_at_ms else { return };
		let clock = self.clock();
		clock.sleep_until(at).await;
		println!("simulated outage: offline for {} market seconds", self.offline_for_s);
		set_online(false);
		clock.sleep_until(at + self.offline_for_s * 1_000).await;
		println!("simulated outage over: back online");
		set_online(true);
	}
}

/// Checks the storage and clock arguments both simulators take.
pub fn check_args(
	scale: f64,
	capacity_wh: f64,
	soc: f64,
	reserve: f64,
) -> Result<(), &'static str> {
	let percent = |p: f64| (0.0..=100.0).contains(&p);
	if scale.is_nan()
		|| scale <= 0.0
		|| capacity_wh.is_nan()
		|| capacity_wh <= 0.0
		|| !percent(soc)
		|| !percent(reserve)
	{
		return Err(
			"--scale and --capacity-wh must be above 0, --soc and --reserve between 0 and 100",
		);
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use clap::Parser;

	#[derive(Parser)]
	struct Cli {
		#[command(flatten)]
		sim: SimArgs,
	}

	#[test]
	fn clock_args_give_back_the_clock() {
		let clock = Clock::anchored(1_700_000_000_123, 1_800_000_000_456, 15.0);
		let args = std::iter::once("sim".to_string()).chain(SimArgs::clock_args(&clock));
		assert_eq!(Cli::try_parse_from(args).unwrap().sim.clock(), clock);
	}
}
