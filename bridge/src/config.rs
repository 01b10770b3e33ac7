//! The daemon's TOML configuration. A wrong value gets one error that names its key.
//!
//! The OCPP central system listens on loopback unless told otherwise; on any other
//! address every charger needs a password (OCPP security profile 1, or 2 with
//! `[ocpp.tls]`), or the configuration must say `insecure = true`.

use crate::{
	clock::Clock,
	metering::{MeteringPolicy, DEFAULT_MAX_CLOCK_SKEW_S, DEFAULT_TOLERANCE_PERCENT},
	ocpp::{
		auth::MIN_PASSWORD_LEN,
		central::{ChargerConfig, DischargeMode},
		limits::{
			Limits, DEFAULT_HANDSHAKE_TIMEOUT_S, DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_CONNECTIONS,
			DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MESSAGES_PER_MINUTE,
		},
	},
	sunspec::client::ControlProfile,
};
use serde::Deserialize;
use std::{collections::BTreeSet, net::SocketAddr, path::PathBuf, time::Duration};

/// A configuration error: which key and what is wrong with it.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
	/// A value is missing, malformed or out of range.
	#[error("config: `{key}`: {message}")]
	Invalid {
		/// The key, as a TOML path.
		key: String,
		/// What is wrong.
		message: String,
	},
	/// The OCPP port is reachable from other hosts and a charger has no password.
	#[error(
		"config: `{key}`: charge point {charge_point} has no password, but ocpp.listen = \"{listen}\" \
		 is not a loopback address: give every charger a password (OCPP security profile 1; \
		 with [ocpp.tls], profile 2), or set `ocpp.insecure = true` to run without authentication"
	)]
	Unauthenticated {
		/// The charger's password key.
		key: String,
		/// The charge point.
		charge_point: String,
		/// The listen address.
		listen: SocketAddr,
	},
	/// A password too short for a port reachable from other hosts.
	#[error(
		"config: `{key}`: the password of {charge_point} has fewer than {min} characters, \
		 too few where chargers connect from other hosts"
	)]
	WeakPassword {
		/// The charger's password key.
		key: String,
		/// The charge point.
		charge_point: String,
		/// The fewest characters allowed.
		min: usize,
	},
}

impl ConfigError {
	/// The key the error is about, as a TOML path.
	pub fn key(&self) -> &str {
		match self {
			ConfigError::Invalid { key, .. }
			| ConfigError::Unauthenticated { key, .. }
			| ConfigError::WeakPassword { key, .. } => key,
		}
	}
}

fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
	ConfigError::Invalid { key: key.into(), message: message.into() }
}

/// Something in a valid configuration an operator should know about.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigWarning {
	/// `insecure = true` on a non-loopback address.
	#[error(
		"the OCPP central system on {0} accepts chargers without authentication \
		 (ocpp.insecure = true): anyone who reaches the port can pose as a charger"
	)]
	Insecure(SocketAddr),
	/// Passwords without TLS on a non-loopback address.
	#[error(
		"the OCPP central system on {0} checks passwords without TLS (security profile 1): \
		 passwords and meter values cross the network in clear; add [ocpp.tls] for profile 2"
	)]
	ClearPasswords(SocketAddr),
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
	/// Plausibility of meter readings.
	#[serde(default)]
	pub metering: MeteringConfig,
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
	/// The finalized block a fresh store starts following from (default: the finalized
	/// head; fills bought earlier are found in the market's storage).
	#[serde(default)]
	pub start_block: Option<u64>,
	/// Finalized blocks the bridge may fall behind before it catches up from the
	/// market's storage instead of replaying events (the node keeps 256 blocks of state).
	#[serde(default = "default_catch_up_blocks")]
	pub catch_up_blocks: u64,
	/// Blocks behind the finalized head beyond which `/health` says unhealthy.
	#[serde(default = "default_max_lag_blocks")]
	pub max_lag_blocks: u64,
}

fn default_catch_up_blocks() -> u64 {
	128
}

fn default_max_lag_blocks() -> u64 {
	20
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
	/// Samples, anomalies and command records older than this many market days are
	/// deleted.
	#[serde(default = "default_retention_days")]
	pub retention_days: u32,
}

fn default_retention_days() -> u32 {
	30
}

impl StoreConfig {
	/// The retention as market time.
	pub fn retention(&self) -> Duration {
		Duration::from_secs(self.retention_days as u64 * 86_400)
	}
}

/// `[metering]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeteringConfig {
	/// A fill reports at most contracted power × window × (1 + this / 100).
	#[serde(default = "default_tolerance")]
	pub tolerance_percent: f64,
	/// Readings a device dated further than this from the bridge's clock (market
	/// seconds) are refused.
	#[serde(default = "default_skew")]
	pub max_clock_skew_s: u64,
}

