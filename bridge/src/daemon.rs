//! The daemon: wires the store, the devices, the chain follower, dispatch and HTTP,
//! and owns every task it starts (see [`crate::tasks`]).

use crate::{
	chain::{Chain, ChainError, ReportOutcome},
	clock::Clock,
	config::{Config, Device},
	dispatch::{DeviceLink, Dispatch, Dispatcher, Ledger},
	follower::Follower,
	http::{self, HttpState},
	metrics::Metrics,
	notify::Notifier,
	ocpp::{
		central::{CentralOptions, CentralSystem, ChargerEvent},
		tls,
	},
	retention,
	store::Store,
	sunspec::client::SunSpecDevice,
	tasks::{Kind, Tasks},
	writer::SampleWriter,
};
use futures::future::BoxFuture;
use std::{
	collections::{BTreeMap, HashMap},
	future::Future,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
	time::Duration,
};
use tokio::net::TcpListener;

/// Name of the store entry holding the last finalized block processed.
pub const CURSOR: &str = "last_block";
/// Store entries of the last market clock read from the chain.
const CLOCK_KEYS: [&str; 3] = ["clock_epoch_ms", "clock_market_epoch_ms", "clock_scale_milli"];

/// A chain connection that reconnects when a call fails.
pub struct ChainLink {
	url: String,
	secret: String,
	current: tokio::sync::Mutex<Option<Arc<Chain>>>,
	up: Arc<AtomicBool>,
}

impl ChainLink {
	/// A link that connects on first use.
	pub fn new(url: String, secret: String, up: Arc<AtomicBool>) -> Self {
		Self { url, secret, current: Default::default(), up }
	}

	/// The connection, made if needed.
	pub async fn get(&self) -> Result<Arc<Chain>, ChainError> {
		let mut current = self.current.lock().await;
		if let Some(c) = current.as_ref() {
			return Ok(c.clone());
		}
		match Chain::connect(&self.url, &self.secret).await {
			Ok(c) => {
				let c = Arc::new(c);
				tracing::info!(target: "chain", url = %self.url, oracle = %c.oracle(), "connected");
				*current = Some(c.clone());
				self.up.store(true, Ordering::Relaxed);
				Ok(c)
			},
			Err(e) => {
				self.up.store(false, Ordering::Relaxed);
				Err(e)
			},
		}
	}

	/// Forgets the connection after a failure.
	pub async fn reset(&self) {
		*self.current.lock().await = None;
		self.up.store(false, Ordering::Relaxed);
	}
}

