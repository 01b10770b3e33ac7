//! The run's context: what every phase of the demo shares, fixed before the first
//! phase (the scenario, the run's directory, the binaries, the keys and the ports)
//! or by the chain phase (the clients of the nodes).

use crate::{
	cli::Cli,
	market::{account, Market},
	procs::Procs,
	scenario::{AssetPlan, Device, Scenario},
};
use anyhow::{bail, Context, Result};
use std::{
	path::{Path, PathBuf},
	time::Instant,
};
use subxt::utils::AccountId32;
use subxt_signer::{sr25519::Keypair, SecretUri};

/// Prints a line of the run's progress.
pub fn say(msg: impl AsRef<str>) {
	println!("[pilot] {}", msg.as_ref());
}

/// A market moment as the time of day, UTC.
pub fn hhmm(clock_ms: u64) -> String {
	let s = clock_ms / 1000;
	format!("{:02}:{:02}:{:02} UTC", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

/// The key of a secret URI (`//OEDAS`).
pub fn key(uri: &str) -> Result<Keypair> {
	let parsed: SecretUri = uri.parse().map_err(|e| anyhow::anyhow!("secret URI {uri}: {e}"))?;
	Keypair::from_uri(&parsed).map_err(|e| anyhow::anyhow!("secret URI {uri}: {e}"))
}

/// The run's binaries.
pub struct Bins {
	/// `flexchain-node`.
	pub node: PathBuf,
	/// `flex-bridge`.
	pub bridge: PathBuf,
	/// `sim-battery`.
	pub battery: PathBuf,
	/// `sim-charger`.
	pub charger: PathBuf,
}

impl Bins {
	/// The binaries in `dir`, or beside this executable.
	pub fn locate(dir: Option<PathBuf>) -> Result<Self> {
		let dir = match dir {
			Some(d) => d,
			None => std::env::current_exe()?
				.parent()
				.context("no directory of the executable")?
				.to_path_buf(),
		};
		let find = |name: &str| {
			let p = dir.join(name);
			if p.exists() {
				Ok(p)
			} else {
				bail!(
					"{} is missing: build with `cargo build --release --workspace --bins`",
					p.display()
				)
			}
		};
		Ok(Self {
			node: find("flexchain-node")?,
			bridge: find("flex-bridge")?,
			battery: find("sim-battery")?,
			charger: find("sim-charger")?,
		})
	}
}

/// Who plays: the DSO, its metering oracle (the bridge's key) and one FSP per asset.
pub struct Cast {
	/// The DSO (`//OEDAS`).
	pub dso: Keypair,
	/// The oracle's secret URI, for the bridge.
	pub oracle_uri: &'static str,
	/// The oracle.
	pub oracle: Keypair,
	/// The FSPs, in the scenario's order of assets.
	pub fsps: Vec<Keypair>,
}

impl Cast {
	/// The cast of `sc`.
	pub fn of(sc: &Scenario) -> Result<Self> {
		let oracle_uri = "//OEDAS-meter";
		Ok(Self {
			dso: key("//OEDAS")?,
			oracle_uri,
			oracle: key(oracle_uri)?,
			fsps: sc.assets.iter().map(|a| key(a.fsp)).collect::<Result<_>>()?,
		})
	}

	/// The DSO's account.
	pub fn dso_account(&self) -> AccountId32 {
		account(&self.dso)
	}
}

/// How the bridge reaches a device, fixed once per asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
	/// A SunSpec Modbus TCP server on this local port (unit 1).
	Modbus(u16),
	/// An OCPP 1.6J charge point with this id, on the bridge's central system.
	Ocpp(String),
}

impl Endpoint {
	/// The device reference registered with the asset.
	pub fn device(&self) -> String {
		match self {
			Endpoint::Modbus(port) => format!("modbus://127.0.0.1:{port}/1"),
			Endpoint::Ocpp(id) => format!("ocpp://{id}/1"),
		}
	}
}

/// The run's local ports, from `--port-base`: the bridge's HTTP port, its OCPP central
/// system, and one Modbus port per battery from `base + 11` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
	/// The bridge's HTTP port (metrics, samples).
	pub bridge_http: u16,
	/// The bridge's OCPP central system.
	pub ocpp: u16,
	/// The first Modbus port.
	pub modbus: u16,
}

impl Ports {
	/// The ports from `base` on.
	pub fn from_base(base: u16) -> Self {
		Self { bridge_http: base, ocpp: base + 1, modbus: base + 11 }
	}

