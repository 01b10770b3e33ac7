//! The daemon's TOML configuration. A wrong value gets one error that names its key.

use crate::{
	clock::Clock,
	ocpp::central::{ChargerConfig, DischargeMode},
	sunspec::client::ControlProfile,
};
use serde::Deserialize;
use std::{collections::BTreeSet, net::SocketAddr, path::PathBuf};

/// A configuration error: which key and what is wrong with it.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("config: `{key}`: {message}")]
pub struct ConfigError {
	/// The key, as a TOML path.
	pub key: String,
	/// What is wrong.
	pub message: String,
}

fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
	ConfigError { key: key.into(), message: message.into() }
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
	/// The chain.
	pub chain: ChainConfig,
	/// A fixed market clock; without it the bridge runs on the chain's.
	#[serde(default)]
	pub clock: Option<ClockConfig>,
	/// Local state.
	pub store: StoreConfig,
	/// The HTTP endpoint for health, metrics and views.
	#[serde(default)]
	pub http: HttpConfig,
	/// The OCPP central system.
	#[serde(default)]
	pub ocpp: OcppConfig,
	/// The devices, by asset id.
	#[serde(default, rename = "asset")]
	pub assets: Vec<AssetConfig>,
	/// FSP webhooks.
	#[serde(default, rename = "webhook")]
	pub webhooks: Vec<WebhookConfig>,
}

/// `[chain]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
	/// WebSocket JSON-RPC endpoint of a node.
	#[serde(default = "default_url")]
	pub url: String,
	/// The oracle's secret URI (e.g. `//Eve` on a dev chain); never logged.
	#[serde(default)]
	pub oracle_key: Option<String>,
	/// A file holding the oracle's secret URI.
	#[serde(default)]
	pub oracle_key_file: Option<PathBuf>,
}

fn default_url() -> String {
	"ws://127.0.0.1:9944".into()
}

/// `[clock]`: a fixed market time, see [`Clock`], for running without a chain (load
/// tests); the bridge otherwise takes the chain's `FlexMarket::Clock`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
	/// Market ms per real ms.
	#[serde(default = "one")]
	pub scale: f64,
	/// Real Unix ms at which market time equals real time.
	#[serde(default)]
	pub epoch_ms: u64,
}

fn one() -> f64 {
	1.0
}

/// `[store]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
	/// The database file.
	pub path: PathBuf,
}

/// `[http]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
	/// Listen address.
	#[serde(default = "default_http")]
	pub listen: String,
}

fn default_http() -> String {
	"127.0.0.1:9955".into()
}

impl Default for HttpConfig {
	fn default() -> Self {
		Self { listen: default_http() }
	}
}

/// `[ocpp]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcppConfig {
	/// Listen address of the central system.
	#[serde(default = "default_ocpp")]
	pub listen: String,
	/// Seconds to wait for a charger's answer.
	#[serde(default = "default_call_timeout")]
	pub call_timeout_s: u64,
}

fn default_ocpp() -> String {
	"0.0.0.0:9000".into()
}

fn default_call_timeout() -> u64 {
	30
}

impl Default for OcppConfig {
	fn default() -> Self {
		Self { listen: default_ocpp(), call_timeout_s: default_call_timeout() }
	}
}

/// `[[asset]]`: one device.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetConfig {
	/// The asset id on chain.
	pub id: u32,
	/// Stop discharging at this state of charge (percent); the chain's figure if absent.
	#[serde(default)]
	pub min_soc_percent: Option<f64>,
	/// A SunSpec battery.
	#[serde(default)]
	pub modbus: Option<ModbusConfig>,
	/// An OCPP charger.
	#[serde(default)]
	pub ocpp: Option<OcppDeviceConfig>,
}

/// `[asset.modbus]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModbusConfig {
	/// `host:port`.
	pub address: String,
	/// Modbus unit id.
	#[serde(default = "unit_one")]
	pub unit: u8,
	/// Which controls to use.
	#[serde(default)]
	pub profile: ControlProfile,
	/// Seconds per call.
	#[serde(default = "default_modbus_timeout")]
	pub timeout_s: f64,
}

