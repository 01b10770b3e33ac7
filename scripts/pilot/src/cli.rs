//! The command line of `flex-pilot`.

use clap::Parser;
use std::path::PathBuf;

/// Replays the field pilot end to end on a local chain (a dev chain, or a network of
/// four validators) with simulated devices.
#[derive(Parser, Debug, Clone)]
#[command(name = "flex-pilot", version)]
pub struct Cli {
	/// `pilot` (the EFLEX field pilot) or `competition` (five FSPs, an outage, penalties).
	#[arg(long, default_value = "pilot")]
	pub scenario: String,
	/// Market time runs this many times faster than real time (the 45-minute window
	/// takes 3 minutes at 15).
	#[arg(long, default_value_t = 15)]
	pub scale: u32,
	/// Stop everything after the report instead of leaving the chain running.
	#[arg(long)]
	pub exit: bool,
	/// Where logs, the chain's database, the report and the charts go (emptied first).
	#[arg(long, default_value = "pilot-run")]
	pub out: PathBuf,
	/// The node's JSON-RPC port (with `--network`: the RPC node's).
	#[arg(long, default_value_t = 9944)]
	pub rpc_port: u16,
	/// First of the local ports for the bridge (HTTP, OCPP) and the batteries (Modbus).
	#[arg(long, default_value_t = 19_000)]
	pub port_base: u16,
	/// Where the node, bridge and simulator binaries are (default: beside this one).
	#[arg(long)]
	pub bin_dir: Option<PathBuf>,
	/// Run on a network of four validators (the DSO's, two aggregators', the
	/// regulator's) and a non-validating RPC node started by `scripts/testnet.sh`,
	/// instead of a dev chain: the DSO submits through its node, the FSPs through an
	/// aggregator's, the bridge follows the RPC node.
	#[arg(long)]
	pub network: bool,
	/// The first of the network's five peer-to-peer ports (`--network`; default: the
	/// port base + 500).
	#[arg(long)]
	pub p2p_port: Option<u16>,
	/// The script that starts the network (`--network`).
	#[arg(long, default_value = "scripts/testnet.sh")]
	pub testnet_script: PathBuf,
}

/// Why the command line is refused (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
	/// No such scenario.
	#[error("--scenario must be `pilot` or `competition`, got `{0}`")]
	Scenario(String),
	/// The chain's bound on the clock (`pallet_flex_market::clock::MAX_CLOCK_SCALE`).
	#[error("--scale must be from 1 to 600")]
	Scale,
}

impl Cli {
	/// Checks what clap cannot: the scenario's name and the clock's bounds.
	pub fn scenario(&self) -> Result<crate::scenario::Scenario, UsageError> {
		if !(1..=600).contains(&self.scale) {
			return Err(UsageError::Scale);
		}
		crate::scenario::by_name(&self.scenario)
			.ok_or_else(|| UsageError::Scenario(self.scenario.clone()))
	}
}
