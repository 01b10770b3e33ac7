//! The OCPP 1.6J central system: a WebSocket server that chargers connect to.
//!
//! One session per charge point id (the last segment of the URL path); a new
//! connection for the same id replaces the old one and gets its active setpoint again.
//! At most one CALL to a charger is in flight; each waits at most the call timeout.

use crate::{
	clock::Clock,
	ocpp::{
		frame::{ErrorCode, Frame},
		meter::{self, MeterSample},
	},
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use rust_ocpp::v1_6::{
	messages::{
		authorize::{AuthorizeRequest, AuthorizeResponse},
		boot_notification::{BootNotificationRequest, BootNotificationResponse},
		change_configuration::{ChangeConfigurationRequest, ChangeConfigurationResponse},
		clear_charging_profile::{ClearChargingProfileRequest, ClearChargingProfileResponse},
		data_transfer::{DataTransferRequest, DataTransferResponse},
		get_composite_schedule::{GetCompositeScheduleRequest, GetCompositeScheduleResponse},
		heart_beat::HeartbeatResponse,
		meter_values::MeterValuesRequest,
		set_charging_profile::{SetChargingProfileRequest, SetChargingProfileResponse},
		start_transaction::{StartTransactionRequest, StartTransactionResponse},
		status_notification::StatusNotificationRequest,
		stop_transaction::{StopTransactionRequest, StopTransactionResponse},
		trigger_message::{TriggerMessageRequest, TriggerMessageResponse},
	},
	types::{
		AuthorizationStatus, ChargingProfile, ChargingProfileKindType, ChargingProfilePurposeType,
		ChargingProfileStatus, ChargingRateUnitType, ChargingSchedule, ChargingSchedulePeriod,
		ClearChargingProfileStatus, ConfigurationStatus, DataTransferStatus, IdTagInfo,
		MessageTrigger, RegistrationStatus, TriggerMessageStatus,
	},
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use std::{
	collections::HashMap,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};
use tokio::{
	net::{TcpListener, TcpStream},
	sync::{mpsc, oneshot},
};
use tokio_tungstenite::tungstenite::{
	handshake::server::{ErrorResponse, Request, Response},
	http::{HeaderValue, StatusCode},
	Message,
};

/// The WebSocket subprotocol of OCPP 1.6J.
pub const SUBPROTOCOL: &str = "ocpp1.6";
/// Id of the charging profile the bridge installs.
pub const PROFILE_ID: i32 = 7171;
/// Heartbeat interval the bridge asks chargers for, seconds.
pub const HEARTBEAT_S: u32 = 60;

/// How a charger is told to discharge.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum DischargeMode {
	/// `SetChargingProfile` with a negative limit in W (the default).
	#[default]
	NegativeWatts,
	/// `SetChargingProfile` with a negative limit in A over the given phases and voltage.
	NegativeAmps {
		/// Phases in use.
		phases: u32,
		/// Phase voltage in V.
		voltage: f64,
	},
	/// A vendor `DataTransfer` with `{"watts": w}` as data.
	DataTransfer {
		/// The vendor id.
		vendor_id: String,
		/// The message id.
		message_id: String,
	},
}

/// A charger the bridge accepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChargerConfig {
	/// Charge point id, the last segment of its URL.
	pub id: String,
	/// Connector that the car is on.
	pub connector: u32,
	/// HTTP Basic password (security profile 1), if required.
	#[serde(default)]
	pub password: Option<String>,
	/// How to command discharge.
	#[serde(default)]
	pub discharge: DischargeMode,
}

/// Something a charger did.
#[derive(Clone, Debug, PartialEq)]
pub enum ChargerEvent {
	/// A WebSocket session opened.
	Connected {
		/// Charge point id.
		id: String,
	},
	/// The session closed.
	Disconnected {
		/// Charge point id.
		id: String,
	},
	/// BootNotification.
	Booted {
		/// Charge point id.
		id: String,
		/// Vendor and model.
		vendor: String,
		/// Model.
		model: String,
	},
	/// StatusNotification.
	Status {
		/// Charge point id.
		id: String,
		/// Connector.
		connector: u32,
		/// Status as spelled by OCPP.
		status: String,
	},
	/// MeterValues (or StopTransaction data).
	Meter {
		/// Charge point id.
		id: String,
		/// Connector.
		connector: u32,
		/// The reading.
		sample: MeterSample,
	},
}