impl Ledger for ChainLink {
	fn report(
		&self,
		request: u32,
		fill: u32,
		delivered_wh: u64,
		root: [u8; 32],
	) -> BoxFuture<'_, Result<ReportOutcome, ChainError>> {
		Box::pin(async move {
			let chain = self.get().await?;
			let r = chain.report_delivery(request, fill, delivered_wh, root).await;
			if r.as_ref().is_err_and(ChainError::is_transport) {
				self.reset().await;
			}
			r
		})
	}
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
	/// The configuration is wrong.
	#[error(transparent)]
	Config(#[from] crate::config::ConfigError),
	/// The store cannot be opened.
	#[error(transparent)]
	Store(#[from] crate::store::StoreError),
	/// The chain changed the market clock: restart to run on the new one.
	#[error("the chain's market clock changed to {0}; restart the bridge to follow it")]
	ClockChanged(String),
	/// Asked to stop before the chain could be reached.
	#[error("stopped while waiting for the chain")]
	Stopped,
	/// The OCPP certificate or key cannot be used.
	#[error(transparent)]
	Tls(#[from] tls::TlsError),
	/// A listener cannot bind.
	#[error("config: `{key}`: cannot listen on {addr}: {error}")]
	Listen {
		/// The key.
		key: &'static str,
		/// The address.
		addr: String,
		/// Why.
		error: std::io::Error,
	},
}

async fn bind(key: &'static str, addr: &str) -> Result<TcpListener, StartError> {
	TcpListener::bind(addr).await.map_err(|error| StartError::Listen {
		key,
		addr: addr.into(),
		error,
	})
}

/// Runs the bridge until `shutdown` resolves.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
	let secret = config.oracle_secret()?;
	let tls = config.ocpp.tls.as_ref().map(|t| tls::acceptor(&t.cert, &t.key)).transpose()?;
	let store = Arc::new(Store::open(&config.store.path)?);
	let metrics = Arc::new(Metrics::default());
	metrics.last_block.store(store.meta(CURSOR)?.unwrap_or(0), Ordering::Relaxed);
	let notifier = Notifier::new(config.webhooks.clone(), Duration::from_secs(1));
	let up = Arc::new(AtomicBool::new(false));
	let chain = Arc::new(ChainLink::new(config.chain.url.clone(), secret, up.clone()));
	tokio::pin!(shutdown);
	let fixed = config.clock();
	let clock = match fixed {
		Some(c) => {
			tracing::info!(target: "bridge", "clock from the config: {}", c.describe());
			c
		},
		None => tokio::select! {
			c = chain_clock(&chain, &store) => c?,
			_ = &mut shutdown => return Err(StartError::Stopped),
		},
	};

	let (central, charger_events) = central_system(&config, clock, tls, metrics.clone());
	let (devices, by_charge_point) = device_links(&config, &central);
	let ocpp_listener = bind("ocpp.listen", &config.ocpp.listen).await?;
	let http_listener = bind("http.listen", &config.http.listen).await?;
	let dispatcher = Dispatcher {
		writer: SampleWriter::new(store.clone()),
		store: store.clone(),
		clock,
		metrics: metrics.clone(),
		notifier: notifier.clone(),
		ledger: chain.clone(),
		retry: Duration::from_secs(2),
		policy: config.metering.policy(),
		live: Default::default(),
	};

	let mut tasks = Tasks::new();
	tasks.spawn("ocpp server", Kind::Service, central.clone().serve(ocpp_listener));
	let state = HttpState {
		store: store.clone(),
		metrics: metrics.clone(),
		notifier,
		devices: devices.clone(),
		central,
		chain_up: up,
		clock,
		tasks: tasks.health.clone(),
		max_lag_blocks: config.chain.max_lag_blocks,
	};
	let cors = crate::cors::Cors::new(config.http.allowed_origins.clone());
	tasks.spawn("http server", Kind::Service, async move {
		if let Err(e) = axum::serve(http_listener, http::router(state, cors)).await {
			tracing::error!(target: "http", "server stopped: {e}");
		}
	});
	spawn_device_services(&mut tasks, &dispatcher, &devices, charger_events, by_charge_point);
	let prune = retention::prune_forever(store.clone(), clock, config.store.retention(), metrics);
	tasks.spawn("retention", Kind::Service, prune);
	resume_dispatches(&mut tasks, &dispatcher, &store, &devices)?;

	let (clock_tx, mut clock_rx) = tokio::sync::mpsc::channel(1);
	let (spawn_tx, mut spawn_rx) = tokio::sync::mpsc::channel(64);
	let follower = Follower {
		chain,
		dispatcher: dispatcher.clone(),
		devices,
		assets: config.assets.clone(),
		spawn: spawn_tx,
		start_block: config.chain.start_block,
		catch_up_blocks: config.chain.catch_up_blocks,
		clock: fixed.is_none().then_some((clock, clock_tx)),
	};
	tasks.spawn("chain follower", Kind::Service, follower.follow());

	let result = loop {
		tokio::select! {
			_ = &mut shutdown => break Ok(()),
			Some(changed) = clock_rx.recv() => break Err(StartError::ClockChanged(changed)),
			Some((d, link)) = spawn_rx.recv() => spawn_dispatch(&mut tasks, &dispatcher, d, link),
			() = tasks.join_next() => {},
		}
	};
	tracing::info!(target: "bridge", "stopping; running dispatches resume at the next start");
	tasks.shutdown().await;
	result
}

/// The configured devices' links by asset, and the assets of the OCPP charge points.
fn device_links(
	config: &Config,
	central: &CentralSystem,
) -> (Arc<BTreeMap<u32, DeviceLink>>, HashMap<String, u32>) {
	let mut devices = BTreeMap::new();
	let mut by_charge_point = HashMap::new();
	for (asset, device) in config.devices() {
		let link = match device {
			Device::Modbus { address, unit, profile, timeout_s } => DeviceLink::modbus(
				SunSpecDevice::new(address, unit, profile, Duration::from_secs_f64(timeout_s)),
			),
			Device::Ocpp(c) => {
				by_charge_point.insert(c.id.clone(), asset);
				DeviceLink::Ocpp { central: central.clone(), id: c.id }
			},
		};
		devices.insert(asset, link);
	}
	(Arc::new(devices), by_charge_point)
}

/// Starts what runs beside the dispatches: a meter per Modbus device, the charge
/// points' events, and the retries of releases that did not reach their device.
fn spawn_device_services(
	tasks: &mut Tasks,
	dispatcher: &Dispatcher,
	devices: &Arc<BTreeMap<u32, DeviceLink>>,
	charger_events: tokio::sync::mpsc::Receiver<ChargerEvent>,
	by_charge_point: HashMap<String, u32>,
) {
	for (asset, link) in devices.iter() {
		if matches!(link, DeviceLink::Modbus(_)) {
			let meter = dispatcher.clone().meter(*asset, link.clone());
			tasks.spawn(format!("meter of asset {asset}"), Kind::Service, meter);
		}
	}
	let events = dispatcher.clone().charger_events(charger_events, by_charge_point);
	tasks.spawn("charger events", Kind::Service, events);
	let releases = dispatcher.clone().retry_releases(devices.clone(), RELEASE_RETRY);
	tasks.spawn("pending releases", Kind::Service, releases);
}

/// Picks up every dispatch that was not finished before a restart.
fn resume_dispatches(
	tasks: &mut Tasks,
	dispatcher: &Dispatcher,
	store: &Store,
	devices: &BTreeMap<u32, DeviceLink>,
) -> Result<(), StartError> {
	for d in store.dispatches::<Dispatch>()? {
		if d.stage.is_final() {
			continue;
		}
		if let Some(link) = devices.get(&d.fill.asset) {
			tracing::info!(target: "bridge", request = d.fill.request, fill = d.fill.fill, stage = ?d.stage, "resuming");
			spawn_dispatch(tasks, dispatcher, d, link.clone());
		}
	}
	Ok(())
}

/// Real time between retries of the releases that did not reach their device.
pub const RELEASE_RETRY: Duration = Duration::from_secs(2);

fn spawn_dispatch(tasks: &mut Tasks, dispatcher: &Dispatcher, d: Dispatch, link: DeviceLink) {
	let name = format!("dispatch of request {} fill {}", d.fill.request, d.fill.fill);
	tasks.spawn(name, Kind::Job, dispatcher.clone().run(d, link));
}

/// The OCPP central system the configuration describes, its security said in the log.
fn central_system(
	config: &Config,
	clock: Clock,
	tls: Option<tokio_rustls::TlsAcceptor>,
	metrics: Arc<Metrics>,
) -> (CentralSystem, tokio::sync::mpsc::Receiver<ChargerEvent>) {
	let ocpp = &config.ocpp;
	for warning in config.warnings() {
		tracing::warn!(target: "ocpp", "{warning}");
	}
	let scheme = if tls.is_some() { "wss" } else { "ws" };
	tracing::info!(target: "ocpp", "central system on {scheme}://{}/ocpp/<chargePointId>", ocpp.listen);
	let chargers = config
		.devices()
		.into_iter()
		.filter_map(|(_, d)| match d {
			Device::Ocpp(c) => Some(c),
			_ => None,
		})
		.collect();
	let options = CentralOptions {
		limits: ocpp.limits(clock.scale),
		tls,
		metrics,
		..CentralOptions::new(clock, Duration::from_secs(ocpp.call_timeout_s), 60)
	};
	CentralSystem::with_options(chargers, options)
}

/// The chain's market clock, kept in the store so that a restart without the chain
/// runs on the last one seen; waits for the chain if there is none yet.
async fn chain_clock(chain: &ChainLink, store: &Store) -> Result<Clock, StartError> {
	let stored = || -> Result<Option<Clock>, StartError> {
		let mut v = [0u64; 3];
		for (i, key) in CLOCK_KEYS.iter().enumerate() {
			let Some(x) = store.meta(key)? else { return Ok(None) };
			v[i] = x;
		}
		Ok(Some(Clock::anchored(v[0], v[1], v[2] as f64 / 1_000.0)))
	};
	let mut waited = 0u32;
	loop {
		let read = match chain.get().await {
			Ok(c) => c.market_clock().await,
			Err(e) => Err(e),
		};
		match read {
			Ok(clock) => {
				save_clock(store, &clock)?;
				tracing::info!(target: "bridge", "clock from the chain: {}", clock.describe());
				return Ok(clock);
			},
			Err(e) => {
				chain.reset().await;
				if let Some(clock) = stored()? {
					tracing::warn!(target: "bridge", "chain unreachable ({e}); last clock seen: {}", clock.describe());
					return Ok(clock);
				}
				if waited.is_multiple_of(15) {
					tracing::warn!(target: "bridge", "waiting for the chain to read the market clock: {e}");
				}
				waited += 1;
				tokio::time::sleep(Duration::from_secs(2)).await;
			},
		}
	}
}

/// Keeps the market clock in the store, for a start without the chain.
pub fn save_clock(store: &Store, clock: &Clock) -> Result<(), crate::store::StoreError> {
	let values = [clock.epoch_ms, clock.market_epoch_ms, (clock.scale * 1_000.0).round() as u64];
	for (key, value) in CLOCK_KEYS.iter().zip(values) {
		store.set_meta(key, value)?;
	}
	Ok(())
}
