//! `flex-pilot`: the README's main command. Starts a dev chain (or a network of four
//! validators), the bridge and simulated devices, replays the EFLEX field pilot (or a
//! competitive scenario) through real extrinsics, OCPP-J and Modbus TCP, and prints
//! Table III. The chain's genesis sets the market clock, the parameters and the cast:
//! the runtime has no sudo. Each phase is a module of [`phases`] over one
//! [`context::Run`].

mod chart;
mod cli;
mod context;
mod genesis;
mod market;
mod phases;
mod procs;
mod report;
mod rpc;
mod scenario;
mod transformer;

use anyhow::Result;
use clap::Parser;
use cli::Cli;
use context::{prepare, say, Bins, Cast, Ports, Run};
use phases::{chain::Launch, report::Outcome};
use procs::Procs;
use std::{process::ExitCode, time::Instant};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
	let cli = Cli::parse();
	let scenario = match cli.scenario() {
		Ok(s) => s,
		Err(e) => {
			eprintln!("error: {e}");
			return ExitCode::from(2);
		},
	};
	let procs = Procs::default();
	let outcome = tokio::select! {
		r = run(cli, scenario, procs.clone()) => r,
		_ = tokio::signal::ctrl_c() => { say("interrupted"); Ok(()) },
	};
	let code = match outcome {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e:#}");
			ExitCode::FAILURE
		},
	};
	say("stopping the bridge, the simulators and the node");
	procs.stop_all().await;
	code
}

/// Prepares the run's directory, keys and ports, and starts the chain (phase 1).
async fn start(cli: Cli, sc: scenario::Scenario, procs: Procs) -> Result<Run> {
	let started = Instant::now();
	let out = prepare(&cli.out)?;
	let bins = Bins::locate(cli.bin_dir.clone())?;
	say(format!("scenario `{}`: {}", sc.name, sc.title));
	say(format!("logs, report and charts go to {}", out.display()));
	let cast = Cast::of(&sc)?;
	let genesis = genesis::demo(&sc, cli.scale, &cast);
	let launch = Launch { cli: &cli, out: &out, bins: &bins, procs: &procs, genesis: &genesis };
	let nodes = phases::chain::start(&launch).await?;
	let ports = Ports::from_base(cli.port_base);
	Ok(Run { sc, cli, out, bins, procs, cast, ports, nodes, started })
}

/// The phases in order, then the chain left running unless `--exit`.
async fn run(cli: Cli, sc: scenario::Scenario, procs: Procs) -> Result<()> {
	let run = start(cli, sc, procs).await?;
	let schedule = phases::cast::genesis(&run).await?;
	let live = phases::assets::register(&run).await?;
	let balances = phases::cast::balances(&run, &live).await?;
	phases::devices::start_devices(&run, &schedule, &live)?;
	phases::devices::start_bridge(&run, &live)?;
	let trade = phases::trade::trade(&run, &schedule, &live).await?;
	phases::window::watch(&run, &schedule, &live, &trade).await?;
	let settlement = phases::settlement::follow(&run, &schedule, &trade).await?;
	if run.nodes.network {
		phases::consensus::check(&run, &trade, &settlement, &balances.0).await?;
	}
	let outcome = Outcome {
		schedule: &schedule,
		live: &live,
		trade: &trade,
		settlement: &settlement,
		balances: &balances,
	};
	phases::report::write(&run, &outcome).await?;
	if run.cli.exit {
		return Ok(());
	}
	let apps = &run.nodes.bridge_url;
	say(format!(
		"the chain keeps running: https://polkadot.js.org/apps/?rpc={apps} (Ctrl-C stops everything)"
	));
	Err(run.procs.watch().await)
}
