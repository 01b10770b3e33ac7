//! A V2G charge point speaking OCPP 1.6J to a central system, with a car's battery behind it.
//!
//! It boots, starts a transaction for the plugged-in car, sends heartbeats and
//! clock-aligned meter values, and discharges when a charging profile with a negative
//! limit (W or A) or the configured vendor `DataTransfer` asks it to (a positive limit
//! charges the car). A lost
//! connection is retried with backoff; physics keep running meanwhile. It connects
//! over `ws://`, or over `wss://` trusting the certificate authority it is given.

use crate::{
	clock::Clock,
	ocpp::{
		auth,
		central::{DischargeData, SUBPROTOCOL},
		frame::{ErrorCode, Frame},
	},
	sim::physics::Storage,
};
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use rust_decimal::prelude::ToPrimitive;
use rust_ocpp::v1_6::{
	messages::{
		change_configuration::ChangeConfigurationRequest,
		clear_charging_profile::ClearChargingProfileRequest, data_transfer::DataTransferRequest,
		get_composite_schedule::GetCompositeScheduleRequest,
		set_charging_profile::SetChargingProfileRequest, trigger_message::TriggerMessageRequest,
	},
	types::{ChargingProfilePurposeType, ChargingRateUnitType, MessageTrigger},
};
use rustls::{
	crypto::ring,
	pki_types::{pem::PemObject, CertificateDer, ServerName},
	ClientConfig, RootCertStore,
};
use serde_json::{json, Value};
use std::{
	collections::HashMap,
	path::Path,
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::{
	net::TcpStream,
	sync::{mpsc, oneshot, Notify},
};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue, Message};

/// Frames queued for the central system before the charge point waits.
const QUEUE: usize = 64;

