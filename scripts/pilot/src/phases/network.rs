//! Phase 1 on a network: four validators (the DSO's, two aggregators', the regulator's)
//! and a non-validating RPC node, started by `scripts/testnet.sh` with the demo's
//! genesis merged into the network's. The DSO submits through its own validator, the
//! FSPs through Aggregator A's, and the bridge follows the RPC node.

use super::chain::{Launch, FIRST_BLOCK};
use crate::{
	context::{say, NodeInfo, Nodes},
	genesis,
	market::Market,
	procs::tail,
};
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::{
	path::Path,
	time::{Duration, Instant},
};

/// How long the network may take to make its keys and start.
const STARTUP: Duration = Duration::from_secs(180);
/// Where the network's peer-to-peer ports start by default, after the run's base port.
const P2P_OFFSET: u16 = 500;

/// A node as `testnet.sh` announces it: `[testnet] node=dso role=validator rpc=ws://…`.
fn parse_node(line: &str) -> Option<NodeInfo> {
	let rest = line.strip_prefix("[testnet] ")?;
	let field =
		|key: &str| rest.split_whitespace().find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='));
	Some(NodeInfo { name: field("node")?.into(), url: field("rpc")?.into() })
}

/// The nodes announced in the script's log once it says `ready`.
fn announced(log: &Path) -> Option<Vec<NodeInfo>> {
	let text = std::fs::read_to_string(log).ok()?;
	if !text.lines().any(|l| l == "[testnet] ready") {
		return None;
	}
	Some(text.lines().filter_map(parse_node).collect())
}

/// Starts the network and connects the DSO to its node, the FSPs to an aggregator's.
pub async fn start(l: &Launch<'_>) -> Result<Nodes> {
	let patch_file = l.out.join("demo-genesis.json");
	let mut patch = json!({});
	genesis::apply(&mut patch, l.genesis)?;
	std::fs::write(&patch_file, serde_json::to_vec_pretty(&patch)?)
		.with_context(|| format!("writing {}", patch_file.display()))?;
	let script = &l.cli.testnet_script;
	if !script.exists() {
		bail!(
			"{} is missing: run from the repository's root or give --testnet-script",
			script.display()
		);
	}
	say("starting four validators and an RPC node (scripts/testnet.sh)");
	let log = l.out.join("network.log");
	let args: Vec<String> = vec![
		"up".into(),
		"--fresh".into(),
		"--rpc-node".into(),
		"--dir".into(),
		l.out.join("network").display().to_string(),
		"--rpc-port".into(),
		l.cli.rpc_port.to_string(),
		"--p2p-port".into(),
		l.cli.p2p_port.unwrap_or(l.cli.port_base + P2P_OFFSET).to_string(),
		"--patch".into(),
		patch_file.display().to_string(),
		"--node".into(),
		l.bins.node.display().to_string(),
	];
	l.procs.spawn("network", script, &args, log.clone())?;
	let nodes = tokio::select! {
		n = wait_ready(&log) => n?,
		e = l.procs.watch() => return Err(e),
	};
	for n in &nodes {
		say(format!("  {} at {}", n.name, n.url));
	}
	let url = |name: &str| {
		nodes.iter().find(|n| n.name == name).map(|n| n.url.clone()).with_context(|| {
			format!(
				"testnet.sh announced no `{name}` node; the end of its log:\n{}",
				tail(&log, 15)
			)
		})
	};
	let (dso_url, fsp_url, rpc_url) = (url("dso")?, url("aggregator-a")?, url("rpc")?);
	let connect = async {
		tokio::try_join!(
			Market::connect(&dso_url, FIRST_BLOCK),
			Market::connect(&fsp_url, FIRST_BLOCK)
		)
	};
	let (dso, fsp) = tokio::select! {
		m = connect => m?,
		e = l.procs.watch() => return Err(e),
	};
	say("the network produces and finalizes blocks: the DSO submits through its validator, the FSPs through Aggregator A's, the bridge follows the RPC node");
	Ok(Nodes { dso, fsp, bridge_url: rpc_url, all: nodes, network: true })
}

/// Waits for the script's `ready`.
async fn wait_ready(log: &Path) -> Result<Vec<NodeInfo>> {
	let started = Instant::now();
	loop {
		if let Some(nodes) = announced(log) {
			return Ok(nodes);
		}
		if started.elapsed() > STARTUP {
			bail!(
				"the network did not start in {STARTUP:?}; the end of {}:\n{}",
				log.display(),
				tail(log, 15)
			);
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_script_s_lines_name_each_node_and_its_endpoint() {
		let n = parse_node(
			"[testnet] node=aggregator-a role=validator rpc=ws://127.0.0.1:9946 p2p=30334 peer=12D3 pid=7 log=/x",
		)
		.unwrap();
		assert_eq!((n.name.as_str(), n.url.as_str()), ("aggregator-a", "ws://127.0.0.1:9946"));
		assert!(parse_node("[testnet] ready").is_none());
		assert!(parse_node("node=dso rpc=ws://x").is_none());
	}
}