fn unit_one() -> u8 {
	1
}

fn default_modbus_timeout() -> f64 {
	3.0
}

/// `[asset.ocpp]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcppDeviceConfig {
	/// Charge point id.
	pub charge_point: String,
	/// Connector.
	#[serde(default = "connector_one")]
	pub connector: u32,
	/// HTTP Basic password.
	#[serde(default)]
	pub password: Option<String>,
	/// How to command discharge.
	#[serde(default)]
	pub discharge: DischargeMode,
}

fn connector_one() -> u32 {
	1
}

/// `[[webhook]]`: where an FSP wants to hear about its assets.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
	/// The FSP's account (SS58).
	pub fsp: String,
	/// `http://` URL to POST JSON to.
	pub url: String,
	/// Which events: `match`, `buy`, `dispatch`, `settlement` (all if absent).
	#[serde(default)]
	pub events: Option<Vec<String>>,
}

/// The events webhooks can ask for.
pub const WEBHOOK_EVENTS: [&str; 4] = ["match", "buy", "dispatch", "settlement"];

/// How the bridge reaches a device.
#[derive(Clone, Debug, PartialEq)]
pub enum Device {
	/// SunSpec over Modbus TCP.
	Modbus {
		/// Address.
		address: SocketAddr,
		/// Unit id.
		unit: u8,
		/// Controls.
		profile: ControlProfile,
		/// Per-call timeout in seconds.
		timeout_s: f64,
	},
	/// OCPP 1.6J.
	Ocpp(ChargerConfig),
}

/// The dotted key whose value sits at byte `offset`, and its line number.
fn key_at(text: &str, offset: usize) -> (Option<String>, usize) {
	let before = &text[..offset.min(text.len())];
	let line_no = before.matches('\n').count() + 1;
	let line = text.lines().nth(line_no - 1).unwrap_or_default();
	let key =
		line.split('=').next().map(str::trim).filter(|k| !k.is_empty() && !k.starts_with('['));
	let table = before
		.lines()
		.rev()
		.map(str::trim)
		.find(|l| l.starts_with('['))
		.map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
	let key = match (table, key) {
		(Some(t), Some(k)) => Some(format!("{t}.{k}")),
		(None, Some(k)) => Some(k.to_string()),
		(t, None) => t,
	};
	(key, line_no)
}

impl Config {
	/// Parses and checks a configuration.
	pub fn parse(text: &str) -> Result<Self, ConfigError> {
		let config: Config = toml::from_str(text).map_err(|e| {
			let named = e.message().split('`').nth(1).map(String::from);
			let (key, line) = match e.span() {
				Some(span) => key_at(text, span.start),
				None => (None, 0),
			};
			let key = named.or(key).unwrap_or_else(|| "(document)".into());
			err(key, format!("{} (line {line})", e.message().trim()))
		})?;
		config.check()?;
		Ok(config)
	}

