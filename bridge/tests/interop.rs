//! Interoperability with implementations nobody here wrote, installed from PyPI by
//! `tests/peers/install.sh` (which `scripts/test.sh` runs; this test runs it too when
//! the peers' virtualenv is missing):
//!
//! - an OCPP 1.6J charge point built on the Python `ocpp` library (mobilityhouse) over
//!   `websockets`, configured as a charger ships (no clock-aligned meter values until
//!   asked, import register only), answering `DataTransfer` with `UnknownVendorId`,
//!   honouring `validTo` and schedule durations;
//! - a SunSpec battery served by `pymodbus`, its register map laid out from the model
//!   definitions `pysunspec2` ships and scanned by `pysunspec2`'s own client, with
//!   reversion timers and its own scale factors.
//!
//! The bridge drives each through a full window (discharge, metering, the owner's
//! state-of-charge floor, release) and reports the energy the peer says it exported.
//! Without `python3` the tests say so and pass.

mod common;

use common::{
	dispatch::{dispatcher, fill, metered_charger},
	ledger::MemLedger,
	process::{spawn, Proc},
};
use flex_bridge::{
	clock::Clock,
	dispatch::{DeviceLink, Dispatch, Dispatcher},
	metering::{self, MINUTE_MS},
	sim::SimArgs,
	sunspec::client::{ControlProfile, SunSpecDevice},
};
use serde_json::Value;
use std::{
	path::{Path, PathBuf},
	process::{Command, Stdio},
	sync::Arc,
	time::{Duration, Instant},
};

/// Market time at 60x: a market minute a real second.
const SCALE: f64 = 60.0;

fn peers_dir() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// The peers' Python, installed if needed; `None` (the test is skipped) without python3.
fn python() -> Option<PathBuf> {
	let exe = std::env::current_exe().unwrap();
	let target = exe.ancestors().nth(3).unwrap().to_path_buf();
	let venv = std::env::var_os("FLEX_PEERS_VENV")
		.map(PathBuf::from)
		.unwrap_or_else(|| target.join("py-peers"));
	let py = venv.join("bin/python3");
	let check = "import ocpp, websockets, pymodbus, sunspec2.modbus.client";
	let works = |py: &Path| {
		Command::new(py)
			.args(["-c", check])
			.stderr(Stdio::null())
			.status()
			.is_ok_and(|s| s.success())
	};
	if works(&py) {
		return Some(py);
	}
	if works(Path::new("python3")) {
		return Some("python3".into());
	}
	if Command::new("python3").arg("--version").output().is_err() {
		println!("skipped: python3 is missing, so the independent peers cannot run");
		return None;
	}
	let status = Command::new(peers_dir().join("install.sh"))
		.env("CARGO_TARGET_DIR", &target)
		.env("FLEX_PEERS_VENV", &venv)
		.status()
		.expect("install.sh runs");
	assert!(status.success(), "the peers' libraries install into {}", venv.display());
	if works(&py) {
		Some(py)
	} else {
		assert!(works(Path::new("python3")), "the peers' libraries import after install.sh");
		Some("python3".into())
	}
}

/// A peer's process, and the file where it writes its state.
struct Peer {
	proc: Proc,
	state: PathBuf,
}

impl Peer {
	fn spawn(py: &Path, script: &str, args: &[String], dir: &Path) -> Self {
		let state = dir.join(format!("{script}.json"));
		let mut argv = vec![peers_dir().join(script).display().to_string()];
		argv.extend(args.iter().cloned());
		argv.extend(["--state".to_string(), state.display().to_string()]);
		let proc = spawn(py, &argv, dir.join(format!("{script}.log")));
		Self { proc, state }
	}

	fn state(&self) -> Value {
		std::fs::read_to_string(&self.state)
			.ok()
			.and_then(|s| serde_json::from_str(&s).ok())
			.unwrap_or(Value::Null)
	}

	async fn until(&self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
		let deadline = Instant::now() + Duration::from_secs(30);
		loop {
			let s = self.state();
			if ok(&s) {
				return s;
			}
			assert!(
				Instant::now() < deadline,
				"peer: {what}\nstate: {s}\nlog:\n{}",
				self.proc.log()
			);
			tokio::time::sleep(Duration::from_millis(50)).await;
		}
	}
}

