//! The built node on a development chain: it produces and finalizes blocks, answers
//! JSON-RPC, and keeps its chain across a restart.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn dev_node_finalizes_blocks_and_answers_rpc() {
	let mut node = Node::start("finalize", &["--dev", "--tmp"]);
	let health = node.wait_for("system_health", Duration::from_secs(60), |n| {
		n.try_rpc("system_health", json!([])).and_then(|v| v.get("result").cloned())
	});
	assert_eq!(health["isSyncing"], json!(false), "health: {health}");
	let finalized = node.wait_for("block 2 to be finalized", Duration::from_secs(120), |n| {
		n.finalized_number().filter(|&f| f >= 2)
	});
	assert!(finalized >= 2);
	let out = node.output();
	assert!(out.contains("Database: ParityDb"), "the node must use ParityDB");

	// Our chain: name, token and address format.
	assert_eq!(node.rpc("system_chain", json!([])), json!("Flexchain Development"));
	let props = node.rpc("system_properties", json!([]));
	assert_eq!(props["tokenSymbol"], json!("FLEX"));
	assert_eq!(props["tokenDecimals"], json!(12));
	assert_eq!(props["ss58Format"], json!(7171));
	let version = node.rpc("state_getRuntimeVersion", json!([]));
	assert_eq!(version["specName"], json!("flexchain"));
	// The market's own RPC answers with the units in the field names.
	assert_eq!(node.rpc("flexMarket_openRequests", json!([1])), json!([]));
	assert_eq!(node.rpc("flexMarket_matchPreview", json!([0])), json!(null));
	assert!(node.stop().success() || cfg!(not(unix)), "clean exit on SIGINT");
}

#[test]
fn restart_on_the_same_base_path_keeps_the_chain() {
	let base = temp_dir("restart");
	let base_path = base.to_str().unwrap();
	let mut node = Node::start("restart-1", &["--dev", "--base-path", base_path]);
	let best =
		node.wait_for("block 3", Duration::from_secs(120), |n| n.best_number().filter(|&b| b >= 3));
	let status = node.stop();
	assert!(status.success(), "first run exits cleanly on SIGINT: {status}\n{}", node.output());

	let mut node = Node::start("restart-2", &["--dev", "--base-path", base_path]);
	let after = node.wait_for("RPC after restart", Duration::from_secs(60), |n| n.best_number());
	assert!(after >= best, "best block went back from #{best} to #{after} after restart");
	node.wait_for("a new block after restart", Duration::from_secs(60), |n| {
		n.best_number().filter(|&b| b > after.max(best))
	});
	node.stop();
	let _ = std::fs::remove_dir_all(base);
}

/// Wallets ask for the next nonce with an address in this chain's format.
#[test]
fn nonce_rpc_takes_addresses_of_our_format() {
	let mut node = Node::start("nonce", &["--dev", "--tmp"]);
	// Dave, in SS58 format 7171.
	let dave = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
	let key = std::process::Command::new(NODE)
		.args(["key", "inspect", "//Dave", "--output-type", "json"])
		.output()
		.unwrap();
	let key: serde_json::Value = serde_json::from_slice(&key.stdout).unwrap();
	let ours = key["ss58Address"].as_str().unwrap().to_string();
	assert_ne!(ours, dave, "keys print in our format, not the generic one");
	let nonce = node.wait_for("system_accountNextIndex", Duration::from_secs(60), |n| {
		n.try_rpc("system_accountNextIndex", json!([ours])).and_then(|v| v.get("result").cloned())
	});
	assert_eq!(nonce, json!(0));
}