/// Why a command to a charger failed.
#[derive(Debug, thiserror::Error)]
pub enum OcppError {
	/// The charger is not connected.
	#[error("charger {0} is not connected")]
	NotConnected(String),
	/// The charger is not in the configuration.
	#[error("charger {0} is not configured")]
	Unknown(String),
	/// No answer within the timeout.
	#[error("charger {0} did not answer {1} within {2:?}")]
	Timeout(String, &'static str, Duration),
	/// The charger answered with a CALLERROR.
	#[error("charger {id} answered {action} with {code}: {description}")]
	CallError {
		/// Charge point id.
		id: String,
		/// The action.
		action: &'static str,
		/// The error code.
		code: ErrorCode,
		/// Its description.
		description: String,
	},
	/// The charger answered with something that is not the action's response.
	#[error("charger {0} answered {1} with a malformed payload: {2}")]
	BadResponse(String, &'static str, String),
	/// The charger refused.
	#[error("charger {0} refused {1}: {2}")]
	Refused(String, &'static str, String),
	/// The connection dropped before the answer came.
	#[error("charger {0} disconnected during {1}")]
	Dropped(String, &'static str),
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, (ErrorCode, String)>>>>>;

struct Session {
	generation: u64,
	outgoing: mpsc::UnboundedSender<Message>,
	pending: Pending,
	call_lock: Arc<tokio::sync::Mutex<()>>,
}

struct Inner {
	chargers: HashMap<String, ChargerConfig>,
	sessions: Mutex<HashMap<String, Session>>,
	active: Mutex<HashMap<String, f64>>,
	events: mpsc::UnboundedSender<ChargerEvent>,
	clock: Clock,
	call_timeout: Duration,
	meter_interval_s: u32,
	next_id: AtomicU64,
	next_generation: AtomicU64,
	next_transaction: AtomicU64,
}

/// The central system; cheap to clone.
#[derive(Clone)]
pub struct CentralSystem(Arc<Inner>);

fn now_utc(clock: &Clock) -> DateTime<Utc> {
	DateTime::from_timestamp_millis(clock.now_ms() as i64).unwrap_or_default()
}

fn reject(status: StatusCode, why: &str) -> ErrorResponse {
	let mut r = ErrorResponse::new(Some(why.to_string()));
	*r.status_mut() = status;
	r
}

impl CentralSystem {
	/// A central system for `chargers`; events arrive on the returned receiver.
	pub fn new(
		chargers: Vec<ChargerConfig>,
		clock: Clock,
		call_timeout: Duration,
		meter_interval_s: u32,
	) -> (Self, mpsc::UnboundedReceiver<ChargerEvent>) {
		let (events, rx) = mpsc::unbounded_channel();
		let inner = Inner {
			chargers: chargers.into_iter().map(|c| (c.id.clone(), c)).collect(),
			sessions: Mutex::new(HashMap::new()),
			active: Mutex::new(HashMap::new()),
			events,
			clock,
			call_timeout,
			meter_interval_s,
			next_id: AtomicU64::new(1),
			next_generation: AtomicU64::new(1),
			next_transaction: AtomicU64::new(1),
		};
		(Self(Arc::new(inner)), rx)
	}

	/// Ids of the chargers connected now.
	pub fn connected(&self) -> Vec<String> {
		let mut ids: Vec<String> =
			self.0.sessions.lock().expect("not poisoned").keys().cloned().collect();
		ids.sort();
		ids
	}

	/// Accepts chargers on `listener` until the task is dropped.
	pub async fn serve(self, listener: TcpListener) {
		loop {
			match listener.accept().await {
				Ok((stream, peer)) => {
					let me = self.clone();
					tokio::spawn(async move {
						if let Err(e) = me.session(stream).await {
							tracing::info!(target: "ocpp", %peer, "connection refused or failed: {e}");
						}
					});
				},
				Err(e) => {
					tracing::warn!(target: "ocpp", "accept failed: {e}");
					tokio::time::sleep(Duration::from_millis(100)).await;
				},
			}
		}
	}

	fn check_handshake(
		&self,
		req: &Request,
		mut resp: Response,
	) -> Result<(String, Response), ErrorResponse> {
		let id = req
			.uri()
			.path()
			.trim_end_matches('/')
			.rsplit('/')
			.next()
			.unwrap_or_default()
			.to_string();
		let Some(charger) = self.0.chargers.get(&id) else {
			return Err(reject(StatusCode::NOT_FOUND, "unknown charge point id"));
		};
		let offers_ocpp16 = req
			.headers()
			.get_all("Sec-WebSocket-Protocol")
			.iter()
			.filter_map(|h| h.to_str().ok())
			.flat_map(|h| h.split(','))
			.any(|p| p.trim() == SUBPROTOCOL);
		if !offers_ocpp16 {
			return Err(reject(StatusCode::BAD_REQUEST, "subprotocol ocpp1.6 required"));
		}
		if let Some(password) = &charger.password {
			let expected = format!(
				"Basic {}",
				base64::engine::general_purpose::STANDARD.encode(format!("{id}:{password}"))
			);
			let given = req.headers().get("Authorization").and_then(|h| h.to_str().ok());
			if given != Some(expected.as_str()) {
				let mut r = reject(StatusCode::UNAUTHORIZED, "wrong or missing credentials");
				r.headers_mut()
					.insert("WWW-Authenticate", HeaderValue::from_static("Basic realm=\"ocpp\""));
				return Err(r);
			}
		}
		resp.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
		Ok((id, resp))
	}

	async fn session(self, stream: TcpStream) -> anyhow::Result<()> {
		let id_slot = Arc::new(Mutex::new(None));
		let slot = id_slot.clone();
		let me = self.clone();
		let ws =
			tokio_tungstenite::accept_hdr_async(stream, move |req: &Request, resp: Response| {
				let (id, resp) = me.check_handshake(req, resp)?;
				*slot.lock().expect("not poisoned") = Some(id);
				Ok(resp)
			})
			.await?;
		let id =
			id_slot.lock().expect("not poisoned").take().ok_or_else(|| anyhow::anyhow!("no id"))?;
		let (mut sink, mut source) = ws.split();
		let (outgoing, mut queue) = mpsc::unbounded_channel::<Message>();
		let generation = self.0.next_generation.fetch_add(1, Ordering::Relaxed);
		let pending: Pending = Default::default();
		let old = self.0.sessions.lock().expect("not poisoned").insert(
			id.clone(),
			Session {
				generation,
				outgoing: outgoing.clone(),
				pending: pending.clone(),
				call_lock: Default::default(),
			},
		);
		if let Some(old) = old {
			tracing::info!(target: "ocpp", %id, "new connection replaces the old session");
			let _ = old.outgoing.send(Message::Close(None));
		}
		tracing::info!(target: "ocpp", %id, "connected");
		let _ = self.0.events.send(ChargerEvent::Connected { id: id.clone() });
		let writer = tokio::spawn(async move {
			let mut ping = tokio::time::interval(Duration::from_secs(20));
			ping.tick().await;
			loop {
				tokio::select! {
					msg = queue.recv() => match msg {
						Some(m) => {
							let close = matches!(m, Message::Close(_));
							if sink.send(m).await.is_err() || close { break; }
						},
						None => break,
					},
					_ = ping.tick() => if sink.send(Message::Ping(Default::default())).await.is_err() { break },
				}
			}
			let _ = sink.close().await;
		});
		// A charger that reconnects may skip BootNotification: resume it shortly anyway.
		let resumer = {
			let me = self.clone();
			let id = id.clone();
			tokio::spawn(async move {
				tokio::time::sleep(Duration::from_millis(300)).await;
				me.resume(&id).await;
			})
		};
		while let Some(msg) = source.next().await {
			let text = match msg {
				Ok(Message::Text(t)) => t.to_string(),
				Ok(Message::Binary(_)) => {
					let reply = Frame::error(
						"-1",
						ErrorCode::FormationViolation,
						"OCPP-J uses text frames",
					);
					let _ = outgoing.send(Message::text(reply.to_text()));
					continue;
				},
				Ok(Message::Close(_)) | Err(_) => break,
				Ok(_) => continue,
			};
			match Frame::parse(&text) {
				Err(e) => {
					tracing::warn!(target: "ocpp", %id, "malformed frame: {e}");
					let _ = outgoing.send(Message::text(e.reply().to_text()));
				},
				Ok(Frame::Call { id: msg_id, action, payload }) => {
					let reply = match self.handle_call(&id, &action, payload) {
						Ok(payload) => Frame::CallResult { id: msg_id, payload },
						Err((code, why)) => {
							tracing::warn!(target: "ocpp", %id, %action, "answered {code}: {why}");
							Frame::error(&msg_id, code, why)
						},
					};
					let _ = outgoing.send(Message::text(reply.to_text()));
					if action == "BootNotification" {
						let me = self.clone();
						let id = id.clone();
						tokio::spawn(async move { me.resume(&id).await });
					}
				},
				Ok(Frame::CallResult { id: msg_id, payload }) => {
					if let Some(tx) = pending.lock().expect("not poisoned").remove(&msg_id) {
						let _ = tx.send(Ok(payload));
					}
				},
				Ok(Frame::CallError { id: msg_id, code, description, .. }) => {
					if let Some(tx) = pending.lock().expect("not poisoned").remove(&msg_id) {
						let _ = tx.send(Err((code, description)));
					}
				},
			}
		}
		resumer.abort();
		drop(outgoing);
		let ended = {
			let mut sessions = self.0.sessions.lock().expect("not poisoned");
			if sessions.get(&id).is_some_and(|s| s.generation == generation) {
				sessions.remove(&id)
			} else {
				None
			}
		};
		if let Some(s) = ended {
			let _ = s.outgoing.send(Message::Close(None));
			tracing::info!(target: "ocpp", %id, "disconnected");
			let _ = self.0.events.send(ChargerEvent::Disconnected { id: id.clone() });
		}
		pending.lock().expect("not poisoned").clear();
		let _ = writer.await;
		Ok(())
	}

	/// Configures metering and re-applies the active setpoint of a (re)connected charger.
	async fn resume(&self, id: &str) {
		if let Err(e) = self.configure_metering(id).await {
			tracing::warn!(target: "ocpp", %id, "metering configuration failed: {e}");
		}
		let active = self.0.active.lock().expect("not poisoned").get(id).copied();
		if let Some(watts) = active {
			match self.send_setpoint(id, watts).await {
				Ok(()) => tracing::info!(target: "ocpp", %id, watts, "active setpoint sent again"),
				Err(e) => {
					tracing::warn!(target: "ocpp", %id, "could not restore the setpoint: {e}")
				},
			}
		}
	}

	fn handle_call(
		&self,
		id: &str,
		action: &str,
		payload: Value,
	) -> Result<Value, (ErrorCode, String)> {
		fn parse<T: DeserializeOwned>(payload: Value) -> Result<T, (ErrorCode, String)> {
			serde_json::from_value(payload)
				.map_err(|e| (ErrorCode::FormationViolation, e.to_string()))
		}
		fn reply<T: Serialize>(v: T) -> Result<Value, (ErrorCode, String)> {
			serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
		}
		let accepted = || IdTagInfo {
			expiry_date: None,
			parent_id_tag: None,
			status: AuthorizationStatus::Accepted,
		};
		let events = &self.0.events;
		match action {
			"BootNotification" => {
				let req: BootNotificationRequest = parse(payload)?;
				tracing::info!(target: "ocpp", %id, vendor = %req.charge_point_vendor, model = %req.charge_point_model, "booted");
				let _ = events.send(ChargerEvent::Booted {
					id: id.into(),
					vendor: req.charge_point_vendor,
					model: req.charge_point_model,
				});
				reply(BootNotificationResponse {
					current_time: now_utc(&self.0.clock),
					interval: HEARTBEAT_S,
					status: RegistrationStatus::Accepted,
				})
			},
			"Heartbeat" => reply(HeartbeatResponse { current_time: now_utc(&self.0.clock) }),
			"StatusNotification" => {
				let req: StatusNotificationRequest = parse(payload)?;
				let status = serde_json::to_value(&req.status)
					.ok()
					.and_then(|v| v.as_str().map(String::from))
					.unwrap_or_default();
				let _ = events.send(ChargerEvent::Status {
					id: id.into(),
					connector: req.connector_id,
					status,
				});
				reply(serde_json::json!({}))
			},
			"Authorize" => {
				let _req: AuthorizeRequest = parse(payload)?;
				reply(AuthorizeResponse { id_tag_info: accepted() })
			},
			"StartTransaction" => {
				let _req: StartTransactionRequest = parse(payload)?;
				let tx = self.0.next_transaction.fetch_add(1, Ordering::Relaxed) as i32;
				reply(StartTransactionResponse { id_tag_info: accepted(), transaction_id: tx })
			},
			"StopTransaction" => {
				let req: StopTransactionRequest = parse(payload)?;
				if let Some(data) = req.transaction_data {
					let mv = MeterValuesRequest {
						connector_id: 0,
						transaction_id: None,
						meter_value: data,
					};
					self.meter(id, mv)?;
				}
				reply(StopTransactionResponse { id_tag_info: Some(accepted()) })
			},
			"MeterValues" => {
				let req: MeterValuesRequest = parse(payload)?;
				self.meter(id, req)?;
				reply(serde_json::json!({}))
			},
			"DataTransfer" => {
				let _req: DataTransferRequest = parse(payload)?;
				reply(DataTransferResponse {
					status: DataTransferStatus::UnknownVendorId,
					data: None,
				})
			},
			"DiagnosticsStatusNotification" | "FirmwareStatusNotification" => {
				reply(serde_json::json!({}))
			},
			other => Err((ErrorCode::NotImplemented, format!("action {other} is not implemented"))),
		}
	}

	fn meter(&self, id: &str, req: MeterValuesRequest) -> Result<(), (ErrorCode, String)> {
		let samples = meter::samples(&req)
			.map_err(|e| (ErrorCode::PropertyConstraintViolation, e.to_string()))?;
		for sample in samples {
			let _ = self.0.events.send(ChargerEvent::Meter {
				id: id.into(),
				connector: req.connector_id,
				sample,
			});
		}
		Ok(())
	}

	/// Sends a CALL and waits for its answer.
	pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
		&self,
		id: &str,
		action: &'static str,
		req: &Req,
	) -> Result<Resp, OcppError> {
		let (outgoing, pending, lock) = {
			let sessions = self.0.sessions.lock().expect("not poisoned");
			let s = sessions.get(id).ok_or_else(|| OcppError::NotConnected(id.into()))?;
			(s.outgoing.clone(), s.pending.clone(), s.call_lock.clone())
		};
		let _one_at_a_time = lock.lock().await;
		let msg_id = self.0.next_id.fetch_add(1, Ordering::Relaxed).to_string();
		let (tx, rx) = oneshot::channel();
		pending.lock().expect("not poisoned").insert(msg_id.clone(), tx);
		let payload = serde_json::to_value(req)
			.map_err(|e| OcppError::BadResponse(id.into(), action, e.to_string()))?;
		let frame = Frame::Call { id: msg_id.clone(), action: action.into(), payload };
		if outgoing.send(Message::text(frame.to_text())).is_err() {
			pending.lock().expect("not poisoned").remove(&msg_id);
			return Err(OcppError::NotConnected(id.into()));
		}
		let answer = match tokio::time::timeout(self.0.call_timeout, rx).await {
			Ok(Ok(answer)) => answer,
			Ok(Err(_)) => return Err(OcppError::Dropped(id.into(), action)),
			Err(_) => {
				pending.lock().expect("not poisoned").remove(&msg_id);
				return Err(OcppError::Timeout(id.into(), action, self.0.call_timeout));
			},
		};
		match answer {
			Ok(payload) => serde_json::from_value(payload)
				.map_err(|e| OcppError::BadResponse(id.into(), action, e.to_string())),
			Err((code, description)) => {
				Err(OcppError::CallError { id: id.into(), action, code, description })
			},
		}
	}

	fn charger(&self, id: &str) -> Result<&ChargerConfig, OcppError> {
		self.0.chargers.get(id).ok_or_else(|| OcppError::Unknown(id.into()))
	}

	/// Asks for clock-aligned meter values of export energy, export power and SoC.
	pub async fn configure_metering(&self, id: &str) -> Result<(), OcppError> {
		let settings = [
			("ClockAlignedDataInterval", self.0.meter_interval_s.to_string()),
			(
				"MeterValuesAlignedData",
				"Energy.Active.Export.Register,Energy.Active.Import.Register,Power.Active.Export,SoC"
					.to_string(),
			),
		];
		for (key, value) in settings {
			let r: ChangeConfigurationResponse = self
				.call(
					id,
					"ChangeConfiguration",
					&ChangeConfigurationRequest { key: key.into(), value },
				)
				.await?;
			if !matches!(
				r.status,
				ConfigurationStatus::Accepted | ConfigurationStatus::RebootRequired
			) {
				return Err(OcppError::Refused(
					id.into(),
					"ChangeConfiguration",
					format!("{key}: {:?}", r.status),
				));
			}
		}
		Ok(())
	}

	/// Commands `watts`: positive discharges (export), negative charges, 0 clears the
	/// profile. Remembers it, so a reconnecting charger gets it again.
	pub async fn set_power(&self, id: &str, watts: f64) -> Result<(), OcppError> {
		self.charger(id)?;
		if watts != 0.0 {
			self.0.active.lock().expect("not poisoned").insert(id.into(), watts);
		} else {
			self.0.active.lock().expect("not poisoned").remove(id);
		}
		self.send_setpoint(id, watts).await
	}

	async fn send_setpoint(&self, id: &str, watts: f64) -> Result<(), OcppError> {
		let charger = self.charger(id)?.clone();
		match &charger.discharge {
			DischargeMode::DataTransfer { vendor_id, message_id } => {
				let req = DataTransferRequest {
					vendor_string: vendor_id.clone(),
					message_id: Some(message_id.clone()),
					data: Some(serde_json::json!({ "watts": watts.round() as i64 }).to_string()),
				};
				let r: DataTransferResponse = self.call(id, "DataTransfer", &req).await?;
				if r.status != DataTransferStatus::Accepted {
					return Err(OcppError::Refused(
						id.into(),
						"DataTransfer",
						format!("{:?}", r.status),
					));
				}
				Ok(())
			},
			_ if watts == 0.0 => {
				let req =
					ClearChargingProfileRequest { id: Some(PROFILE_ID), ..Default::default() };
				let r: ClearChargingProfileResponse =
					self.call(id, "ClearChargingProfile", &req).await?;
				match r.status {
					ClearChargingProfileStatus::Accepted | ClearChargingProfileStatus::Unknown => {
						Ok(())
					},
				}
			},
			mode => {
				let (unit, limit, phases) = match mode {
					DischargeMode::NegativeAmps { phases, voltage } => (
						ChargingRateUnitType::A,
						-(watts / (*phases as f64 * voltage)),
						Some(*phases as i32),
					),
					_ => (ChargingRateUnitType::W, -watts, None),
				};
				let limit = Decimal::from_f64_retain((limit * 10.0).round() / 10.0)
					.unwrap_or_default()
					.normalize();
				let req = SetChargingProfileRequest {
					connector_id: charger.connector as i32,
					cs_charging_profiles: ChargingProfile {
						charging_profile_id: PROFILE_ID,
						transaction_id: None,
						stack_level: 1,
						charging_profile_purpose: ChargingProfilePurposeType::TxDefaultProfile,
						charging_profile_kind: ChargingProfileKindType::Relative,
						recurrency_kind: None,
						valid_from: None,
						valid_to: None,
						charging_schedule: ChargingSchedule {
							duration: None,
							start_schedule: None,
							charging_rate_unit: unit,
							charging_schedule_period: vec![ChargingSchedulePeriod {
								start_period: 0,
								limit,
								number_phases: phases,
							}],
							min_charging_rate: None,
						},
					},
				};
				let r: SetChargingProfileResponse =
					self.call(id, "SetChargingProfile", &req).await?;
				if r.status != ChargingProfileStatus::Accepted {
					return Err(OcppError::Refused(
						id.into(),
						"SetChargingProfile",
						format!("{:?}", r.status),
					));
				}
				Ok(())
			},
		}
	}

	/// The charger's composite schedule for the next `duration_s` seconds.
	pub async fn composite_schedule(
		&self,
		id: &str,
		duration_s: i32,
	) -> Result<GetCompositeScheduleResponse, OcppError> {
		let connector_id = self.charger(id)?.connector as i32;
		let req = GetCompositeScheduleRequest {
			connector_id,
			duration: duration_s,
			charging_rate_unit: Some(ChargingRateUnitType::W),
		};
		self.call(id, "GetCompositeSchedule", &req).await
	}

	/// Asks the charger for a meter reading now.
	pub async fn trigger_meter_values(&self, id: &str) -> Result<(), OcppError> {
		let connector_id = Some(self.charger(id)?.connector);
		let req =
			TriggerMessageRequest { requested_message: MessageTrigger::MeterValues, connector_id };
		let r: TriggerMessageResponse = self.call(id, "TriggerMessage", &req).await?;
		if r.status != TriggerMessageStatus::Accepted {
			return Err(OcppError::Refused(id.into(), "TriggerMessage", format!("{:?}", r.status)));
		}
		Ok(())
	}

	/// The setpoint the bridge holds for a charger, in W.
	pub fn active_setpoint(&self, id: &str) -> Option<f64> {
		self.0.active.lock().expect("not poisoned").get(id).copied()
	}
}

/// What a charger must have in a `DataTransfer` for [`DischargeMode::DataTransfer`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DischargeData {
	/// Discharge power in W (0 stops).
	pub watts: i64,
}
