//! Bad input gets one clear line and a non-zero exit, never a panic.

mod common;

use common::*;
use std::net::TcpListener;

fn assert_one_line_error(stderr: &str, expected: &str) {
	assert!(!stderr.contains("panicked"), "panic trace on bad input:\n{stderr}");
	let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("Error:")).collect();
	assert_eq!(errors.len(), 1, "expected one error line, got:\n{stderr}");
	assert!(
		errors[0].contains(expected),
		"error line {:?} does not mention {expected:?}",
		errors[0]
	);
}

#[test]
fn unknown_flag() {
	let dir = temp_dir("flag");
	let (status, stderr) = run_to_exit(&["--dev", "--no-such-flag"], &dir);
	assert_eq!(status.code(), Some(2));
	assert_one_line_error(&stderr, "--no-such-flag");
	assert_eq!(stderr.lines().count(), 1, "one line only:\n{stderr}");
}

#[test]
fn missing_chain_spec_file() {
	let dir = temp_dir("missing-spec");
	let (status, stderr) = run_to_exit(&["--chain", "no-such-spec.json", "--tmp"], &dir);
	assert_eq!(status.code(), Some(1));
	assert_one_line_error(&stderr, "cannot load chain spec `no-such-spec.json`");
}

#[test]
fn malformed_chain_spec_file() {
	let dir = temp_dir("bad-spec");
	std::fs::write(dir.join("broken.json"), "{ \"name\": \"half a spec\", ").unwrap();
	let (status, stderr) = run_to_exit(&["--chain", "broken.json", "--tmp"], &dir);
	assert_eq!(status.code(), Some(1));
	assert_one_line_error(&stderr, "cannot load chain spec `broken.json`");
}

#[test]
fn rpc_port_already_in_use() {
	let dir = temp_dir("port");
	let taken = TcpListener::bind("127.0.0.1:0").unwrap();
	let port = taken.local_addr().unwrap().port().to_string();
	let p2p = free_port().to_string();
	let (status, stderr) = run_to_exit(
		&["--dev", "--tmp", "--rpc-port", &port, "--port", &p2p, "--no-prometheus"],
		&dir,
	);
	assert_eq!(status.code(), Some(1));
	assert_one_line_error(&stderr, &format!("127.0.0.1:{port} is not available"));
}

#[test]
fn export_chain_spec_carries_our_token() {
	let out = std::process::Command::new(NODE)
		.args(["export-chain-spec", "--chain", "dev"])
		.output()
		.unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let spec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
	assert_eq!(spec["id"], "flexchain_dev");
	assert_eq!(spec["properties"]["tokenSymbol"], "FLEX");
	assert_eq!(spec["properties"]["ss58Format"], 7171);
}

#[test]
fn a_node_without_a_chain_names_the_choices_instead_of_guessing() {
	let dir = temp_dir("no-chain");
	let (status, stderr) = run_to_exit(&["--tmp"], &dir);
	assert_eq!(status.code(), Some(1));
	assert_one_line_error(&stderr, "no chain given: --dev for a development chain");
	assert!(stderr.contains("--chain <network>.toml"), "{stderr}");
}

#[test]
fn a_network_file_with_a_bad_key_is_refused_naming_the_validator() {
	let dir = temp_dir("bad-network");
	let example =
		std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../network/example.toml"))
			.unwrap();
	let broken = example.replacen("aura = \"", "aura = \"x", 1);
	std::fs::write(dir.join("net.toml"), broken).unwrap();
	let (status, stderr) = run_to_exit(&["build-spec", "--chain", "net.toml"], &dir);
	assert_eq!(status.code(), Some(1));
	assert_one_line_error(&stderr, "validator `OEDAS (the DSO)`: aura");
}

#[test]
fn the_example_network_builds_a_raw_spec_without_sudo_or_development_keys() {
	let out = std::process::Command::new(NODE)
		.args([
			"build-spec",
			"--chain",
			concat!(env!("CARGO_MANIFEST_DIR"), "/../network/example.toml"),
		])
		.output()
		.unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let spec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
	assert_eq!(spec["chainType"], "Live");
	let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
	assert_eq!(patch["validatorSet"]["validators"].as_array().unwrap().len(), 4);
	assert!(patch.get("sudo").is_none());
	// Alice's address (generic format) appears nowhere.
	assert!(!out.stdout.windows(10).any(|w| w == b"5GrwvaEF5z"), "a development key in the spec");
}