fn f(v: &Value, key: &str) -> f64 {
	v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Drives `asset`'s peer through a 5-minute window up at 10 kW, from the next minute
/// but one, with the owner's floor at `floor_percent`, until the window is reported
/// (as request `asset`); then waits until the peer's clock is past the window and
/// returns the peer's state.
async fn through_a_window(
	d: &Dispatcher,
	link: DeviceLink,
	asset: u32,
	floor_percent: f64,
	peer: &Peer,
) -> Value {
	let start = metering::minute_of(d.clock.now_ms()) + 2 * MINUTE_MS;
	let end = start + 5 * MINUTE_MS;
	let fill = fill(asset, asset, start, 5, 10 * MINUTE_MS);
	d.clone().run(Dispatch::new(fill, Some(floor_percent)), link).await;
	peer.until("past the window", |s| s["at_ms"].as_f64().is_some_and(|t| t > end as f64)).await
}

/// The peer stopped within 0.1 % of the owner's `floor_percent` at `soc_percent`, and
/// the bridge reported what the peer says it exported, to 2 Wh.
fn assert_stopped_at_floor(
	soc_percent: f64,
	floor_percent: f64,
	delivered_wh: u64,
	exported_wh: f64,
) {
	assert!(
		(soc_percent - floor_percent).abs() <= 0.1,
		"stopped within 0.1 % of the {floor_percent} % floor: {soc_percent}"
	);
	assert!((delivered_wh as f64 - exported_wh).abs() <= 2.0, "{delivered_wh} vs {exported_wh}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ocpp_charge_point_from_the_python_ocpp_library_goes_through_a_window() {
	let Some(py) = python() else { return };
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let dir = tempfile::tempdir().unwrap();
	let d = dispatcher(dir.path(), clock, Arc::new(MemLedger::default()));
	let store = d.store.clone();
	let (link, url) = metered_charger(&d, "CP-PY", 5, Duration::from_secs(5)).await;
	// A 40 kWh car at 31 %, its own reserve 10 %: 400 Wh above the owner's 30 % floor.
	let mut args = vec!["--url".into(), url, "--id".into(), "CP-PY".into()];
	args.extend(SimArgs::clock_args(&clock));
	args.extend(["--soc", "31", "--reserve", "10", "--capacity-wh", "40000"].map(String::from));
	let peer = Peer::spawn(&py, "ocpp_charge_point.py", &args, dir.path());
	peer.until("metering configured", |s| {
		s["config"]["ClockAlignedDataInterval"] == "60"
			&& s["config"]["MeterValuesSampledData"].as_str().is_some_and(|m| m.contains("Export"))
	})
	.await;

	let s = through_a_window(&d, link, 5, 30.0, &peer).await;
	let report = store.report(5, 0).unwrap().unwrap();
	let done: Dispatch = store.dispatch(5, 0).unwrap().unwrap();
	let (soc, exported) = (f(&s, "soc_percent"), f(&s, "exported_wh"));
	println!(
		"python ocpp peer: delivered {} Wh (peer exported {exported:.1} Wh), stopped at {soc:.3} % SoC, calls {}",
		report.delivered_wh, s["received"]
	);
	assert!(done.stop.is_some(), "stopped at the floor: {done:?}");
	assert_stopped_at_floor(soc, 30.0, report.delivered_wh, exported);
	assert!(report.delivered_wh > 380, "{}", report.delivered_wh);
	assert_eq!(f(&s, "power_w"), 0.0, "released");
	assert!(s["received"]["SetChargingProfile"].as_u64() >= Some(1));
	assert!(s["received"]["ClearChargingProfile"].as_u64() >= Some(1));
	assert!(s["received"].get("DataTransfer").is_none(), "no vendor extension needed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sunspec_battery_from_pymodbus_and_pysunspec2_goes_through_a_window() {
	let Some(py) = python() else { return };
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let dir = tempfile::tempdir().unwrap();
	let port = common::free_port();
	// 13.5 kWh at 21.5 %: 202.5 Wh above the owner's 20 % floor.
	let mut args = vec!["--port".into(), port.to_string()];
	args.extend(SimArgs::clock_args(&clock));
	args.extend(["--soc", "21.5", "--reserve", "5", "--capacity-wh", "13500"].map(String::from));
	let peer = Peer::spawn(&py, "sunspec_battery.py", &args, dir.path());
	peer.until("serving", |s| s["at_ms"].is_number()).await;
	// pysunspec2's own client finds a SunSpec device with the models the bridge uses.
	let scan = Command::new(&py)
		.arg(peers_dir().join("sunspec_battery.py"))
		.args(["--scan", "127.0.0.1", &port.to_string()])
		.output()
		.unwrap();
	let scanned: Value = serde_json::from_slice(&scan.stdout)
		.unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&scan.stderr)));
	println!("pysunspec2 scan: {scanned}");
	for m in [1, 701, 704, 713, 124] {
		assert!(scanned["models"].as_array().unwrap().contains(&m.into()), "{scanned}");
	}

	let d = dispatcher(dir.path(), clock, Arc::new(MemLedger::default()));
	let store = d.store.clone();
	let addr = format!("127.0.0.1:{port}").parse().unwrap();
	let device = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_secs(2));
	let link = DeviceLink::modbus(device);
	tokio::spawn(d.clone().meter(6, link.clone()));
	let s = through_a_window(&d, link, 6, 20.0, &peer).await;
	let report = store.report(6, 0).unwrap().unwrap();
	let (soc, exported) = (f(&s, "soc_percent"), f(&s, "exported_wh"));
	println!(
		"pymodbus/pysunspec2 peer: delivered {} Wh (peer exported {exported:.1} Wh), stopped at {soc:.3} % SoC, reserve {} %",
		report.delivered_wh, s["reserve_percent"]
	);
	assert_stopped_at_floor(soc, 20.0, report.delivered_wh, exported);
	assert!(report.delivered_wh > 190, "{}", report.delivered_wh);
	assert_eq!(f(&s, "reserve_percent"), 20.0, "the reserve went to MinRsvPct");
	assert_eq!(f(&s, "setpoint_w"), 0.0, "released");
}