/// Why the simulator cannot use a certificate authority.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
	/// The file cannot be read or holds no PEM certificate.
	#[error("{0}")]
	Pem(#[from] rustls::pki_types::pem::Error),
	/// rustls refused a certificate or the protocol versions.
	#[error("{0}")]
	Rustls(#[from] rustls::Error),
	/// The file holds no certificate.
	#[error("no certificate in the file")]
	Empty,
}

/// What the simulated charge point and its car are.
#[derive(Clone, Debug)]
pub struct ChargerSimConfig {
	/// Central system URL without the id, e.g. `ws://127.0.0.1:9000/ocpp`.
	pub url: String,
	/// Charge point id.
	pub id: String,
	/// HTTP Basic password, if the central system asks for one.
	pub password: Option<String>,
	/// Connector the car is on.
	pub connector: u32,
	/// The car's usable battery capacity, Wh.
	pub capacity_wh: f64,
	/// The car's state of charge at start, percent.
	pub initial_soc_percent: f64,
	/// Largest discharge and charge power, W.
	pub max_power_w: f64,
	/// The car will not go below this state of charge, percent.
	pub reserve_soc_percent: f64,
	/// Phase voltage, for limits in A.
	pub voltage: f64,
	/// Vendor id and message id of the discharge `DataTransfer` it understands.
	pub data_transfer: Option<(String, String)>,
	/// The market clock.
	pub clock: Clock,
}

/// The charge point's state, shared with its owner.
#[derive(Debug)]
pub struct ChargerState {
	/// The car's battery.
	pub storage: Storage,
	/// `ClockAlignedDataInterval` in seconds (0 = off).
	pub aligned_interval_s: u64,
	/// `MeterValuesAlignedData`.
	pub aligned_measurands: Vec<String>,
	/// Installed discharge profile id, if any.
	pub profile: Option<i32>,
	/// Transaction id given by the central system.
	pub transaction: Option<i32>,
	/// Calls received from the central system, by action.
	pub received: HashMap<String, u32>,
	/// Whether the charge point is allowed on the network.
	pub online: bool,
	/// Number of WebSocket sessions opened.
	pub sessions: u32,
	/// Set to close the current session.
	pub drop_requested: bool,
}

/// A running simulated charge point.
#[derive(Clone)]
pub struct ChargerSim {
	/// Configuration.
	pub config: ChargerSimConfig,
	/// Shared state.
	pub state: Arc<Mutex<ChargerState>>,
	kick: Arc<Notify>,
	tls: Option<Arc<ClientConfig>>,
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>;

impl ChargerSim {
	/// A charge point with the car at its initial state of charge.
	pub fn new(config: ChargerSimConfig) -> Self {
		let storage = Storage::new(
			config.capacity_wh,
			config.initial_soc_percent / 100.0,
			config.max_power_w,
			config.reserve_soc_percent / 100.0,
			config.clock.now_ms(),
		);
		let state = ChargerState {
			storage,
			aligned_interval_s: 0,
			aligned_measurands: Vec::new(),
			profile: None,
			transaction: None,
			received: HashMap::new(),
			online: true,
			sessions: 0,
			drop_requested: false,
		};
		Self {
			config,
			state: Arc::new(Mutex::new(state)),
			kick: Arc::new(Notify::new()),
			tls: None,
		}
	}

	/// Trusts the certificate authorities in the PEM file `ca` for `wss://` URLs.
	pub fn with_ca_cert(mut self, ca: &Path) -> Result<Self, CaError> {
		let mut roots = RootCertStore::empty();
		for cert in CertificateDer::pem_file_iter(ca)? {
			roots.add(cert?)?;
		}
		if roots.is_empty() {
			return Err(CaError::Empty);
		}
		let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
			.with_safe_default_protocol_versions()?
			.with_root_certificates(roots)
			.with_no_client_auth();
		self.tls = Some(Arc::new(config));
		Ok(self)
	}

	/// Drops the connection and forgets the profile, as a rebooting charger does.
	pub fn reboot(&self) {
		{
			let mut s = self.state.lock().expect("not poisoned");
			let now = self.config.clock.now_ms();
			s.storage.command(now, 0.0, None);
			s.profile = None;
			s.drop_requested = true;
		}
		self.kick.notify_waiters();
	}

	/// Takes the charge point off the network or back on.
	pub fn set_online(&self, online: bool) {
		self.state.lock().expect("not poisoned").online = online;
		self.kick.notify_waiters();
	}

	/// Runs forever: connect, serve, reconnect.
	pub async fn run(self) {
		let mut backoff = Duration::from_millis(200);
		loop {
			if !self.state.lock().expect("not poisoned").online {
				tokio::time::sleep(Duration::from_millis(100)).await;
				continue;
			}
			match self.session().await {
				Ok(()) => backoff = Duration::from_millis(200),
				Err(e) => {
					tracing::info!(target: "sim-charger", id = %self.config.id, "session ended: {e}");
					tokio::time::sleep(backoff).await;
					backoff = (backoff * 2).min(Duration::from_secs(10));
				},
			}
		}
	}

	fn now_utc(&self) -> DateTime<Utc> {
		DateTime::from_timestamp_millis(self.config.clock.now_ms() as i64).unwrap_or_default()
	}

	async fn session(&self) -> anyhow::Result<()> {
		let url = format!("{}/{}", self.config.url.trim_end_matches('/'), self.config.id);
		let mut request = url.into_client_request()?;
		request
			.headers_mut()
			.insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
		if let Some(pw) = &self.config.password {
			let basic = auth::basic_header(&self.config.id, pw);
			request.headers_mut().insert("Authorization", HeaderValue::from_str(&basic)?);
		}
		let uri = request.uri();
		let host = uri.host().unwrap_or_default().trim_matches(['[', ']']).to_string();
		let secure = uri.scheme_str() == Some("wss");
		let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
		let tcp = TcpStream::connect((host.as_str(), port)).await?;
		if !secure {
			let (ws, response) = tokio_tungstenite::client_async(request, tcp).await?;
			return self.on_socket(ws, response).await;
		}
		let Some(tls) = self.tls.clone() else {
			anyhow::bail!("a wss:// URL needs a certificate authority (--ca-cert)");
		};
		let stream = TlsConnector::from(tls).connect(ServerName::try_from(host)?, tcp).await?;
		let (ws, response) = tokio_tungstenite::client_async(request, stream).await?;
		self.on_socket(ws, response).await
	}

	/// One session over an open WebSocket.
	async fn on_socket<S>(
		&self,
		ws: tokio_tungstenite::WebSocketStream<S>,
		response: tokio_tungstenite::tungstenite::handshake::client::Response,
	) -> anyhow::Result<()>
	where
		S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
	{
		anyhow::ensure!(
			response.headers().get("Sec-WebSocket-Protocol").and_then(|h| h.to_str().ok())
				== Some(SUBPROTOCOL),
			"central system did not accept subprotocol {SUBPROTOCOL}"
		);
		self.state.lock().expect("not poisoned").sessions += 1;
		let (mut sink, mut source) = ws.split();
		let (out, mut queue) = mpsc::channel::<String>(QUEUE);
		let (trigger_tx, mut trigger_rx) = mpsc::channel::<MessageTrigger>(8);
		let pending: Pending = Default::default();
		let writer = tokio::spawn(async move {
			while let Some(text) = queue.recv().await {
				if sink.send(Message::text(text)).await.is_err() {
					break;
				}
			}
			let _ = sink.close().await;
		});
		let reader = {
			let me = self.clone();
			let out = out.clone();
			let pending = pending.clone();
			tokio::spawn(async move {
				while let Some(Ok(msg)) = source.next().await {
					let Message::Text(text) = msg else { continue };
					match Frame::parse(text.as_str()) {
						Ok(Frame::Call { id, action, payload }) => {
							let reply = match me.handle(&action, payload, &trigger_tx) {
								Ok(p) => Frame::CallResult { id, payload: p },
								Err((code, why)) => Frame::error(&id, code, why),
							};
							let _ = out.send(reply.to_text()).await;
						},
						Ok(Frame::CallResult { id, payload }) => {
							if let Some(tx) = pending.lock().expect("not poisoned").remove(&id) {
								let _ = tx.send(payload);
							}
						},
						Ok(Frame::CallError { id, code, description, .. }) => {
							tracing::warn!(target: "sim-charger", "call {id} failed: {code} {description}");
							pending.lock().expect("not poisoned").remove(&id);
						},
						Err(e) => {
							let _ = out.send(e.reply().to_text()).await;
						},
					}
				}
				me.kick.notify_waiters();
			})
		};
		let result = self.drive(&out, &pending, &mut trigger_rx, &reader).await;
		reader.abort();
		drop(out);
		let _ = writer.await;
		result
	}

	async fn call(
		&self,
		out: &mpsc::Sender<String>,
		pending: &Pending,
		action: &str,
		payload: Value,
	) -> anyhow::Result<Value> {
		let id = format!("{:x}", rand_id());
		let (tx, rx) = oneshot::channel();
		pending.lock().expect("not poisoned").insert(id.clone(), tx);
		out.send(Frame::Call { id, action: action.into(), payload }.to_text()).await?;
		Ok(tokio::time::timeout(Duration::from_secs(30), rx).await??)
	}

	async fn drive(
		&self,
		out: &mpsc::Sender<String>,
		pending: &Pending,
		triggers: &mut mpsc::Receiver<MessageTrigger>,
		reader: &tokio::task::JoinHandle<()>,
	) -> anyhow::Result<()> {
		let c = &self.config;
		self.call(out, pending, "BootNotification", json!({"chargePointVendor": "Flexchain", "chargePointModel": "SimV2G", "chargePointSerialNumber": c.id})).await?;
		self.call(out, pending, "StatusNotification", json!({"connectorId": c.connector, "errorCode": "NoError", "status": "Charging", "timestamp": self.now_utc()})).await?;
		if self.state.lock().expect("not poisoned").transaction.is_none() {
			let meter = self.snapshot().1.round() as i64;
			let r = self.call(out, pending, "StartTransaction", json!({"connectorId": c.connector, "idTag": "V2G-CAR", "meterStart": meter, "timestamp": self.now_utc()})).await?;
			self.state.lock().expect("not poisoned").transaction =
				r["transactionId"].as_i64().map(|t| t as i32);
		}
		let generation = self.state.lock().expect("not poisoned").sessions;
		let mut heartbeat = tokio::time::interval(
			c.clock.real_duration(Duration::from_secs(60)).max(Duration::from_millis(50)),
		);
		heartbeat.tick().await;
		loop {
			let (interval_s, online, stale) = {
				let mut s = self.state.lock().expect("not poisoned");
				let stale = s.sessions != generation || s.drop_requested;
				s.drop_requested = false;
				(s.aligned_interval_s, s.online, stale)
			};
			if !online || stale || reader.is_finished() {
				anyhow::bail!("connection closed");
			}
			let next_aligned =
				(interval_s > 0).then(|| Clock::next_aligned(c.clock.now_ms(), interval_s * 1000));
			let sleep_until = next_aligned.unwrap_or(c.clock.now_ms() + 1000);
			tokio::select! {
				_ = c.clock.sleep_until(sleep_until) => {
					if let Some(at) = next_aligned {
						self.send_meter(out, pending, at, "Sample.Clock").await?;
					}
				},
				Some(t) = triggers.recv() => match t {
					MessageTrigger::MeterValues => self.send_meter(out, pending, c.clock.now_ms(), "Trigger").await?,
					MessageTrigger::Heartbeat => { self.call(out, pending, "Heartbeat", json!({})).await?; },
					_ => {},
				},
				_ = heartbeat.tick() => { self.call(out, pending, "Heartbeat", json!({})).await?; },
				_ = self.kick.notified() => {},
			}
		}
	}

	/// Power (W, export positive), exported and imported energy (Wh) and SoC (%) at
	/// market time now.
	fn snapshot(&self) -> (f64, f64, f64, f64) {
		let mut s = self.state.lock().expect("not poisoned");
		s.storage.advance(self.config.clock.now_ms());
		let st = &s.storage;
		(st.power_w, st.exported_wh, st.imported_wh, st.soc_percent())
	}

	async fn send_meter(
		&self,
		out: &mpsc::Sender<String>,
		pending: &Pending,
		at_ms: u64,
		context: &str,
	) -> anyhow::Result<()> {
		let (power, exported, imported, soc) = self.snapshot();
		let (measurands, tx) = {
			let s = self.state.lock().expect("not poisoned");
			(s.aligned_measurands.clone(), s.transaction)
		};
		let want = |m: &str| measurands.is_empty() || measurands.iter().any(|x| x == m);
		let mut values = Vec::new();
		if want("Energy.Active.Export.Register") {
			values.push(json!({"value": format!("{}", exported.floor() as u64), "context": context, "measurand": "Energy.Active.Export.Register", "unit": "Wh"}));
		}
		if want("Energy.Active.Import.Register") {
			values.push(json!({"value": format!("{}", imported.floor() as u64), "context": context, "measurand": "Energy.Active.Import.Register", "unit": "Wh"}));
		}
		if want("Power.Active.Import") {
			values.push(json!({"value": format!("{:.0}", (-power).max(0.0)), "context": context, "measurand": "Power.Active.Import", "unit": "W"}));
		}
		if want("Power.Active.Export") {
			values.push(json!({"value": format!("{:.0}", power.max(0.0)), "context": context, "measurand": "Power.Active.Export", "unit": "W"}));
		}
		if want("SoC") {
			values.push(json!({"value": format!("{soc:.1}"), "context": context, "measurand": "SoC", "unit": "Percent"}));
		}
		let ts = DateTime::from_timestamp_millis(at_ms as i64).unwrap_or_default();
		let mut payload = json!({"connectorId": self.config.connector, "meterValue": [{"timestamp": ts, "sampledValue": values}]});
		if let Some(tx) = tx {
			payload["transactionId"] = json!(tx);
		}
		self.call(out, pending, "MeterValues", payload).await?;
		Ok(())
	}

	/// Sets the car's power: positive discharges, negative charges; until market time
	/// `until_ms` if given (the profile's end: `validTo` or its schedule's duration).
	fn command(&self, watts: f64, profile: Option<i32>, until_ms: Option<u64>) {
		let mut s = self.state.lock().expect("not poisoned");
		let now = self.config.clock.now_ms();
		let max = self.config.max_power_w;
		s.storage.command_until(now, watts.clamp(-max, max), until_ms);
		s.profile = profile;
	}

	fn handle(
		&self,
		action: &str,
		payload: Value,
		triggers: &mpsc::Sender<MessageTrigger>,
	) -> Result<Value, (ErrorCode, String)> {
		fn parse<T: serde::de::DeserializeOwned>(p: Value) -> Result<T, (ErrorCode, String)> {
			serde_json::from_value(p).map_err(|e| (ErrorCode::FormationViolation, e.to_string()))
		}
		*self.state.lock().expect("not poisoned").received.entry(action.into()).or_default() += 1;
		match action {
			"SetChargingProfile" => {
				let req: SetChargingProfileRequest = parse(payload)?;
				let p = &req.cs_charging_profiles;
				let Some(period) = p.charging_schedule.charging_schedule_period.first() else {
					return Err((
						ErrorCode::OccurenceConstraintViolation,
						"no schedule period".into(),
					));
				};
				let limit = period.limit.to_f64().unwrap_or(0.0);
				let watts = match p.charging_schedule.charging_rate_unit {
					ChargingRateUnitType::W => limit,
					ChargingRateUnitType::A => {
						limit * self.config.voltage * period.number_phases.unwrap_or(3) as f64
					},
				};
				if watts < 0.0
					&& p.charging_profile_purpose
						== ChargingProfilePurposeType::ChargePointMaxProfile
				{
					return Ok(json!({"status": "Rejected"}));
				}
				// The profile ends at its validTo, or its schedule's start plus duration.
				let ms = |t: DateTime<Utc>| t.timestamp_millis().max(0) as u64;
				let start = p.charging_schedule.start_schedule.map(ms);
				let by_duration = p
					.charging_schedule
					.duration
					.map(|d| start.unwrap_or(self.config.clock.now_ms()) + d.max(0) as u64 * 1_000);
				let until = match (p.valid_to.map(ms), by_duration) {
					(Some(a), Some(b)) => Some(a.min(b)),
					(a, b) => a.or(b),
				};
				// A negative limit discharges, a positive one charges the car.
				self.command(-watts, Some(p.charging_profile_id), until);
				Ok(json!({"status": "Accepted"}))
			},
			"ClearChargingProfile" => {
				let req: ClearChargingProfileRequest = parse(payload)?;
				let current = self.state.lock().expect("not poisoned").profile;
				if current.is_some() && (req.id.is_none() || req.id == current) {
					self.command(0.0, None, None);
					Ok(json!({"status": "Accepted"}))
				} else {
					Ok(json!({"status": "Unknown"}))
				}
			},
			"GetCompositeSchedule" => {
				let req: GetCompositeScheduleRequest = parse(payload)?;
				let setpoint = self.state.lock().expect("not poisoned").storage.setpoint_w;
				Ok(
					json!({"status": "Accepted", "connectorId": req.connector_id, "scheduleStart": self.now_utc(),
					"chargingSchedule": {"duration": req.duration, "chargingRateUnit": "W",
						"chargingSchedulePeriod": [{"startPeriod": 0, "limit": -setpoint}]}}),
				)
			},
			"ChangeConfiguration" => {
				let req: ChangeConfigurationRequest = parse(payload)?;
				let mut s = self.state.lock().expect("not poisoned");
				let status = match req.key.as_str() {
					"ClockAlignedDataInterval" => match req.value.parse::<u64>() {
						Ok(v) => {
							s.aligned_interval_s = v;
							"Accepted"
						},
						Err(_) => "Rejected",
					},
					key @ ("MeterValuesAlignedData" | "MeterValuesSampledData") => {
						let known = [
							"Energy.Active.Export.Register",
							"Energy.Active.Import.Register",
							"Power.Active.Export",
							"Power.Active.Import",
							"SoC",
						];
						let list: Vec<String> =
							req.value.split(',').map(|m| m.trim().to_string()).collect();
						if list.iter().all(|m| known.contains(&m.as_str())) {
							// Triggered readings carry the aligned measurands too.
							if key == "MeterValuesAlignedData" {
								s.aligned_measurands = list;
							}
							"Accepted"
						} else {
							"Rejected"
						}
					},
					_ => "NotSupported",
				};
				Ok(json!({"status": status}))
			},
			"TriggerMessage" => {
				let req: TriggerMessageRequest = parse(payload)?;
				match req.requested_message {
					m @ (MessageTrigger::MeterValues | MessageTrigger::Heartbeat) => {
						let _ = triggers.try_send(m);
						Ok(json!({"status": "Accepted"}))
					},
					_ => Ok(json!({"status": "NotImplemented"})),
				}
			},
			"DataTransfer" => {
				let req: DataTransferRequest = parse(payload)?;
				let Some((vendor, message)) = &self.config.data_transfer else {
					return Ok(json!({"status": "UnknownVendorId"}));
				};
				if &req.vendor_string != vendor {
					return Ok(json!({"status": "UnknownVendorId"}));
				}
				if req.message_id.as_ref() != Some(message) {
					return Ok(json!({"status": "UnknownMessageId"}));
				}
				let data: DischargeData =
					serde_json::from_str(req.data.as_deref().unwrap_or(""))
						.map_err(|e| (ErrorCode::FormationViolation, e.to_string()))?;
				self.command(data.watts as f64, (data.watts != 0).then_some(0), None);
				Ok(json!({"status": "Accepted"}))
			},
			other => Err((ErrorCode::NotImplemented, format!("{other} is not implemented"))),
		}
	}
}

fn rand_id() -> u64 {
	use std::sync::atomic::{AtomicU64, Ordering};
	static NEXT: AtomicU64 = AtomicU64::new(1);
	NEXT.fetch_add(1, Ordering::Relaxed)
}