	/// Reads and checks a configuration file.
	pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
		let text = std::fs::read_to_string(path)
			.map_err(|e| err("(file)", format!("{}: {e}", path.display())))?;
		Self::parse(&text)
	}

	fn check(&self) -> Result<(), ConfigError> {
		if !(self.chain.url.starts_with("ws://") || self.chain.url.starts_with("wss://")) {
			return Err(err("chain.url", "must be a ws:// or wss:// URL"));
		}
		match (&self.chain.oracle_key, &self.chain.oracle_key_file) {
			(Some(_), Some(_)) => {
				return Err(err("chain.oracle_key", "give oracle_key or oracle_key_file, not both"))
			},
			(None, None) => {
				return Err(err("chain.oracle_key", "missing: give oracle_key or oracle_key_file"))
			},
			_ => {},
		}
		if let Some(clock) = &self.clock {
			if !(clock.scale.is_finite() && clock.scale > 0.0 && clock.scale <= 10_000.0) {
				return Err(err("clock.scale", "must be above 0 and at most 10000"));
			}
		}
		self.http.listen.parse::<SocketAddr>().map_err(|e| err("http.listen", e.to_string()))?;
		self.ocpp.listen.parse::<SocketAddr>().map_err(|e| err("ocpp.listen", e.to_string()))?;
		if self.ocpp.call_timeout_s == 0 {
			return Err(err("ocpp.call_timeout_s", "must be at least 1"));
		}
		let mut ids = BTreeSet::new();
		let mut charge_points = BTreeSet::new();
		for (i, a) in self.assets.iter().enumerate() {
			let key = |k: &str| format!("asset[{i}]{k}");
			if !ids.insert(a.id) {
				return Err(err(key(".id"), format!("asset {} appears twice", a.id)));
			}
			if let Some(m) = a.min_soc_percent {
				if !(0.0..=100.0).contains(&m) {
					return Err(err(key(".min_soc_percent"), "must be between 0 and 100"));
				}
			}
			match (&a.modbus, &a.ocpp) {
				(Some(m), None) => {
					m.address
						.parse::<SocketAddr>()
						.map_err(|e| err(key(".modbus.address"), e.to_string()))?;
					if !(m.timeout_s > 0.0 && m.timeout_s <= 60.0) {
						return Err(err(
							key(".modbus.timeout_s"),
							"must be above 0 and at most 60",
						));
					}
				},
				(None, Some(o)) => {
					if o.charge_point.is_empty() || o.charge_point.contains('/') {
						return Err(err(
							key(".ocpp.charge_point"),
							"must be a non-empty id without '/'",
						));
					}
					if !charge_points.insert(o.charge_point.clone()) {
						return Err(err(
							key(".ocpp.charge_point"),
							format!("{} appears twice", o.charge_point),
						));
					}
					if let DischargeMode::NegativeAmps { phases, voltage } = o.discharge {
						if !(1..=3).contains(&phases) || voltage.is_nan() || voltage <= 0.0 {
							return Err(err(
								key(".ocpp.discharge"),
								"phases must be 1 to 3 and voltage above 0",
							));
						}
					}
				},
				_ => {
					return Err(err(
						key(""),
						format!("asset {}: give exactly one of `modbus` or `ocpp`", a.id),
					))
				},
			}
		}
		for (i, w) in self.webhooks.iter().enumerate() {
			if crate::chain::ss58::decode(&w.fsp).is_none() {
				return Err(err(format!("webhook[{i}].fsp"), "must be an SS58 account address"));
			}
			if !w.url.starts_with("http://") && !w.url.starts_with("https://") {
				return Err(err(format!("webhook[{i}].url"), "must be an http:// or https:// URL"));
			}
			for e in w.events.iter().flatten() {
				if !WEBHOOK_EVENTS.contains(&e.as_str()) {
					return Err(err(
						format!("webhook[{i}].events"),
						format!("unknown event {e:?}; known: {WEBHOOK_EVENTS:?}"),
					));
				}
			}
		}
		Ok(())
	}

	/// The fixed market clock, if the config sets one.
	pub fn clock(&self) -> Option<Clock> {
		self.clock.as_ref().map(|c| Clock::scaled(c.epoch_ms, c.scale))
	}

	/// The oracle's secret URI, from the config or its file.
	pub fn oracle_secret(&self) -> Result<String, ConfigError> {
		match (&self.chain.oracle_key, &self.chain.oracle_key_file) {
			(Some(k), _) => Ok(k.clone()),
			(None, Some(path)) => std::fs::read_to_string(path)
				.map(|s| s.trim().to_string())
				.map_err(|e| err("chain.oracle_key_file", format!("{}: {e}", path.display()))),
			(None, None) => Err(err("chain.oracle_key", "missing")),
		}
	}

	/// The device of each asset.
	pub fn devices(&self) -> Vec<(u32, Device)> {
		self.assets
			.iter()
			.filter_map(|a| {
				let device = match (&a.modbus, &a.ocpp) {
					(Some(m), _) => Device::Modbus {
						address: m.address.parse().ok()?,
						unit: m.unit,
						profile: m.profile,
						timeout_s: m.timeout_s,
					},
					(_, Some(o)) => Device::Ocpp(ChargerConfig {
						id: o.charge_point.clone(),
						connector: o.connector,
						password: o.password.clone(),
						discharge: o.discharge.clone(),
					}),
					_ => return None,
				};
				Some((a.id, device))
			})
			.collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const GOOD: &str = r#"
[chain]
url = "ws://127.0.0.1:9944"
oracle_key = "//Eve"

[clock]
scale = 15.0
epoch_ms = 1700000000000

[store]
path = "/tmp/bridge.redb"

[[asset]]
id = 0
min_soc_percent = 20
modbus = { address = "127.0.0.1:5020", unit = 1, profile = "der704" }

[[asset]]
id = 1
ocpp = { charge_point = "V2G-1", discharge = { mode = "negative_amps", phases = 3, voltage = 230.0 } }

[[webhook]]
fsp = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
url = "http://127.0.0.1:8080/hook"
events = ["match", "settlement"]
"#;

	#[test]
	fn a_good_config_parses_with_defaults() {
		let c = Config::parse(GOOD).unwrap();
		assert_eq!(c.clock().unwrap().scale, 15.0);
		let without = GOOD.replace("[clock]\nscale = 15.0\nepoch_ms = 1700000000000\n", "");
		assert_eq!(Config::parse(&without).unwrap().clock(), None);
		assert_eq!(c.http.listen, "127.0.0.1:9955");
		assert_eq!(c.ocpp.call_timeout_s, 30);
		let d = c.devices();
		assert_eq!(d.len(), 2);
		assert!(matches!(&d[0].1, Device::Modbus { unit: 1, profile: ControlProfile::Der704, .. }));
		let Device::Ocpp(ch) = &d[1].1 else { panic!() };
		assert_eq!((ch.id.as_str(), ch.connector), ("V2G-1", 1));
		assert_eq!(c.oracle_secret().unwrap(), "//Eve");
	}

	#[test]
	fn each_mistake_names_its_key() {
		let cases: &[(&str, &str, &str)] = &[
			("url = \"ws://127.0.0.1:9944\"", "url = \"http://x\"", "chain.url"),
			("oracle_key = \"//Eve\"", "", "chain.oracle_key"),
			("scale = 15.0", "scale = -1.0", "clock.scale"),
			("scale = 15.0", "scale = \"fast\"", "clock.scale"),
			("unit = 1, profile", "unit = 1, colour = 2, profile", "colour"),
			("address = \"127.0.0.1:5020\"", "address = \"nowhere\"", "asset[0].modbus.address"),
			("min_soc_percent = 20", "min_soc_percent = 120", "asset[0].min_soc_percent"),
			("id = 1\nocpp", "id = 0\nocpp", "asset[1].id"),
			("profile = \"der704\"", "profile = \"der999\"", "der999"),
			("phases = 3", "phases = 5", "asset[1].ocpp.discharge"),
			("events = [\"match\", \"settlement\"]", "events = [\"lunch\"]", "webhook[0].events"),
			("url = \"http://127.0.0.1:8080/hook\"", "url = \"ftp://x\"", "webhook[0].url"),
			(
				"fsp = \"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty\"",
				"fsp = \"Bob\"",
				"webhook[0].fsp",
			),
		];
		for (from, to, key) in cases {
			assert!(GOOD.contains(from), "{from}");
			let text = GOOD.replacen(from, to, 1);
			let e = Config::parse(&text).expect_err(key);
			assert!(e.key.contains(key) || e.message.contains(key), "{key}: got {e}");
		}
		let both = GOOD.replace("modbus = {", "ocpp = { charge_point = \"X\" }\nmodbus = {");
		assert_eq!(Config::parse(&both).unwrap_err().key, "asset[0]");
		assert!(Config::parse("[chain]\noracle_key = \"//Eve\"\n")
			.unwrap_err()
			.to_string()
			.contains("store"));
	}
}