fn default_tolerance() -> f64 {
	DEFAULT_TOLERANCE_PERCENT
}

fn default_skew() -> u64 {
	DEFAULT_MAX_CLOCK_SKEW_S
}

impl Default for MeteringConfig {
	fn default() -> Self {
		Self { tolerance_percent: default_tolerance(), max_clock_skew_s: default_skew() }
	}
}

impl MeteringConfig {
	/// The policy these settings describe.
	pub fn policy(&self) -> MeteringPolicy {
		MeteringPolicy {
			tolerance_percent: self.tolerance_percent,
			max_clock_skew_ms: self.max_clock_skew_s.saturating_mul(1_000),
		}
	}
}

/// `[http]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
	/// Listen address.
	#[serde(default = "default_http")]
	pub listen: String,
	/// Browser origins allowed to read the endpoint (CORS, `GET` only), e.g. the web
	/// app's `http://127.0.0.1:8000`; `"*"` for any. None by default.
	#[serde(default)]
	pub allowed_origins: Vec<String>,
}

fn default_http() -> String {
	"127.0.0.1:9955".into()
}

impl Default for HttpConfig {
	fn default() -> Self {
		Self { listen: default_http(), allowed_origins: Vec::new() }
	}
}

/// `[ocpp]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcppConfig {
	/// Listen address of the central system (loopback unless set).
	#[serde(default = "default_ocpp")]
	pub listen: String,
	/// Seconds to wait for a charger's answer.
	#[serde(default = "default_call_timeout")]
	pub call_timeout_s: u64,
	/// Accept chargers without passwords on a non-loopback address.
	#[serde(default)]
	pub insecure: bool,
	/// TLS (security profile 2): `wss://`.
	#[serde(default)]
	pub tls: Option<TlsConfig>,
	/// Seconds a client has to finish the TLS and WebSocket handshakes.
	#[serde(default = "default_handshake_timeout")]
	pub handshake_timeout_s: u64,
	/// Connections open at most, handshakes included.
	#[serde(default = "default_max_connections")]
	pub max_connections: usize,
	/// Largest WebSocket frame and message, bytes.
	#[serde(default = "default_max_message_bytes")]
	pub max_message_bytes: usize,
	/// Messages a connection may send per market minute (and in a burst).
	#[serde(default = "default_messages_per_minute")]
	pub messages_per_minute: u32,
	/// Seconds without any frame from a charger (pongs count) before its session is
	/// dropped.
	#[serde(default = "default_idle_timeout")]
	pub idle_timeout_s: u64,
}

/// `[ocpp.tls]`: the central system's certificate and key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
	/// The certificate chain, PEM, leaf first.
	pub cert: PathBuf,
	/// The private key, PEM.
	pub key: PathBuf,
}

fn default_ocpp() -> String {
	"127.0.0.1:9000".into()
}

fn default_call_timeout() -> u64 {
	30
}

fn default_handshake_timeout() -> u64 {
	DEFAULT_HANDSHAKE_TIMEOUT_S
}

fn default_max_connections() -> usize {
	DEFAULT_MAX_CONNECTIONS
}

fn default_max_message_bytes() -> usize {
	DEFAULT_MAX_MESSAGE_BYTES
}

fn default_messages_per_minute() -> u32 {
	DEFAULT_MESSAGES_PER_MINUTE
}

fn default_idle_timeout() -> u64 {
	DEFAULT_IDLE_TIMEOUT_S
}

impl Default for OcppConfig {
	fn default() -> Self {
		Self {
			listen: default_ocpp(),
			call_timeout_s: default_call_timeout(),
			insecure: false,
			tls: None,
			handshake_timeout_s: default_handshake_timeout(),
			max_connections: default_max_connections(),
			max_message_bytes: default_max_message_bytes(),
			messages_per_minute: default_messages_per_minute(),
			idle_timeout_s: default_idle_timeout(),
		}
	}
}

impl OcppConfig {
	/// The limits these settings describe, the message rate counted on a clock
	/// running `clock_scale` times real time.
	pub fn limits(&self, clock_scale: f64) -> Limits {
		Limits {
			handshake_timeout: Duration::from_secs(self.handshake_timeout_s),
			max_connections: self.max_connections,
			max_message_bytes: self.max_message_bytes,
			messages_per_minute: self.messages_per_minute,
			clock_scale,
			idle_timeout: Duration::from_secs(self.idle_timeout_s),
		}
	}

