//! The OCPP 1.6J central system: a WebSocket server that chargers connect to.
//!
//! One session per charge point id (the last segment of the URL path). A charger with
//! a password (security profile 1, or 2 behind TLS) must present it on the upgrade; a
//! new authenticated connection for the same id replaces the old session and gets its
//! active setpoint again, while an unauthenticated one is refused as long as the
//! first session lives (sessions without any frame for the idle timeout are dropped).
//! At most one CALL to a charger is in flight; each waits at most the call timeout.
//! Connections, handshakes, frames and message rates are bounded by [`Limits`];
//! every queue is bounded, so a slow consumer slows the chargers down rather than
//! growing memory.

use crate::{
	anomaly::AnomalyKind,
	clock::Clock,
	metrics::Metrics,
	ocpp::{
		auth,
		frame::{ErrorCode, Frame},
		limits::{Limits, Refusal, PING_INTERVAL},
		meter::{self, MeterSample},
	},
};
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use rust_ocpp::v1_6::{
	messages::{
		change_configuration::{ChangeConfigurationRequest, ChangeConfigurationResponse},
		clear_charging_profile::{ClearChargingProfileRequest, ClearChargingProfileResponse},
		data_transfer::{DataTransferRequest, DataTransferResponse},
		get_composite_schedule::{GetCompositeScheduleRequest, GetCompositeScheduleResponse},
		meter_values::MeterValuesRequest,
		set_charging_profile::{SetChargingProfileRequest, SetChargingProfileResponse},
		trigger_message::{TriggerMessageRequest, TriggerMessageResponse},
	},
	types::{
		ChargingProfile, ChargingProfileKindType, ChargingProfilePurposeType,
		ChargingProfileStatus, ChargingRateUnitType, ChargingSchedule, ChargingSchedulePeriod,
		ClearChargingProfileStatus, ConfigurationStatus, DataTransferStatus, MessageTrigger,
		TriggerMessageStatus,
	},
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use std::{
	collections::{HashMap, VecDeque},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};
use tokio::{
	io::{AsyncRead, AsyncWrite},
	net::{TcpListener, TcpStream},
	sync::{mpsc, oneshot, Semaphore},
	time::{timeout, Instant},
};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::{
	tungstenite::{
		self,
		handshake::server::{ErrorResponse, Request, Response},
		http::{HeaderValue, StatusCode},
		protocol::{frame::coding::CloseCode, CloseFrame},
		Message,
	},
	WebSocketStream,
};

/// The WebSocket subprotocol of OCPP 1.6J.
pub const SUBPROTOCOL: &str = "ocpp1.6";
/// Id of the charging profile the bridge installs.
pub const PROFILE_ID: i32 = 7171;
/// Heartbeat interval the bridge asks chargers for, seconds.
pub const HEARTBEAT_S: u32 = 60;
/// Charger events queued for the bridge before sessions wait.
pub const EVENT_QUEUE: usize = 1_024;
/// Frames queued for one charger before its session waits.
pub const OUTGOING_QUEUE: usize = 64;
/// The measurand lists asked of chargers, longest first: a charger that cannot
/// measure one rejects a list, and the next, shorter one is tried.
pub const METERING_MEASURANDS: [&str; 3] = [
	"Energy.Active.Export.Register,Energy.Active.Import.Register,Power.Active.Export,SoC",
	"Energy.Active.Export.Register,Energy.Active.Import.Register,Power.Active.Export",
	"Energy.Active.Export.Register",
];
/// Transactions remembered per charger (to place `StopTransaction` readings).
const TRANSACTIONS_KEPT: usize = 8;

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
	/// Connector that the car is on; readings of other connectors are refused.
	pub connector: u32,
	/// HTTP Basic password (security profile 1, or 2 behind TLS), if required.
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
	/// MeterValues (or StopTransaction data) of the configured connector.
	Meter {
		/// Charge point id.
		id: String,
		/// Connector.
		connector: u32,
		/// The reading, stamped with the bridge's clock on arrival.
		sample: MeterSample,
	},
	/// Readings the central system refused before metering.
	Rejected {
		/// Charge point id.
		id: String,
		/// Why.
		kind: AnomalyKind,
		/// The figures, for a person.
		detail: String,
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

/// Why a connection did not become, or stopped being, a session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
	/// The TLS and WebSocket handshakes took too long.
	#[error("handshake did not finish within {0:?}")]
	HandshakeTimeout(Duration),
	/// The TLS handshake failed.
	#[error("TLS handshake failed: {0}")]
	Tls(std::io::Error),
	/// The WebSocket upgrade failed or was refused.
	#[error("WebSocket handshake failed: {0}")]
	Handshake(#[from] tungstenite::Error),
	/// An unauthenticated connection for a charge point that is connected.
	#[error("charger {0} is connected; an unauthenticated connection cannot replace it")]
	SessionTaken(String),
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, (ErrorCode, String)>>>>>;

/// What a session does after a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
	/// Reads the next one.
	Continue,
	/// The charger booted: configure and resume it (unless that is under way).
	Booted,
	/// Ends: the charger does not take frames.
	End,
}

/// A setpoint the bridge holds for a charger, sent again when it reconnects.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setpoint {
	/// Power, W (positive = discharge).
	pub watts: f64,
	/// Until when it holds (market ms): the charger's profile carries it as `validTo`
	/// and as the schedule's duration, so the charger ends it on its own.
	pub until_ms: Option<u64>,
}

struct Session {
	generation: u64,
	outgoing: mpsc::Sender<Message>,
	pending: Pending,
	call_lock: Arc<tokio::sync::Mutex<()>>,
	/// Ends the session when an authenticated connection replaces it.
	stop: Option<oneshot::Sender<()>>,
}

/// What the central system runs with besides its chargers.
#[derive(Clone)]
pub struct CentralOptions {
	/// The market clock.
	pub clock: Clock,
	/// How long a CALL waits for its answer.
	pub call_timeout: Duration,
	/// `ClockAlignedDataInterval` asked of chargers, seconds.
	pub meter_interval_s: u32,
	/// Connection, size and rate limits.
	pub limits: Limits,
	/// TLS (security profile 2), if configured.
	pub tls: Option<TlsAcceptor>,
	/// Where refusals are counted.
	pub metrics: Arc<Metrics>,
}

impl CentralOptions {
	/// Default limits, no TLS, fresh counters.
	pub fn new(clock: Clock, call_timeout: Duration, meter_interval_s: u32) -> Self {
		Self {
			clock,
			call_timeout,
			meter_interval_s,
			limits: Limits { clock_scale: clock.scale, ..Limits::default() },
			tls: None,
			metrics: Default::default(),
		}
	}
}

pub(super) struct Inner {
	pub(super) chargers: HashMap<String, ChargerConfig>,
	sessions: Mutex<HashMap<String, Session>>,
	active: Mutex<HashMap<String, Setpoint>>,
	transactions: Mutex<HashMap<String, VecDeque<(i32, u32)>>>,
	events: mpsc::Sender<ChargerEvent>,
	pub(super) options: CentralOptions,
	slots: Arc<Semaphore>,
	next_id: AtomicU64,
	next_generation: AtomicU64,
	pub(super) next_transaction: AtomicU64,
}

/// The central system; cheap to clone.
#[derive(Clone)]
pub struct CentralSystem(pub(super) Arc<Inner>);

pub(super) fn now_utc(clock: &Clock) -> DateTime<Utc> {
	DateTime::from_timestamp_millis(clock.now_ms() as i64).unwrap_or_default()
}

/// Sends the queued frames to the charger, with a ping every [`PING_INTERVAL`], until
/// the queue closes, a close frame went out, or a send takes longer than `idle`.
async fn writer<S: AsyncRead + AsyncWrite + Unpin>(
	mut sink: futures::stream::SplitSink<WebSocketStream<S>, Message>,
	mut queue: mpsc::Receiver<Message>,
	idle: Duration,
) {
	let mut ping = tokio::time::interval(PING_INTERVAL);
	ping.tick().await;
	loop {
		let m = tokio::select! {
			m = queue.recv() => match m {
				Some(m) => m,
				None => break,
			},
			_ = ping.tick() => Message::Ping(Default::default()),
		};
		let close = matches!(m, Message::Close(_));
		if !matches!(timeout(idle, sink.send(m)).await, Ok(Ok(()))) || close {
			break;
		}
	}
	let _ = timeout(idle, sink.close()).await;
}

fn reject(status: StatusCode, why: &str) -> ErrorResponse {
	let mut r = ErrorResponse::new(Some(why.to_string()));
	*r.status_mut() = status;
	r
}

fn close(code: CloseCode, reason: &'static str) -> Message {
	Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}

impl CentralSystem {
	/// A central system for `chargers` with default limits and no TLS; events arrive
	/// on the returned receiver.
	pub fn new(
		chargers: Vec<ChargerConfig>,
		clock: Clock,
		call_timeout: Duration,
		meter_interval_s: u32,
	) -> (Self, mpsc::Receiver<ChargerEvent>) {
		Self::with_options(chargers, CentralOptions::new(clock, call_timeout, meter_interval_s))
	}

	/// A central system for `chargers` with `options`.
	pub fn with_options(
		chargers: Vec<ChargerConfig>,
		options: CentralOptions,
	) -> (Self, mpsc::Receiver<ChargerEvent>) {
		let (events, rx) = mpsc::channel(EVENT_QUEUE);
		let inner = Inner {
			chargers: chargers.into_iter().map(|c| (c.id.clone(), c)).collect(),
			sessions: Mutex::new(HashMap::new()),
			active: Mutex::new(HashMap::new()),
			transactions: Mutex::new(HashMap::new()),
			events,
			slots: Arc::new(Semaphore::new(options.limits.max_connections)),
			options,
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

	/// Whether charger `id` is connected now.
	pub fn is_connected(&self, id: &str) -> bool {
		self.0.sessions.lock().expect("not poisoned").contains_key(id)
	}

	/// Connections open now, handshakes included.
	pub fn open_connections(&self) -> usize {
		self.0.options.limits.max_connections - self.0.slots.available_permits()
	}

	fn metrics(&self) -> &Metrics {
		&self.0.options.metrics
	}

	/// Accepts chargers on `listener` until the task is dropped; beyond the connection
	/// cap a new connection is closed at once.
	pub async fn serve(self, listener: TcpListener) {
		loop {
			match listener.accept().await {
				Ok((stream, peer)) => {
					let Ok(slot) = self.0.slots.clone().try_acquire_owned() else {
						self.metrics().ocpp.refused(Refusal::Capacity);
						tracing::warn!(target: "ocpp", %peer, "connection refused: {} connections open", self.0.options.limits.max_connections);
						drop(stream);
						continue;
					};
					let me = self.clone();
					tokio::spawn(async move {
						if let Err(e) = me.connection(stream).await {
							tracing::info!(target: "ocpp", %peer, "connection refused or failed: {e}");
						}
						drop(slot);
					});
				},
				Err(e) => {
					tracing::warn!(target: "ocpp", "accept failed: {e}");
					tokio::time::sleep(Duration::from_millis(100)).await;
				},
			}
		}
	}

	/// TLS (if configured) and the WebSocket upgrade within the handshake timeout, then
	/// the session.
	async fn connection(self, tcp: TcpStream) -> Result<(), SessionError> {
		let limit = self.0.options.limits.handshake_timeout;
		match self.0.options.tls.clone() {
			None => {
				let upgraded = timeout(limit, self.upgrade(tcp)).await;
				let (ws, id, authenticated) = self.in_time(upgraded)?;
				self.session(ws, id, authenticated).await
			},
			Some(acceptor) => {
				let upgraded = timeout(limit, async {
					let tls = acceptor.accept(tcp).await.map_err(|e| {
						self.metrics().ocpp.refused(Refusal::Tls);
						SessionError::Tls(e)
					})?;
					self.upgrade(tls).await
				})
				.await;
				let (ws, id, authenticated) = self.in_time(upgraded)?;
				self.session(ws, id, authenticated).await
			},
		}
	}

	fn in_time<T>(
		&self,
		r: Result<Result<T, SessionError>, tokio::time::error::Elapsed>,
	) -> Result<T, SessionError> {
		r.unwrap_or_else(|_| {
			self.metrics().ocpp.refused(Refusal::HandshakeTimeout);
			Err(SessionError::HandshakeTimeout(self.0.options.limits.handshake_timeout))
		})
	}

	/// The WebSocket upgrade; returns the charge point id and whether it authenticated.
	async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
		&self,
		stream: S,
	) -> Result<(WebSocketStream<S>, String, bool), SessionError> {
		let found = Arc::new(Mutex::new(None));
		let slot = found.clone();
		let me = self.clone();
		let callback = move |req: &Request, resp: Response| {
			let (id, authenticated, resp) = me.check_handshake(req, resp)?;
			*slot.lock().expect("not poisoned") = Some((id, authenticated));
			Ok(resp)
		};
		let config = Some(self.0.options.limits.websocket());
		let ws = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, config)
			.await
			.inspect_err(|e| {
				// A refusal of ours (an HTTP answer) is counted by its reason already.
				if !matches!(e, tungstenite::Error::Http(_)) {
					self.metrics().ocpp.refused(Refusal::Handshake);
				}
			})?;
		let (id, authenticated) = found
			.lock()
			.expect("not poisoned")
			.take()
			.ok_or(SessionError::Handshake(tungstenite::Error::ConnectionClosed))?;
		Ok((ws, id, authenticated))
	}

	fn refuse(&self, why: Refusal, status: StatusCode, text: &str) -> ErrorResponse {
		self.metrics().ocpp.refused(why);
		reject(status, text)
	}

	fn check_handshake(
		&self,
		req: &Request,
		mut resp: Response,
	) -> Result<(String, bool, Response), ErrorResponse> {
		let id = req
			.uri()
			.path()
			.trim_end_matches('/')
			.rsplit('/')
			.next()
			.unwrap_or_default()
			.to_string();
		let Some(charger) = self.0.chargers.get(&id) else {
			return Err(self.refuse(
				Refusal::UnknownChargePoint,
				StatusCode::NOT_FOUND,
				"unknown charge point id",
			));
		};
		let offers_ocpp16 = req
			.headers()
			.get_all("Sec-WebSocket-Protocol")
			.iter()
			.filter_map(|h| h.to_str().ok())
			.flat_map(|h| h.split(','))
			.any(|p| p.trim() == SUBPROTOCOL);
		if !offers_ocpp16 {
			return Err(self.refuse(
				Refusal::Subprotocol,
				StatusCode::BAD_REQUEST,
				"subprotocol ocpp1.6 required",
			));
		}
		let authenticated = match &charger.password {
			Some(password) => {
				let given = req.headers().get("Authorization").and_then(|h| h.to_str().ok());
				if !auth::basic_matches(given, &id, password) {
					let mut r = self.refuse(
						Refusal::Unauthorized,
						StatusCode::UNAUTHORIZED,
						"wrong or missing credentials",
					);
					r.headers_mut().insert(
						"WWW-Authenticate",
						HeaderValue::from_static("Basic realm=\"ocpp\""),
					);
					return Err(r);
				}
				true
			},
			None => false,
		};
		if !authenticated && self.is_connected(&id) {
			return Err(self.refuse(
				Refusal::SessionTaken,
				StatusCode::CONFLICT,
				"charge point already connected",
			));
		}
		resp.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
		Ok((id, authenticated, resp))
	}

	/// Registers the session of `id`: an authenticated one replaces an open session, an
	/// unauthenticated one gets `None` while one is open.
	fn register(
		&self,
		id: &str,
		authenticated: bool,
		outgoing: mpsc::Sender<Message>,
		pending: Pending,
	) -> Option<(u64, oneshot::Receiver<()>)> {
		let mut sessions = self.0.sessions.lock().expect("not poisoned");
		if let Some(old) = sessions.get_mut(id) {
			if !authenticated {
				return None;
			}
			tracing::info!(target: "ocpp", %id, "an authenticated connection replaces the old session");
			if let Some(stop) = old.stop.take() {
				let _ = stop.send(());
			}
		}
		let generation = self.0.next_generation.fetch_add(1, Ordering::Relaxed);
		let (stop, stopped) = oneshot::channel();
		let session = Session {
			generation,
			outgoing,
			pending,
			call_lock: Default::default(),
			stop: Some(stop),
		};
		sessions.insert(id.to_string(), session);
		Some((generation, stopped))
	}

	pub(super) async fn event(&self, e: ChargerEvent) {
		let _ = self.0.events.send(e).await;
	}

	/// Queues a frame for the charger; `false` when it could not be queued within the
	/// idle timeout (the charger does not read) or the session is gone.
	async fn push(&self, outgoing: &mpsc::Sender<Message>, m: Message) -> bool {
		matches!(timeout(self.0.options.limits.idle_timeout, outgoing.send(m)).await, Ok(Ok(())))
	}

	/// A charger's session: registered, then its reader until the connection ends,
	/// with a writer task draining the outgoing queue, then the teardown.
	async fn session<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
		self,
		ws: WebSocketStream<S>,
		id: String,
		authenticated: bool,
	) -> Result<(), SessionError> {
		let (mut sink, source) = ws.split();
		let (outgoing, queue) = mpsc::channel::<Message>(OUTGOING_QUEUE);
		let pending: Pending = Default::default();
		let Some((generation, stopped)) =
			self.register(&id, authenticated, outgoing.clone(), pending.clone())
		else {
			self.metrics().ocpp.refused(Refusal::SessionTaken);
			let _ = sink.send(close(CloseCode::Policy, "charge point already connected")).await;
			return Err(SessionError::SessionTaken(id));
		};
		tracing::info!(target: "ocpp", %id, authenticated, "connected");
		self.event(ChargerEvent::Connected { id: id.clone() }).await;
		let writer = tokio::spawn(writer(sink, queue, self.0.options.limits.idle_timeout));
		self.reader(&id, source, &outgoing, &pending, stopped).await;
		self.teardown(&id, generation, outgoing, &pending, writer).await;
		Ok(())
	}

	/// Reads the charger's messages, rate limited, until the connection ends, the
	/// session goes idle, or a new authenticated session replaces it.
	async fn reader<S: AsyncRead + AsyncWrite + Unpin>(
		&self,
		id: &str,
		mut source: futures::stream::SplitStream<WebSocketStream<S>>,
		outgoing: &mpsc::Sender<Message>,
		pending: &Pending,
		mut stopped: oneshot::Receiver<()>,
	) {
		let idle = self.0.options.limits.idle_timeout;
		// A charger that reconnects may skip BootNotification: resume it shortly anyway.
		let mut resumer = self.spawn_resume(id, Duration::from_millis(300));
		let mut limiter = self.0.options.limits.rate_limiter(Instant::now());
		loop {
			let next = tokio::select! {
				_ = &mut stopped => break,
				next = timeout(idle, source.next()) => next,
			};
			let msg = match next {
				Err(_) => {
					self.metrics().ocpp.refused(Refusal::Idle);
					tracing::warn!(target: "ocpp", %id, "no frame for {idle:?}: session dropped");
					break;
				},
				Ok(None) | Ok(Some(Ok(Message::Close(_)))) => break,
				Ok(Some(Err(tungstenite::Error::Capacity(e)))) => {
					self.metrics().ocpp.refused(Refusal::Oversized);
					tracing::warn!(target: "ocpp", %id, "{e}: session closed");
					let _ = outgoing.try_send(close(CloseCode::Size, "message too big"));
					break;
				},
				Ok(Some(Err(_))) => break,
				Ok(Some(Ok(m))) => m,
			};
			if let Some(wait) = limiter.take(Instant::now()) {
				self.metrics().ocpp.rate_limited.fetch_add(1, Ordering::Relaxed);
				tokio::select! {
					_ = &mut stopped => break,
					_ = tokio::time::sleep(wait) => {},
				}
			}
			match self.on_message(id, msg, outgoing, pending).await {
				Flow::End => break,
				// One resume at a time: a charger booting over and over gets no more.
				Flow::Booted if resumer.is_finished() => {
					resumer = self.spawn_resume(id, Duration::ZERO);
				},
				Flow::Booted | Flow::Continue => {},
			}
		}
		resumer.abort();
	}

	/// Ends a session: forgets it (unless a newer one replaced it), fails the calls
	/// waiting on it, and lets the writer flush for a moment.
	async fn teardown(
		&self,
		id: &str,
		generation: u64,
		outgoing: mpsc::Sender<Message>,
		pending: &Pending,
		mut writer: tokio::task::JoinHandle<()>,
	) {
		drop(outgoing);
		let ended = {
			let mut sessions = self.0.sessions.lock().expect("not poisoned");
			if sessions.get(id).is_some_and(|s| s.generation == generation) {
				sessions.remove(id)
			} else {
				None
			}
		};
		if let Some(s) = ended {
			let _ = s.outgoing.try_send(Message::Close(None));
			tracing::info!(target: "ocpp", %id, "disconnected");
			self.event(ChargerEvent::Disconnected { id: id.into() }).await;
		}
		pending.lock().expect("not poisoned").clear();
		if timeout(Duration::from_secs(5), &mut writer).await.is_err() {
			writer.abort();
		}
	}

	fn spawn_resume(&self, id: &str, after: Duration) -> tokio::task::JoinHandle<()> {
		let me = self.clone();
		let id = id.to_string();
		tokio::spawn(async move {
			tokio::time::sleep(after).await;
			me.resume(&id).await;
		})
	}

	/// Queues a frame; the session goes on if it could.
	async fn reply(&self, outgoing: &mpsc::Sender<Message>, frame: Frame) -> Flow {
		match self.push(outgoing, Message::text(frame.to_text())).await {
			true => Flow::Continue,
			false => Flow::End,
		}
	}

	/// Handles one incoming message.
	async fn on_message(
		&self,
		id: &str,
		msg: Message,
		outgoing: &mpsc::Sender<Message>,
		pending: &Pending,
	) -> Flow {
		let text = match msg {
			Message::Text(t) => t.to_string(),
			Message::Binary(_) => {
				let reply =
					Frame::error("-1", ErrorCode::FormationViolation, "OCPP-J uses text frames");
				return self.reply(outgoing, reply).await;
			},
			_ => return Flow::Continue,
		};
		match Frame::parse(&text) {
			Err(e) => {
				tracing::warn!(target: "ocpp", %id, "malformed frame: {e}");
				return self.reply(outgoing, e.reply()).await;
			},
			Ok(Frame::Call { id: msg_id, action, payload }) => {
				let reply = match self.handle_call(id, &action, payload).await {
					Ok(payload) => Frame::CallResult { id: msg_id, payload },
					Err((code, why)) => {
						tracing::warn!(target: "ocpp", %id, %action, "answered {code}: {why}");
						Frame::error(&msg_id, code, why)
					},
				};
				let flow = self.reply(outgoing, reply).await;
				if flow == Flow::Continue && action == "BootNotification" {
					return Flow::Booted;
				}
				return flow;
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
		Flow::Continue
	}

	/// Configures metering and re-applies the active setpoint of a (re)connected charger.
	async fn resume(&self, id: &str) {
		if let Err(e) = self.configure_metering(id).await {
			tracing::warn!(target: "ocpp", %id, "metering configuration failed: {e}");
		}
		let now = self.0.options.clock.now_ms();
		let active = {
			let mut active = self.0.active.lock().expect("not poisoned");
			// A setpoint whose time is over is not sent again.
			active.retain(|_, s| s.until_ms.is_none_or(|u| u > now));
			active.get(id).copied()
		};
		if let Some(setpoint) = active {
			match self.send_setpoint(id, setpoint).await {
				Ok(()) => {
					tracing::info!(target: "ocpp", %id, watts = setpoint.watts, "active setpoint sent again")
				},
				Err(e) => {
					tracing::warn!(target: "ocpp", %id, "could not restore the setpoint: {e}")
				},
			}
		}
	}

	pub(super) fn remember_transaction(&self, id: &str, tx: i32, connector: u32) {
		let mut all = self.0.transactions.lock().expect("not poisoned");
		let kept = all.entry(id.to_string()).or_default();
		if kept.len() == TRANSACTIONS_KEPT {
			kept.pop_front();
		}
		kept.push_back((tx, connector));
	}

	pub(super) fn transaction_connector(&self, id: &str, tx: i32) -> Option<u32> {
		let all = self.0.transactions.lock().expect("not poisoned");
		all.get(id)?.iter().find(|(t, _)| *t == tx).map(|(_, c)| *c)
	}

	/// Passes on the readings of the configured connector, stamped with the bridge's
	/// clock now; those of another connector are refused as an anomaly.
	pub(super) async fn meter(
		&self,
		id: &str,
		req: MeterValuesRequest,
	) -> Result<(), (ErrorCode, String)> {
		let samples = meter::samples(&req)
			.map_err(|e| (ErrorCode::PropertyConstraintViolation, e.to_string()))?;
		let received_ms = self.0.options.clock.now_ms();
		let expected = self.0.chargers.get(id).map(|c| c.connector);
		if expected != Some(req.connector_id) {
			let detail = format!(
				"{} reading(s) for connector {}; the asset is on connector {}",
				samples.len(),
				req.connector_id,
				expected.map(|c| c.to_string()).unwrap_or_else(|| "none".into()),
			);
			tracing::warn!(target: "ocpp", %id, "refused: {detail}");
			self.event(ChargerEvent::Rejected {
				id: id.into(),
				kind: AnomalyKind::WrongConnector,
				detail,
			})
			.await;
			return Ok(());
		}
		for mut sample in samples {
			sample.received_ms = received_ms;
			self.event(ChargerEvent::Meter { id: id.into(), connector: req.connector_id, sample })
				.await;
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
		let limit = self.0.options.call_timeout;
		let sent = async {
			outgoing
				.send(Message::text(frame.to_text()))
				.await
				.map_err(|_| OcppError::NotConnected(id.into()))?;
			rx.await.map_err(|_| OcppError::Dropped(id.into(), action))
		};
		let answer = match timeout(limit, sent).await {
			Ok(Ok(answer)) => answer,
			Ok(Err(e)) => {
				pending.lock().expect("not poisoned").remove(&msg_id);
				return Err(e);
			},
			Err(_) => {
				pending.lock().expect("not poisoned").remove(&msg_id);
				return Err(OcppError::Timeout(id.into(), action, limit));
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

	/// Asks for clock-aligned meter values every interval, and for the same measurands
	/// in triggered readings (`MeterValuesSampledData`, which a `TriggerMessage`
	/// answers with). A charger that cannot measure one of them rejects the whole list
	/// (OCPP 1.6 promises none but the import register): the list is tried again
	/// shorter, down to the export register alone.
	pub async fn configure_metering(&self, id: &str) -> Result<(), OcppError> {
		let interval = self.0.options.meter_interval_s.to_string();
		self.change_configuration(id, "ClockAlignedDataInterval", &interval).await?;
		for key in ["MeterValuesAlignedData", "MeterValuesSampledData"] {
			let mut last = None;
			for list in METERING_MEASURANDS {
				match self.change_configuration(id, key, list).await {
					Ok(()) => {
						last = None;
						break;
					},
					Err(e @ OcppError::Refused(..)) => last = Some(e),
					Err(e) => return Err(e),
				}
			}
			if let Some(e) = last {
				return Err(e);
			}
		}
		Ok(())
	}

	async fn change_configuration(
		&self,
		id: &str,
		key: &str,
		value: &str,
	) -> Result<(), OcppError> {
		let req = ChangeConfigurationRequest { key: key.into(), value: value.into() };
		let r: ChangeConfigurationResponse = self.call(id, "ChangeConfiguration", &req).await?;
		match r.status {
			ConfigurationStatus::Accepted | ConfigurationStatus::RebootRequired => Ok(()),
			status => Err(OcppError::Refused(
				id.into(),
				"ChangeConfiguration",
				format!("{key}={value}: {status:?}"),
			)),
		}
	}

	/// Commands `watts`: positive discharges (export), negative charges, 0 clears the
	/// profile. Remembers it, so a reconnecting charger gets it again.
	pub async fn set_power(&self, id: &str, watts: f64) -> Result<(), OcppError> {
		self.set_power_until(id, watts, None).await
	}

	/// Commands `watts` until market time `until_ms`: the profile's `validTo` and its
	/// schedule's duration end it there, on the charger's own clock, even if the bridge
	/// is gone by then. 0 clears the profile.
	pub async fn set_power_until(
		&self,
		id: &str,
		watts: f64,
		until_ms: Option<u64>,
	) -> Result<(), OcppError> {
		self.charger(id)?;
		let setpoint = Setpoint { watts, until_ms };
		if watts != 0.0 {
			self.0.active.lock().expect("not poisoned").insert(id.into(), setpoint);
		} else {
			self.0.active.lock().expect("not poisoned").remove(id);
		}
		self.send_setpoint(id, setpoint).await
	}

	async fn send_setpoint(&self, id: &str, setpoint: Setpoint) -> Result<(), OcppError> {
		let Setpoint { watts, until_ms } = setpoint;
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
				let now = self.0.options.clock.now_ms();
				let at = |ms: u64| DateTime::from_timestamp_millis(ms as i64);
				// Absolute from now until the end: the charger ends it on its own clock.
				let duration =
					until_ms.map(|u| (u.saturating_sub(now).div_ceil(1_000)).max(1) as i32);
				let req = SetChargingProfileRequest {
					connector_id: charger.connector as i32,
					cs_charging_profiles: ChargingProfile {
						charging_profile_id: PROFILE_ID,
						transaction_id: None,
						stack_level: 1,
						charging_profile_purpose: ChargingProfilePurposeType::TxDefaultProfile,
						charging_profile_kind: ChargingProfileKindType::Absolute,
						recurrency_kind: None,
						valid_from: at(now),
						valid_to: until_ms.and_then(at),
						charging_schedule: ChargingSchedule {
							duration,
							start_schedule: at(now),
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
		self.0.active.lock().expect("not poisoned").get(id).map(|s| s.watts)
	}
}

/// What a charger must have in a `DataTransfer` for [`DischargeMode::DataTransfer`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DischargeData {
	/// Discharge power in W (0 stops).
	pub watts: i64,
}
