//! The daemon: wires the store, the devices, the chain follower, dispatch and HTTP.

use crate::{
	chain::{Chain, MarketEvent, ReportOutcome},
	clock::Clock,
	config::{Config, Device},
	dispatch::{DeviceLink, Dispatch, Dispatcher, Ledger, Stage},
	http::{self, HttpState},
	metrics::Metrics,
	notify::{Notification, Notifier},
	ocpp::central::{CentralSystem, ChargerEvent},
	store::{ReportState, Store},
	sunspec::client::SunSpecDevice,
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
	pub async fn get(&self) -> Result<Arc<Chain>, String> {
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
				Err(e.to_string())
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
	) -> BoxFuture<'_, Result<ReportOutcome, String>> {
		Box::pin(async move {
			let chain = self.get().await?;
			let r = chain
				.report_delivery(request, fill, delivered_wh, root)
				.await
				.map_err(|e| e.to_string());
			if let Err(e) = &r {
				if e.starts_with("node") {
					self.reset().await;
				}
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

	let chargers: Vec<_> = config
		.devices()
		.into_iter()
		.filter_map(|(_, d)| match d {
			Device::Ocpp(c) => Some(c),
			_ => None,
		})
		.collect();
	let (central, mut charger_events) =
		CentralSystem::new(chargers, clock, Duration::from_secs(config.ocpp.call_timeout_s), 60);
	let mut devices = BTreeMap::new();
	let mut by_charge_point = HashMap::new();
	for (asset, device) in config.devices() {
		let link = match device {
			Device::Modbus { address, unit, profile, timeout_s } => {
				DeviceLink::Modbus(Arc::new(tokio::sync::Mutex::new(SunSpecDevice::new(
					address,
					unit,
					profile,
					Duration::from_secs_f64(timeout_s),
				))))
			},
			Device::Ocpp(c) => {
				by_charge_point.insert(c.id.clone(), asset);
				DeviceLink::Ocpp { central: central.clone(), id: c.id }
			},
		};
		devices.insert(asset, link);
	}
	let devices = Arc::new(devices);
	let ocpp_listener = bind("ocpp.listen", &config.ocpp.listen).await?;
	let http_listener = bind("http.listen", &config.http.listen).await?;
	let dispatcher = Dispatcher {
		store: store.clone(),
		clock,
		metrics: metrics.clone(),
		notifier: notifier.clone(),
		ledger: chain.clone(),
		retry: Duration::from_secs(2),
	};

	let mut tasks = tokio::task::JoinSet::new();
	tasks.spawn(central.clone().serve(ocpp_listener));
	let state = HttpState {
		store: store.clone(),
		metrics: metrics.clone(),
		notifier: notifier.clone(),
		devices: devices.clone(),
		chain_up: up.clone(),
		clock,
	};
	tasks.spawn(async move {
		if let Err(e) = axum::serve(http_listener, http::router(state)).await {
			tracing::error!(target: "http", "server stopped: {e}");
		}
	});
	for (asset, link) in devices.iter() {
		if matches!(link, DeviceLink::Modbus(_)) {
			tasks.spawn(dispatcher.clone().meter(*asset, link.clone()));
		}
	}
	{
		let dispatcher = dispatcher.clone();
		tasks.spawn(async move {
			while let Some(e) = charger_events.recv().await {
				match e {
					ChargerEvent::Meter { id, sample, .. } => {
						if let Some(asset) = by_charge_point.get(&id) {
							dispatcher.charger_sample(*asset, &sample);
						}
					},
					other => tracing::debug!(target: "ocpp", "{other:?}"),
				}
			}
		});
	}
	// Pick up every fill that was not finished before a restart.
	for d in store.dispatches::<Dispatch>()? {
		if d.stage != Stage::Done {
			if let Some(link) = devices.get(&d.fill.asset) {
				tracing::info!(target: "bridge", request = d.fill.request, fill = d.fill.fill, stage = ?d.stage, "resuming");
				tasks.spawn(dispatcher.clone().run(d, link.clone()));
			}
		}
	}
	let (clock_tx, mut clock_rx) = tokio::sync::mpsc::channel(1);
	let follower = Follower {
		chain: chain.clone(),
		dispatcher: dispatcher.clone(),
		devices: devices.clone(),
		assets: config.assets.clone(),
		clock: fixed.is_none().then_some((clock, clock_tx)),
	};
	tasks.spawn(follower.follow());

	let result = tokio::select! {
		_ = &mut shutdown => Ok(()),
		Some(changed) = clock_rx.recv() => Err(StartError::ClockChanged(changed)),
	};
	tracing::info!(target: "bridge", "stopping; running dispatches resume at the next start");
	tasks.shutdown().await;
	result
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
			Ok(c) => c.market_clock().await.map_err(|e| e.to_string()),
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

fn save_clock(store: &Store, clock: &Clock) -> Result<(), crate::store::StoreError> {
	let values = [clock.epoch_ms, clock.market_epoch_ms, (clock.scale * 1_000.0).round() as u64];
	for (key, value) in CLOCK_KEYS.iter().zip(values) {
		store.set_meta(key, value)?;
	}
	Ok(())
}

/// Follows finalized blocks and acts on market events.
struct Follower {
	chain: Arc<ChainLink>,
	dispatcher: Dispatcher,
	devices: Arc<BTreeMap<u32, DeviceLink>>,
	assets: Vec<crate::config::AssetConfig>,
	/// The chain's clock the bridge runs on, and where to say it changed (none when
	/// the config fixes the clock).
	clock: Option<(Clock, tokio::sync::mpsc::Sender<String>)>,
}

impl Follower {
	/// Follows finalized blocks from the stored cursor on; returns when the chain's
	/// clock changed.
	async fn follow(self) {
		let store = self.dispatcher.store.clone();
		let chain = self.chain.clone();
		loop {
			match self.step(&store).await {
				Ok(true) => return,
				Ok(false) => tokio::time::sleep(Duration::from_millis(1_000)).await,
				Err(e) => {
					tracing::warn!(target: "chain", "following the chain failed: {e}; retrying");
					chain.reset().await;
					tokio::time::sleep(Duration::from_secs(2)).await;
				},
			}
		}
	}

	/// Processes the finalized blocks not yet seen; `true` when the clock changed.
	async fn step(&self, store: &Store) -> Result<bool, String> {
		let c = self.chain.get().await?;
		let finalized = c.finalized().await.map_err(|e| e.to_string())?;
		let mut cursor = store.meta(CURSOR).map_err(|e| e.to_string())?.unwrap_or(0);
		while cursor < finalized {
			let n = cursor + 1;
			let mut clock_set = false;
			for event in c.events(n).await.map_err(|e| e.to_string())? {
				if matches!(event, MarketEvent::ClockSet { .. }) {
					clock_set = true;
				}
				handle(&c, n, event, &self.dispatcher, &self.devices, &self.assets).await?;
			}
			store.set_meta(CURSOR, n).map_err(|e| e.to_string())?;
			self.dispatcher.metrics.last_block.store(n, Ordering::Relaxed);
			cursor = n;
			if let (true, Some((running, changed))) = (clock_set, &self.clock) {
				let now = c.market_clock().await.map_err(|e| e.to_string())?;
				if now != *running {
					save_clock(store, &now).map_err(|e| e.to_string())?;
					tracing::error!(target: "bridge", "the chain's market clock changed: {}", now.describe());
					let _ = changed.send(now.describe()).await;
					return Ok(true);
				}
			}
		}
		Ok(false)
	}
}

async fn handle(
	chain: &Chain,
	block: u64,
	event: MarketEvent,
	dispatcher: &Dispatcher,
	devices: &BTreeMap<u32, DeviceLink>,
	assets: &[crate::config::AssetConfig],
) -> Result<(), String> {
	let store = &dispatcher.store;
	match event {
		MarketEvent::MatchProposed { request } => {
			for (offer, asset, fsp) in
				chain.proposal(block, request).await.map_err(|e| e.to_string())?
			{
				if devices.contains_key(&asset) {
					dispatcher.notifier.send(Notification {
						event: "match",
						fsp,
						request: request as u64,
						fill: None,
						asset: Some(asset),
						details: serde_json::json!({ "offer": offer }),
					});
				}
			}
		},
		MarketEvent::FillContracted(fill) => {
			let Some(link) = devices.get(&fill.asset) else { return Ok(()) };
			if store
				.dispatch::<Dispatch>(fill.request as u64, fill.fill)
				.map_err(|e| e.to_string())?
				.is_some()
			{
				return Ok(());
			}
			let configured =
				assets.iter().find(|a| a.id == fill.asset).and_then(|a| a.min_soc_percent);
			let min_soc = match configured {
				Some(m) => Some(m),
				None => {
					chain.asset_min_soc(fill.asset).await.map_err(|e| e.to_string())?.map(f64::from)
				},
			};
			tracing::info!(target: "bridge", request = fill.request, fill = fill.fill, asset = fill.asset, power_w = fill.power_w, start_ms = fill.start_ms, end_ms = fill.end_ms, "fill contracted");
			dispatcher.notifier.send(Notification {
				event: "buy",
				fsp: fill.fsp.clone(),
				request: fill.request as u64,
				fill: Some(fill.fill),
				asset: Some(fill.asset),
				details: serde_json::to_value(&fill).unwrap_or_default(),
			});
			let d = Dispatch::new(fill, min_soc);
			store
				.put_dispatch(d.fill.request as u64, d.fill.fill, &d)
				.map_err(|e| e.to_string())?;
			tokio::spawn(dispatcher.clone().run(d, link.clone()));
		},
		MarketEvent::DeliveryReported { request, fill, delivered_wh } => {
			if let Some(mut r) = store.report(request as u64, fill).map_err(|e| e.to_string())? {
				if r.state != ReportState::Posted {
					r.state = ReportState::Posted;
					store.update_report(&r).map_err(|e| e.to_string())?;
				}
				if r.delivered_wh != delivered_wh {
					tracing::warn!(target: "bridge", request, fill, "chain holds {delivered_wh} Wh, the bridge measured {} Wh", r.delivered_wh);
				}
			}
		},
		MarketEvent::FillSettled {
			request,
			fill,
			asset,
			fsp,
			contracted_wh,
			delivered_wh,
			rate_ppb,
			paid,
			penalty,
			refunded,
		} => {
			if !devices.contains_key(&asset) {
				return Ok(());
			}
			if let Some(mut d) =
				store.dispatch::<Dispatch>(request as u64, fill).map_err(|e| e.to_string())?
			{
				d.settlement = Some((rate_ppb, paid));
				store.put_dispatch(request as u64, fill, &d).map_err(|e| e.to_string())?;
			}
			dispatcher.notifier.send(Notification {
				event: "settlement",
				fsp,
				request: request as u64,
				fill: Some(fill),
				asset: Some(asset),
				details: serde_json::json!({
					"contracted_wh": contracted_wh, "delivered_wh": delivered_wh,
					"delivery_rate_percent": rate_ppb as f64 / 1e7,
					"paid": paid.to_string(), "penalty": penalty.to_string(), "refunded": refunded.to_string(),
				}),
			});
		},
		MarketEvent::ClockSet { scale } => {
			tracing::info!(target: "chain", block, scale, "market clock set");
		},
	}
	Ok(())
}
