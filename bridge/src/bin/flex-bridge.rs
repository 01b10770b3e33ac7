//! `flex-bridge`: the DSO's bridge daemon.

use clap::Parser;
use flex_bridge::{config::Config, daemon};
use std::{path::PathBuf, process::ExitCode};

/// Drives the market's contracted fills on OCPP 1.6J chargers and SunSpec Modbus
/// batteries, meters them every minute and reports delivery to the chain.
#[derive(Parser, Debug)]
#[command(name = "flex-bridge", version)]
struct Cli {
	/// The TOML configuration file.
	#[arg(long, short)]
	config: PathBuf,
	/// Log filter (`RUST_LOG` syntax).
	#[arg(long, default_value = "info")]
	log: String,
}

async fn shutdown() {
	#[cfg(unix)]
	{
		use tokio::signal::unix::{signal, SignalKind};
		match signal(SignalKind::terminate()) {
			Ok(mut term) => tokio::select! {
				_ = tokio::signal::ctrl_c() => {},
				_ = term.recv() => {},
			},
			Err(_) => {
				let _ = tokio::signal::ctrl_c().await;
			},
		}
	}
	#[cfg(not(unix))]
	let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> ExitCode {
	let cli = Cli::parse();
	let filter = tracing_subscriber::EnvFilter::try_from_default_env()
		.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
	tracing_subscriber::fmt().with_env_filter(filter).with_target(true).init();
	let config = match Config::load(&cli.config) {
		Ok(c) => c,
		Err(e) => {
			eprintln!("error: {e}");
			return ExitCode::from(2);
		},
	};
	match daemon::run(config, shutdown()).await {
		Ok(()) => ExitCode::SUCCESS,
		// EX_TEMPFAIL: a service manager restarts the bridge on the new clock.
		Err(e @ daemon::StartError::ClockChanged(_)) => {
			eprintln!("error: {e}");
			ExitCode::from(75)
		},
		Err(e) => {
			eprintln!("error: {e}");
			ExitCode::from(2)
		},
	}
}