	fn check(&self) -> Result<SocketAddr, ConfigError> {
		let listen =
			self.listen.parse::<SocketAddr>().map_err(|e| err("ocpp.listen", e.to_string()))?;
		let ranges: [(&str, u64, u64, u64); 6] = [
			("ocpp.call_timeout_s", self.call_timeout_s, 1, 3_600),
			("ocpp.handshake_timeout_s", self.handshake_timeout_s, 1, 60),
			("ocpp.max_connections", self.max_connections as u64, 1, 1_000_000),
			("ocpp.max_message_bytes", self.max_message_bytes as u64, 4_096, 16 << 20),
			("ocpp.messages_per_minute", self.messages_per_minute as u64, 10, 1_000_000),
			("ocpp.idle_timeout_s", self.idle_timeout_s, 30, 86_400),
		];
		for (key, value, min, max) in ranges {
			if !(min..=max).contains(&value) {
				return Err(err(key, format!("must be from {min} to {max}")));
			}
		}
		Ok(listen)
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
	/// Which events: `match`, `buy`, `dispatch`, `settlement`, `report_expired` (all if
	/// absent).
	#[serde(default)]
	pub events: Option<Vec<String>>,
}

/// The events webhooks can ask for.
pub const WEBHOOK_EVENTS: [&str; 5] = ["match", "buy", "dispatch", "settlement", "report_expired"];

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

/// Checks a charger's password: required, and long enough, where chargers connect
/// from other hosts (`needs_auth`); Basic authentication forbids a `:` in its id.
fn check_password(
	o: &OcppDeviceConfig,
	key: String,
	needs_auth: bool,
	listen: SocketAddr,
) -> Result<(), ConfigError> {
	let charge_point = o.charge_point.clone();
	match &o.password {
		None if needs_auth => Err(ConfigError::Unauthenticated { key, charge_point, listen }),
		Some(p) if needs_auth && p.chars().count() < MIN_PASSWORD_LEN => {
			Err(ConfigError::WeakPassword { key, charge_point, min: MIN_PASSWORD_LEN })
		},
		Some(_) if o.charge_point.contains(':') => Err(err(
			key.replace("password", "charge_point"),
			"a charge point id with a password cannot contain ':'",
		)),
		_ => Ok(()),
	}
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
		if !(1..=200).contains(&self.chain.catch_up_blocks) {
			return Err(err("chain.catch_up_blocks", "must be from 1 to 200 (the node keeps 256)"));
		}
		if self.chain.max_lag_blocks == 0 {
			return Err(err("chain.max_lag_blocks", "must be at least 1"));
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
		let listen = self.ocpp.check()?;
		let needs_auth = !listen.ip().is_loopback() && !self.ocpp.insecure;
		if self.store.retention_days == 0 {
			return Err(err("store.retention_days", "must be at least 1"));
		}
		let m = &self.metering;
		if !(m.tolerance_percent.is_finite() && (0.0..=50.0).contains(&m.tolerance_percent)) {
			return Err(err("metering.tolerance_percent", "must be from 0 to 50"));
		}
		if !(1..=3_600).contains(&m.max_clock_skew_s) {
			return Err(err("metering.max_clock_skew_s", "must be from 1 to 3600"));
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
					check_password(o, key(".ocpp.password"), needs_auth, listen)?;
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

	/// What an operator should hear about a valid configuration at start.
	pub fn warnings(&self) -> Vec<ConfigWarning> {
		let Ok(listen) = self.ocpp.listen.parse::<SocketAddr>() else { return Vec::new() };
		if listen.ip().is_loopback() {
			Vec::new()
		} else if self.ocpp.insecure {
			vec![ConfigWarning::Insecure(listen)]
		} else if self.ocpp.tls.is_none() {
			vec![ConfigWarning::ClearPasswords(listen)]
		} else {
			Vec::new()
		}
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
		assert_eq!(c.ocpp.listen, "127.0.0.1:9000", "loopback unless told otherwise");
		assert!(!c.ocpp.insecure && c.ocpp.tls.is_none());
		let limits = c.ocpp.limits(15.0);
		assert_eq!(limits.max_message_bytes, 64 * 1024);
		assert_eq!(limits.handshake_timeout, Duration::from_secs(5));
		assert_eq!(limits.clock_scale, 15.0);
		assert_eq!(c.metering.policy(), MeteringPolicy::default());
		assert_eq!(c.store.retention(), Duration::from_secs(30 * 86_400));
		assert!(c.warnings().is_empty());
		let d = c.devices();
		assert_eq!(d.len(), 2);
		assert!(matches!(&d[0].1, Device::Modbus { unit: 1, profile: ControlProfile::Der704, .. }));
		let Device::Ocpp(ch) = &d[1].1 else { panic!() };
		assert_eq!((ch.id.as_str(), ch.connector), ("V2G-1", 1));
		assert_eq!(c.oracle_secret().unwrap(), "//Eve");
	}

	/// `GOOD` with the OCPP port on `listen`, extra `[ocpp]` lines and the charger's
	/// password.
	fn exposed(listen: &str, ocpp: &str, password: Option<&str>) -> String {
		let charger = match password {
			Some(p) => format!("ocpp = {{ charge_point = \"V2G-1\", password = \"{p}\" }}"),
			None => "ocpp = { charge_point = \"V2G-1\" }".into(),
		};
		GOOD.replace("[store]", &format!("[ocpp]\nlisten = \"{listen}\"\n{ocpp}\n\n[store]"))
			.replace(
				"ocpp = { charge_point = \"V2G-1\", discharge = { mode = \"negative_amps\", phases = 3, voltage = 230.0 } }",
				&charger,
			)
	}

	#[test]
	fn a_port_open_to_other_hosts_needs_passwords_or_says_insecure() {
		let strong = Some("0123456789abcdef");
		// Loopback: no password needed, any password taken.
		Config::parse(&exposed("127.0.0.1:9000", "", None)).unwrap();
		Config::parse(&exposed("[::1]:9000", "", Some("pw"))).unwrap();
		// Any other address: every charger needs a password of 16 characters or more.
		let e = Config::parse(&exposed("0.0.0.0:9000", "", None)).unwrap_err();
		assert!(
			matches!(&e, ConfigError::Unauthenticated { charge_point, .. } if charge_point == "V2G-1"),
			"{e}"
		);
		assert_eq!(e.key(), "asset[1].ocpp.password");
		assert!(e.to_string().contains("insecure = true"), "{e}");
		let e = Config::parse(&exposed("10.0.0.5:9000", "", Some("short"))).unwrap_err();
		assert!(matches!(e, ConfigError::WeakPassword { min: 16, .. }), "{e}");
		// Profile 1: passwords, and a warning that they travel in clear.
		let c = Config::parse(&exposed("0.0.0.0:9000", "", strong)).unwrap();
		let listen: SocketAddr = "0.0.0.0:9000".parse().unwrap();
		assert_eq!(c.warnings(), vec![ConfigWarning::ClearPasswords(listen)]);
		// Profile 2: TLS and passwords, nothing to warn about.
		let tls = "[ocpp.tls]\ncert = \"/etc/fb/ocpp.crt\"\nkey = \"/etc/fb/ocpp.key\"";
		let c = Config::parse(&exposed("0.0.0.0:9000", tls, strong)).unwrap();
		assert_eq!(c.ocpp.tls.as_ref().unwrap().cert, PathBuf::from("/etc/fb/ocpp.crt"));
		assert!(c.warnings().is_empty());
		// TLS alone is not enough: profile 2 is TLS and passwords.
		assert!(matches!(
			Config::parse(&exposed("0.0.0.0:9000", tls, None)),
			Err(ConfigError::Unauthenticated { .. })
		));
		// Without either, only on explicit request, and with a warning.
		let c = Config::parse(&exposed("0.0.0.0:9000", "insecure = true", None)).unwrap();
		assert_eq!(c.warnings(), vec![ConfigWarning::Insecure(listen)]);
		// Basic authentication cannot carry a ':' in the id.
		let colon = exposed("127.0.0.1:9000", "", Some("pw")).replace("\"V2G-1\"", "\"V2G:1\"");
		assert_eq!(Config::parse(&colon).unwrap_err().key(), "asset[1].ocpp.charge_point");
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
			assert!(e.key().contains(key) || e.to_string().contains(key), "{key}: got {e}");
		}
		let both = GOOD.replace("modbus = {", "ocpp = { charge_point = \"X\" }\nmodbus = {");
		assert_eq!(Config::parse(&both).unwrap_err().key(), "asset[0]");
		let with = |section: &str| GOOD.replace("[store]", &format!("{section}\n\n[store]"));
		for (section, key) in [
			("[ocpp]\nmax_message_bytes = 10", "ocpp.max_message_bytes"),
			("[ocpp]\nmessages_per_minute = 0", "ocpp.messages_per_minute"),
			("[ocpp]\nhandshake_timeout_s = 0", "ocpp.handshake_timeout_s"),
			("[ocpp]\nlisten = \"everywhere\"", "ocpp.listen"),
			("[metering]\ntolerance_percent = 99.0", "metering.tolerance_percent"),
			("[metering]\nmax_clock_skew_s = 0", "metering.max_clock_skew_s"),
			("[ocpp.tls]\ncert = \"c.pem\"", "key"),
		] {
			let e = Config::parse(&with(section)).expect_err(key);
			assert!(e.key().contains(key) || e.to_string().contains(key), "{key}: got {e}");
		}
		let text = GOOD.replace("path = \"/tmp/bridge.redb\"", "path = \"x\"\nretention_days = 0");
		assert_eq!(Config::parse(&text).unwrap_err().key(), "store.retention_days");
		assert!(Config::parse("[chain]\noracle_key = \"//Eve\"\n")
			.unwrap_err()
			.to_string()
			.contains("store"));
	}
}
