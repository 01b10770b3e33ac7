//! The simulated devices and the DSO's bridge, on the chain's market clock, at the
//! endpoints the assets were registered with.

use super::{assets::Live, cast::Schedule};
use crate::{
	context::{say, Endpoint, Run},
	scenario::AssetPlan,
};
use anyhow::Result;
use flex_bridge::{clock::Clock, metering::MINUTE_MS, sim::SimArgs};

/// The arguments every simulator takes: its physics and the market clock.
fn common_args(plan: &AssetPlan, clock: &Clock) -> Vec<String> {
	vec![
		"--capacity-wh".into(),
		plan.capacity_wh.to_string(),
		"--soc".into(),
		plan.soc_percent.to_string(),
		"--max-power-w".into(),
		plan.offer_w.to_string(),
	]
	.into_iter()
	.chain(SimArgs::clock_args(clock))
	.collect()
}

/// Starts one simulator per asset.
pub fn start_devices(run: &Run, s: &Schedule, live: &[Live]) -> Result<()> {
	for l in live {
		let mut args = common_args(&l.plan, &s.clock);
		if let Some((at, length)) = l.plan.offline {
			args.extend([
				"--offline-at-ms".into(),
				(s.start + at * MINUTE_MS).to_string(),
				"--offline-for-s".into(),
				(length * 60).to_string(),
			]);
		}
		let (name, bin) = match &l.endpoint {
			Endpoint::Modbus(port) => {
				args.extend([
					"--listen".into(),
					format!("127.0.0.1:{port}"),
					"--serial".into(),
					format!("SIM-{}", l.asset),
				]);
				(format!("sim-battery-{}", l.asset), &run.bins.battery)
			},
			Endpoint::Ocpp(id) => {
				args.extend([
					"--url".into(),
					format!("ws://127.0.0.1:{}/ocpp", run.ports.ocpp),
					"--id".into(),
					id.clone(),
					"--reserve".into(),
					l.plan.min_soc_percent.to_string(),
				]);
				(format!("sim-charger-{}", l.asset), &run.bins.charger)
			},
		};
		run.procs.spawn(&name, bin, &args, run.out.join(format!("{name}.log")))?;
	}
	say(format!("{} simulated devices started on the market clock", live.len()));
	Ok(())
}

/// The bridge's configuration: the node it follows, the oracle's key, its store and
/// ports, and one `[[asset]]` per device.
pub fn bridge_config(run: &Run, live: &[Live]) -> String {
	let mut config = format!(
		"[chain]\nurl = \"{}\"\noracle_key = \"{}\"\n\n[store]\npath = \"{}\"\n\n[http]\nlisten = \"127.0.0.1:{}\"\n\n[ocpp]\nlisten = \"127.0.0.1:{}\"\ncall_timeout_s = 5\n",
		run.nodes.bridge_url,
		run.cast.oracle_uri,
		run.out.join("bridge.redb").display(),
		run.ports.bridge_http,
		run.ports.ocpp
	);
	for l in live {
		config += &match &l.endpoint {
			Endpoint::Modbus(port) => format!(
				"\n[[asset]]\nid = {}\nmodbus = {{ address = \"127.0.0.1:{port}\", unit = 1, profile = \"der704\", timeout_s = 1.0 }}\n",
				l.asset
			),
			Endpoint::Ocpp(id) => {
				format!("\n[[asset]]\nid = {}\nocpp = {{ charge_point = \"{id}\" }}\n", l.asset)
			},
		};
	}
	config
}

/// Starts the bridge.
pub fn start_bridge(run: &Run, live: &[Live]) -> Result<()> {
	let path = run.out.join("bridge.toml");
	std::fs::write(&path, bridge_config(run, live))?;
	run.procs.spawn(
		"bridge",
		&run.bins.bridge,
		&["--config".into(), path.display().to_string()],
		run.out.join("bridge.log"),
	)?;
	say(format!(
		"bridge on OCPP ws://127.0.0.1:{}/ocpp and HTTP {}",
		run.ports.ocpp,
		run.bridge_http()
	));
	Ok(())
}
