//! The README's main command, end to end: `flex-pilot --exit` starts a dev chain (or,
//! with `--network`, four validators and an RPC node), the bridge and the simulated
//! battery and V2G charger, replays the field pilot at 15x and writes its report; the
//! settlement must follow the simulators' physics, the same on either chain.

use std::{
	net::TcpListener,
	path::PathBuf,
	process::Command,
	time::{Duration, Instant},
};

/// 1 FLEX.
const UNIT: u128 = 1_000_000_000_000;

/// A port whose `n` successors are free too.
fn free_ports(n: u16) -> u16 {
	loop {
		let base = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
		if base < 60_000 && (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
			return base;
		}
	}
}

fn node_dir() -> PathBuf {
	let exe = std::env::current_exe().unwrap();
	let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
	assert!(
		dir.join("flexchain-node").exists(),
		"build the node first: `cargo build --release --workspace --bins`"
	);
	dir
}

/// Runs the pilot with `extra` arguments and checks its report.
fn pilot_settles_by_the_devices_physics(extra: &[&str]) -> String {
	let out = tempfile::tempdir().unwrap();
	let started = Instant::now();
	let run = Command::new(env!("CARGO_BIN_EXE_flex-pilot"))
		.args(["--exit", "--scenario", "pilot", "--scale", "15"])
		.args(extra)
		.args(["--rpc-port", &free_ports(1).to_string()])
		.args(["--port-base", &free_ports(20).to_string()])
		.arg("--out")
		.arg(out.path())
		.arg("--bin-dir")
		.arg(node_dir())
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&run.stdout);
	let log = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap_or_default();
	assert!(
		run.status.success(),
		"flex-pilot failed:\n{stdout}\n{}\nbridge log:\n{}",
		String::from_utf8_lossy(&run.stderr),
		log("bridge.log")
	);
	assert!(started.elapsed() < Duration::from_secs(600), "took {:?}", started.elapsed());
	println!("{stdout}");

	let report: serde_json::Value = serde_json::from_str(&log("report.json")).unwrap();
	let assets = report["assets"].as_array().unwrap();
	assert_eq!(assets.len(), 2);
	let n = |v: &serde_json::Value| v.as_u64().unwrap();
	let plancks = |v: &serde_json::Value| {
		v.as_u64().map(u128::from).unwrap_or_else(|| v.as_f64().unwrap() as u128)
	};
	// The simulators' physics: 7,209 Wh above the battery's 20 % floor, 6,970 Wh above
	// the car's 30 %; a few Wh either way from where the window's minutes fall.
	for (a, physics) in assets.iter().zip([7_209u64, 6_970]) {
		let delivered = n(&a["delivered_wh"]);
		assert!(
			delivered.abs_diff(physics) <= 25,
			"{}: {delivered} Wh, physics {physics}",
			a["name"]
		);
		assert_eq!(n(&a["contracted_wh"]), 7_500);
		assert_eq!(n(&a["accepted_w"]), 10_000);
		assert_eq!(n(&a["metered_wh"]), delivered, "the report is what the bridge metered");
		// Paid exactly the delivered energy at 0.10 per kWh, no penalty in the pilot.
		assert_eq!(plancks(&a["paid"]), delivered as u128 * UNIT / 10 / 1_000);
		assert_eq!(plancks(&a["penalty"]), 0);
		// One report per fill: none missing, none twice.
		assert_eq!(n(&a["reports"]), 1);
	}
	let rate = |i: usize| assets[i]["rate_percent"].as_f64().unwrap();
	assert!((95.5..96.5).contains(&rate(0)) && (92.5..93.5).contains(&rate(1)));
	// Escrow released to the unit; the DSO paid what was delivered plus its fees.
	assert_eq!(plancks(&report["escrow_after"]), 0);
	let paid = plancks(&report["paid"]);
	let dso = &report["balances"][0];
	let spent = plancks(&dso["before"]) - plancks(&dso["after"]);
	assert!(spent >= paid && spent < paid + UNIT / 100, "DSO spent {spent}, paid {paid}");
	// The transformer: computed from the metered series, and lower.
	let load = &report["load"];
	let reduction = load["reduction_percent"].as_f64().unwrap();
	assert!(reduction > 0.0 && (14.0..20.0).contains(&reduction), "reduction {reduction} %");
	assert_eq!(report["transformer"].as_array().unwrap().len(), 45);
	for chart in ["transformer.svg", "asset-0.svg", "asset-1.svg"] {
		assert!(log(chart).contains("<polyline"), "{chart}");
	}
	stdout.into_owned()
}

#[test]
fn the_pilot_settles_by_the_devices_physics() {
	pilot_settles_by_the_devices_physics(&[]);
}

/// The same pilot on four validators and an RPC node: the DSO submits through its
/// validator, the FSPs through an aggregator's, the bridge follows the RPC node, and
/// every node reports the same settlement (the run fails otherwise).
#[test]
fn the_pilot_on_a_network_of_validators_settles_the_same() {
	let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../testnet.sh");
	let stdout = pilot_settles_by_the_devices_physics(&[
		"--network",
		"--testnet-script",
		script,
		"--p2p-port",
		&free_ports(5).to_string(),
	]);
	assert!(stdout.contains("has the same settlement and balances"), "{stdout}");
}
