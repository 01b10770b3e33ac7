//! The bridge's HTTP endpoint: `/health`, `/metrics` (Prometheus text) and JSON views
//! of assets, dispatches, the command log and each asset's meter samples.
//!
//! No request reads the whole store: gauges come from table lengths and indexes, the
//! views from bounded ranges (the latest dispatches and commands, at most
//! [`MAX_SAMPLES`] samples a request).

use crate::{
	clock::Clock,
	dispatch::{DeviceLink, Dispatch},
	metrics::{Gauges, Metrics},
	notify::Notifier,
	ocpp::central::CentralSystem,
	store::Store,
	tasks::TaskHealth,
};
use axum::{
	extract::{Path, Query, State},
	http::{header, StatusCode},
	response::IntoResponse,
	routing::get,
	Json, Router,
};
use serde::Deserialize;
use serde_json::json;
use std::{
	collections::BTreeMap,
	sync::{atomic::Ordering, Arc},
};

/// Samples one `/samples` request returns at most (a week of minutes).
pub const MAX_SAMPLES: usize = 7 * 24 * 60;
/// Dispatches and reports `/dispatches` returns at most (the latest).
pub const MAX_DISPATCHES: usize = 500;

/// What the endpoint reads.
#[derive(Clone)]
pub struct HttpState {
	/// The store.
	pub store: Arc<Store>,
	/// Counters.
	pub metrics: Arc<Metrics>,
	/// Webhooks.
	pub notifier: Notifier,
	/// Each asset's device.
	pub devices: Arc<BTreeMap<u32, DeviceLink>>,
	/// The OCPP central system.
	pub central: CentralSystem,
	/// Whether the chain answered last time.
	pub chain_up: Arc<std::sync::atomic::AtomicBool>,
	/// The market clock the bridge runs on.
	pub clock: Clock,
	/// The daemon's tasks.
	pub tasks: Arc<TaskHealth>,
	/// Blocks behind the finalized head beyond which the bridge is unhealthy.
	pub max_lag_blocks: u64,
}

impl HttpState {
	async fn connected(&self, link: &DeviceLink) -> bool {
		link.is_connected()
	}

	async fn gauges(&self) -> Gauges {
		let mut connected = 0;
		for link in self.devices.values() {
			connected += self.connected(link).await as u64;
		}
		Gauges {
			devices_connected: connected,
			devices_configured: self.devices.len() as u64,
			samples_in_store: self.store.sample_count().unwrap_or(0),
			reports_pending: self.store.pending_report_count().unwrap_or(0),
			reports_expired: self.store.expired_report_count().unwrap_or(0),
			tasks_running: self.tasks.running(),
			tasks_failed: self.tasks.failed(),
			dispatches_running: self.store.running_count().unwrap_or(0),
			webhooks_sent: self.notifier.stats.sent.load(Ordering::Relaxed),
			webhooks_failed: self.notifier.stats.failed.load(Ordering::Relaxed),
			ocpp_connections: self.central.open_connections() as u64,
		}
	}
}

/// `/health`: 200 with `"status": "ok"`, or 503 with `"unhealthy"` and the reasons
/// (the chain follower too far behind, a service task stopped).
async fn health(State(s): State<HttpState>) -> impl IntoResponse {
	let g = s.gauges().await;
	let (last, head) = (
		s.metrics.last_block.load(Ordering::Relaxed),
		s.metrics.chain_head.load(Ordering::Relaxed),
	);
	let lag = head.saturating_sub(last);
	let mut problems = Vec::new();
	if lag > s.max_lag_blocks {
		problems.push(format!(
			"{lag} finalized blocks behind the chain (at most {})",
			s.max_lag_blocks
		));
	}
	if s.tasks.services_down() > 0 {
		problems.push(format!("{} service task(s) stopped", s.tasks.services_down()));
	}
	let code = if problems.is_empty() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
	let body = Json(json!({
		"status": if problems.is_empty() { "ok" } else { "unhealthy" },
		"problems": problems,
		"chain_connected": s.chain_up.load(Ordering::Relaxed),
		"last_block": last,
		"chain_head": head,
		"lag_blocks": lag,
		"reports_pending": g.reports_pending,
		"reports_expired": g.reports_expired,
		"tasks_running": g.tasks_running,
		"tasks_failed": g.tasks_failed,
		"task_failures": s.tasks.failures(),
		"devices_connected": g.devices_connected,
		"devices_configured": g.devices_configured,
		"market_time_ms": s.clock.now_ms(),
		"clock_scale": s.clock.scale,
		"clock": s.clock.describe(),
	}));
	(code, body)
}

async fn metrics(State(s): State<HttpState>) -> impl IntoResponse {
	let g = s.gauges().await;
	([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render(g))
}

async fn assets(State(s): State<HttpState>) -> impl IntoResponse {
	let mut out = Vec::new();
	for (asset, link) in s.devices.iter() {
		let (kind, device) = match link {
			DeviceLink::Modbus(_) => ("modbus", String::new()),
			DeviceLink::Ocpp { id, .. } => ("ocpp", id.clone()),
		};
		let last = s.store.last_sample(*asset).ok().flatten();
		out.push(json!({
			"asset": asset,
			"kind": kind,
			"charge_point": device,
			"connected": s.connected(link).await,
			"last_sample": last,
		}));
	}
	Json(out)
}

async fn dispatches(State(s): State<HttpState>) -> impl IntoResponse {
	let d: Vec<Dispatch> = s.store.recent_dispatches(MAX_DISPATCHES).unwrap_or_default();
	let reports = s.store.recent_reports(MAX_DISPATCHES).unwrap_or_default();
	Json(json!({ "dispatches": d, "reports": reports }))
}

/// `?from=&to=`: market time range, Unix ms (default: from the first sample on, at
/// most [`MAX_SAMPLES`]).
#[derive(Deserialize)]
struct Range {
	from: Option<u64>,
	to: Option<u64>,
}

async fn samples(
	State(s): State<HttpState>,
	Path(asset): Path<u32>,
	Query(r): Query<Range>,
) -> impl IntoResponse {
	if !s.devices.contains_key(&asset) {
		return (StatusCode::NOT_FOUND, Json(json!({ "error": format!("no asset {asset}") })));
	}
	let (from, to) = (r.from.unwrap_or(0), r.to.unwrap_or(u64::MAX));
	match s.store.samples_limited(asset, from, to, MAX_SAMPLES) {
		Ok(v) => (StatusCode::OK, Json(json!(v))),
		Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": e.to_string() }))),
	}
}

async fn commands(State(s): State<HttpState>) -> impl IntoResponse {
	Json(s.store.commands(500).unwrap_or_default())
}

/// The router: read-only views, readable from a browser on the `cors` origins.
pub fn router(state: HttpState, cors: crate::cors::Cors) -> Router {
	Router::new()
		.route("/health", get(health))
		.route("/metrics", get(metrics))
		.route("/assets", get(assets))
		.route("/dispatches", get(dispatches))
		.route("/commands", get(commands))
		.route("/samples/{asset}", get(samples))
		.with_state(state)
		.layer(axum::middleware::from_fn_with_state(cors, crate::cors::layer))
}
