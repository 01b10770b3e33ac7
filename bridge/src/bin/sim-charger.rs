//! `sim-charger`: a V2G charge point speaking OCPP 1.6J, with a car behind it.

use clap::Parser;
use flex_bridge::{
	clock::Clock,
	metering::MINUTE_MS,
	sim::{
		charger::{ChargerSim, ChargerSimConfig},
		SimArgs,
	},
};
use std::process::ExitCode;

/// Connects to a central system, boots, sends meter values every minute and
/// discharges the car as charging profiles (or a vendor DataTransfer) ask.
#[derive(Parser, Debug)]
#[command(name = "sim-charger", version)]
struct Cli {
	/// Central system URL without the id (`ws://`, or `wss://` with `--ca-cert`).
	#[arg(long, default_value = "ws://127.0.0.1:9000/ocpp")]
	url: String,
	/// PEM file of the certificate authority to trust for a `wss://` URL.
	#[arg(long)]
	ca_cert: Option<std::path::PathBuf>,
	/// Charge point id.
	#[arg(long, default_value = "V2G-1")]
	id: String,
	/// HTTP Basic password.
	#[arg(long)]
	password: Option<String>,
	/// Connector.
	#[arg(long, default_value_t = 1)]
	connector: u32,
	/// The car's usable capacity, Wh.
	#[arg(long, default_value_t = 40_000.0)]
	capacity_wh: f64,
	/// The car's state of charge at start, percent.
	#[arg(long, default_value_t = 47.425)]
	soc: f64,
	/// Largest discharge power, W.
	#[arg(long, default_value_t = 10_000.0)]
	max_power_w: f64,
	/// The car's discharge floor, percent.
	#[arg(long, default_value_t = 30.0)]
	reserve: f64,
	/// Phase voltage for limits in A.
	#[arg(long, default_value_t = 230.0)]
	voltage: f64,
	/// `vendorId:messageId` of the discharge DataTransfer it understands.
	#[arg(long)]
	data_transfer: Option<String>,
	#[command(flatten)]
	sim: SimArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
	let cli = Cli::parse();
	tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new("info")).init();
	if let Err(e) =
		flex_bridge::sim::check_args(cli.sim.scale, cli.capacity_wh, cli.soc, cli.reserve)
	{
		eprintln!("error: {e}");
		return ExitCode::from(2);
	}
	let data_transfer = match cli.data_transfer.as_deref().map(|s| s.split_once(':')) {
		None => None,
		Some(Some((v, m))) => Some((v.to_string(), m.to_string())),
		Some(None) => {
			eprintln!("error: --data-transfer must be vendorId:messageId");
			return ExitCode::from(2);
		},
	};
	let clock = cli.sim.clock();
	let sim = ChargerSim::new(ChargerSimConfig {
		url: cli.url.clone(),
		id: cli.id.clone(),
		password: cli.password.clone(),
		connector: cli.connector,
		capacity_wh: cli.capacity_wh,
		initial_soc_percent: cli.soc,
		max_power_w: cli.max_power_w,
		reserve_soc_percent: cli.reserve,
		voltage: cli.voltage,
		data_transfer,
		clock,
	});
	let sim = match &cli.ca_cert {
		None => sim,
		Some(ca) => match sim.with_ca_cert(ca) {
			Ok(sim) => sim,
			Err(e) => {
				eprintln!("error: --ca-cert {}: {e}", ca.display());
				return ExitCode::from(2);
			},
		},
	};
	println!("sim-charger {}: connecting to {}, {}", cli.id, cli.url, clock.describe());
	{
		let (args, sim) = (cli.sim.clone(), sim.clone());
		tokio::spawn(async move { args.outage(|online| sim.set_online(online)).await });
	}
	let status = sim.clone();
	tokio::spawn(async move {
		loop {
			clock.sleep_until(Clock::next_aligned(clock.now_ms(), MINUTE_MS)).await;
			let Ok(mut s) = status.state.lock() else { return };
			s.storage.advance(clock.now_ms());
			println!(
				"sim-charger {}: t={} power {:.0} W, SoC {:.1} %, exported {:.0} Wh, sessions {}",
				status.config.id,
				clock.now_ms(),
				s.storage.power_w,
				s.storage.soc_percent(),
				s.storage.exported_wh,
				s.sessions
			);
		}
	});
	tokio::select! {
		_ = sim.run() => {},
		_ = tokio::signal::ctrl_c() => {},
	}
	ExitCode::SUCCESS
}
