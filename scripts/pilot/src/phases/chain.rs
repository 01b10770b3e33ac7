//! Phase 1: the chain. A dev chain (one validator, Alice) from the development preset
//! with the demo's genesis, or a network of validators ([`super::network`]).

use crate::{
	cli::Cli,
	context::{say, Bins, NodeInfo, Nodes},
	genesis::{self, DemoGenesis},
	market::Market,
	procs::Procs,
};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::{path::Path, time::Duration};

/// How long a node may take to finalize its first block.
pub const FIRST_BLOCK: Duration = Duration::from_secs(120);

/// What the chain phase needs.
pub struct Launch<'a> {
	/// The command line.
	pub cli: &'a Cli,
	/// The run's directory.
	pub out: &'a Path,
	/// The binaries.
	pub bins: &'a Bins,
	/// Where started processes go.
	pub procs: &'a Procs,
	/// The demo's genesis.
	pub genesis: &'a DemoGenesis,
}

/// Starts the chain (or the network) and connects the DSO's and the FSPs' clients.
pub async fn start(l: &Launch<'_>) -> Result<Nodes> {
	if l.cli.network {
		super::network::start(l).await
	} else {
		dev(l).await
	}
}

/// The chain specification `chain` (`dev`, `local`) as `build-spec` prints it.
pub fn build_spec(node: &Path, chain: &str) -> Result<Value> {
	let out = std::process::Command::new(node)
		.args(["build-spec", "--chain", chain])
		.stderr(std::process::Stdio::null())
		.output()
		.with_context(|| format!("running {} build-spec", node.display()))?;
	if !out.status.success() {
		bail!("`{} build-spec --chain {chain}` failed ({})", node.display(), out.status);
	}
	serde_json::from_slice(&out.stdout).context("build-spec printed no JSON chain spec")
}

/// Writes the `chain` preset's specification with the demo's genesis to `path`.
pub fn demo_spec(node: &Path, chain: &str, g: &DemoGenesis, path: &Path) -> Result<()> {
	let mut spec = build_spec(node, chain)?;
	genesis::apply_to_spec(&mut spec, g)?;
	std::fs::write(path, serde_json::to_vec(&spec)?)
		.with_context(|| format!("writing {}", path.display()))
}

/// A dev chain: the development preset (its chain type keeps the node's solver key)
/// with the demo's genesis; Alice validates.
async fn dev(l: &Launch<'_>) -> Result<Nodes> {
	let url = format!("ws://127.0.0.1:{}", l.cli.rpc_port);
	say(format!("starting a dev chain on {url}"));
	let spec = l.out.join("spec.json");
	demo_spec(&l.bins.node, "dev", l.genesis, &spec)?;
	let args: Vec<String> = [
		"--chain",
		&spec.display().to_string(),
		"--alice",
		"--validator",
		"--force-authoring",
		// A validator needs a stable network identity: a fixed one for the demo's chain.
		"--node-key",
		"0000000000000000000000000000000000000000000000000000000000000001",
		"--base-path",
		&l.out.join("chain").display().to_string(),
		"--rpc-port",
		&l.cli.rpc_port.to_string(),
		"--rpc-cors",
		"all",
		"--port",
		"0",
		"--no-prometheus",
		"--no-telemetry",
		"--no-mdns",
	]
	.iter()
	.map(|s| s.to_string())
	.collect();
	l.procs.spawn("node", &l.bins.node, &args, l.out.join("node.log"))?;
	let connect = async {
		tokio::try_join!(Market::connect(&url, FIRST_BLOCK), Market::connect(&url, FIRST_BLOCK))
	};
	let (dso, fsp) = tokio::select! {
		m = connect => m?,
		e = l.procs.watch() => return Err(e),
	};
	say("the chain produces and finalizes blocks");
	Ok(Nodes {
		dso,
		fsp,
		bridge_url: url.clone(),
		all: vec![NodeInfo { name: "dev".into(), url }],
		network: false,
	})
}
