//! `sim-battery`: a stationary battery behind a SunSpec Modbus TCP server.

use clap::Parser;
use flex_bridge::{
	clock::Clock,
	metering::MINUTE_MS,
	sim::{
		battery::{self, Battery, BatteryConfig, SocModel},
		SimArgs,
	},
};
use std::{
	process::ExitCode,
	sync::{Arc, Mutex},
};

/// Serves SunSpec models 1, 701, 704, 713 and 124 from register 40000, with
/// state-of-charge physics on the (possibly accelerated) market clock.
#[derive(Parser, Debug)]
#[command(name = "sim-battery", version)]
struct Cli {
	/// Address to listen on.
	#[arg(long, default_value = "127.0.0.1:5020")]
	listen: String,
	/// Modbus unit id.
	#[arg(long, default_value_t = 1)]
	unit: u8,
	/// Usable capacity, Wh.
	#[arg(long, default_value_t = 13_500.0)]
	capacity_wh: f64,
	/// State of charge at start, percent.
	#[arg(long, default_value_t = 73.4)]
	soc: f64,
	/// Largest charge and discharge power, W.
	#[arg(long, default_value_t = 10_000.0)]
	max_power_w: f64,
	/// The battery's own reserve, percent.
	#[arg(long, default_value_t = 5.0)]
	reserve: f64,
	/// Serial number.
	#[arg(long, default_value = "SIM-BAT-1")]
	serial: String,
	/// Number of batteries, on consecutive ports from `--listen`'s (for load tests).
	#[arg(long, default_value_t = 1)]
	count: u16,
	/// Model carrying the state of charge besides 124: `713` (DER storage) or `802` (battery).
	#[arg(long, value_enum, default_value = "713")]
	soc_model: SocModel,
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
	let clock = cli.sim.clock();
	let Ok(first) = cli.listen.parse::<std::net::SocketAddr>() else {
		eprintln!("error: --listen must be host:port, got {}", cli.listen);
		return ExitCode::from(2);
	};
	let mut servers = tokio::task::JoinSet::new();
	let mut status = None;
	for i in 0..cli.count.max(1) {
		let mut addr = first;
		addr.set_port(first.port().saturating_add(i));
		let listener = match tokio::net::TcpListener::bind(addr).await {
			Ok(l) => l,
			Err(e) => {
				eprintln!("error: cannot listen on {addr}: {e}");
				return ExitCode::from(2);
			},
		};
		let serial = if cli.count > 1 { format!("{}-{i}", cli.serial) } else { cli.serial.clone() };
		let battery = Arc::new(Mutex::new(Battery::new(BatteryConfig {
			capacity_wh: cli.capacity_wh,
			initial_soc_percent: cli.soc,
			max_power_w: cli.max_power_w,
			reserve_soc_percent: cli.reserve,
			unit_id: cli.unit,
			serial,
			clock,
			soc_model: cli.soc_model,
		})));
		status.get_or_insert_with(|| battery.clone());
		servers.spawn(battery::serve(listener, battery));
	}
	println!(
		"sim-battery {}: {} SunSpec Modbus TCP server(s) from {first}, unit {}, {}",
		cli.serial,
		cli.count,
		cli.unit,
		clock.describe()
	);
	let status = status.expect("at least one battery");
	{
		let (sim, battery) = (cli.sim.clone(), status.clone());
		tokio::spawn(async move {
			sim.outage(|online| {
				if let Ok(mut b) = battery.lock() {
					b.set_online(online);
				}
			})
			.await
		});
	}
	tokio::spawn(async move {
		loop {
			clock.sleep_until(Clock::next_aligned(clock.now_ms(), MINUTE_MS)).await;
			let Ok(mut b) = status.lock() else { return };
			b.refresh();
			let s = &b.storage;
			println!(
				"sim-battery {}: t={} power {:.0} W, SoC {:.1} %, exported {:.0} Wh",
				cli.serial,
				clock.now_ms(),
				s.power_w,
				s.soc_percent(),
				s.exported_wh
			);
		}
	});
	tokio::select! {
		Some(Ok(Err(e))) = servers.join_next() => { eprintln!("error: {e}"); return ExitCode::FAILURE; },
		_ = tokio::signal::ctrl_c() => {},
	}
	ExitCode::SUCCESS
}