	/// Each asset's endpoint: batteries take consecutive Modbus ports, chargers an id
	/// from their FSP's name.
	pub fn endpoints(&self, plans: &[AssetPlan]) -> Vec<Endpoint> {
		let mut next = self.modbus;
		plans
			.iter()
			.map(|plan| match plan.device {
				Device::ModbusBattery => {
					next += 1;
					Endpoint::Modbus(next - 1)
				},
				Device::OcppCharger => Endpoint::Ocpp(charge_point(plan)),
			})
			.collect()
	}
}

/// The charge point id of a charger's plan: its FSP's name (`//FSP-v2g` → `FSP-V2G`).
fn charge_point(plan: &AssetPlan) -> String {
	plan.fsp.trim_start_matches("//").to_uppercase()
}

/// A node of the run and its JSON-RPC address.
#[derive(Clone, Debug)]
pub struct NodeInfo {
	/// What it is (`dev`, `oedas`, `rpc` …).
	pub name: String,
	/// Its WebSocket address.
	pub url: String,
}

/// The clients of the run's nodes.
pub struct Nodes {
	/// The DSO's client (on a network, through the DSO's validator).
	pub dso: Market,
	/// The FSPs' client (on a network, through an aggregator's validator).
	pub fsp: Market,
	/// The node the bridge follows (on a network, the RPC node).
	pub bridge_url: String,
	/// Every node, to check that all see the same settlement.
	pub all: Vec<NodeInfo>,
	/// Whether this is a network of validators rather than a dev chain.
	pub network: bool,
}

impl Nodes {
	/// Waits until the DSO's and the FSPs' nodes have both finalized what either has,
	/// so that one side's next step sees the other's last one.
	pub async fn agree(&self) -> Result<()> {
		if !self.network {
			return Ok(());
		}
		let target = self.dso.finalized().await?.max(self.fsp.finalized().await?);
		let started = Instant::now();
		while self.dso.finalized().await?.min(self.fsp.finalized().await?) < target {
			if started.elapsed().as_secs() > 60 {
				bail!("the DSO's and the FSPs' nodes did not both finalize block {target} in a minute");
			}
			tokio::time::sleep(std::time::Duration::from_millis(300)).await;
		}
		Ok(())
	}
}

/// What every phase shares.
pub struct Run {
	/// The scenario.
	pub sc: Scenario,
	/// The command line.
	pub cli: Cli,
	/// The run's directory (logs, the chain's database, the report, the charts).
	pub out: PathBuf,
	/// The binaries.
	pub bins: Bins,
	/// The started processes.
	pub procs: Procs,
	/// The keys.
	pub cast: Cast,
	/// The local ports.
	pub ports: Ports,
	/// The nodes' clients.
	pub nodes: Nodes,
	/// When the run started.
	pub started: Instant,
}

impl Run {
	/// The bridge's HTTP address.
	pub fn bridge_http(&self) -> String {
		format!("http://127.0.0.1:{}", self.ports.bridge_http)
	}

	/// Waits for `fut`, failing as soon as a started process exits.
	pub async fn unless_crash<T>(&self, fut: impl std::future::Future<Output = T>) -> Result<T> {
		tokio::select! {
			v = fut => Ok(v),
			e = self.procs.watch() => Err(e),
		}
	}
}

/// Empties the run directory of what an earlier run left.
pub fn prepare(out: &Path) -> Result<PathBuf> {
	std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
	for entry in std::fs::read_dir(out)? {
		let path = entry?.path();
		let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
		let ours = name == "chain"
			|| name == "network"
			|| name.starts_with("bridge")
			|| name.starts_with("spec")
			|| name.ends_with(".log")
			|| name.ends_with(".svg")
			|| name.starts_with("report");
		if ours {
			if path.is_dir() {
				std::fs::remove_dir_all(&path)?;
			} else {
				std::fs::remove_file(&path)?;
			}
		}
	}
	Ok(std::fs::canonicalize(out)?)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn ports_are_assigned_once_per_asset() {
		let sc = crate::scenario::competition();
		let e = Ports::from_base(19_000).endpoints(&sc.assets);
		assert_eq!(e[0], Endpoint::Modbus(19_011));
		assert_eq!(e[1], Endpoint::Modbus(19_012));
		assert_eq!(e[2], Endpoint::Ocpp("FSP-C".into()));
		assert_eq!(e[3], Endpoint::Modbus(19_013));
		assert_eq!(e[0].device(), "modbus://127.0.0.1:19011/1");
		assert_eq!(e[2].device(), "ocpp://FSP-C/1");
	}
}
