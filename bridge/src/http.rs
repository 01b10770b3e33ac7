//! The bridge's HTTP endpoint: `/health`, `/metrics` (Prometheus text) and JSON views
//! of assets, dispatches, the command log and each asset's meter samples.

use crate::{
	clock::Clock,
	dispatch::{DeviceLink, Dispatch, Stage},
	metrics::{Gauges, Metrics},
	notify::Notifier,
	store::{ReportState, Store},
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
	/// Whether the chain answered last time.
	pub chain_up: Arc<std::sync::atomic::AtomicBool>,
	/// The market clock the bridge runs on.
	pub clock: Clock,
}

impl HttpState {
	async fn connected(&self, link: &DeviceLink) -> bool {
		match link {
			DeviceLink::Modbus(d) => d.try_lock().map(|d| d.is_connected()).unwrap_or(true),
			DeviceLink::Ocpp { central, id } => central.connected().contains(id),
		}
	}

	async fn gauges(&self) -> Gauges {
		let mut connected = 0;
		for link in self.devices.values() {
			connected += self.connected(link).await as u64;
		}
		let reports = self.store.reports().unwrap_or_default();
		let dispatches: Vec<Dispatch> = self.store.dispatches().unwrap_or_default();
		Gauges {
			devices_connected: connected,
			devices_configured: self.devices.len() as u64,
			samples_in_store: self.store.sample_count().unwrap_or(0),
			reports_pending: reports.iter().filter(|r| r.state == ReportState::Pending).count()
				as u64,
			dispatches_running: dispatches.iter().filter(|d| d.stage == Stage::Running).count()
				as u64,
			webhooks_sent: self.notifier.stats.sent.load(Ordering::Relaxed),
			webhooks_failed: self.notifier.stats.failed.load(Ordering::Relaxed),
		}
	}
}

async fn health(State(s): State<HttpState>) -> impl IntoResponse {
	let g = s.gauges().await;
	Json(json!({
		"status": "ok",
		"chain_connected": s.chain_up.load(Ordering::Relaxed),
		"last_block": s.metrics.last_block.load(Ordering::Relaxed),
		"devices_connected": g.devices_connected,
		"devices_configured": g.devices_configured,
		"market_time_ms": s.clock.now_ms(),
		"clock_scale": s.clock.scale,
		"clock": s.clock.describe(),
	}))
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
		let last = s.store.samples(*asset, 0, u64::MAX).ok().and_then(|v| v.last().copied());
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
	let d: Vec<Dispatch> = s.store.dispatches().unwrap_or_default();
	let reports = s.store.reports().unwrap_or_default();
	Json(json!({ "dispatches": d, "reports": reports }))
}

/// `?from=&to=`: market time range, Unix ms (default: everything).
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
	match s.store.samples(asset, r.from.unwrap_or(0), r.to.unwrap_or(u64::MAX)) {
		Ok(v) => (StatusCode::OK, Json(json!(v))),
		Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": e.to_string() }))),
	}
}

async fn commands(State(s): State<HttpState>) -> impl IntoResponse {
	Json(s.store.commands(500).unwrap_or_default())
}

/// The router.
pub fn router(state: HttpState) -> Router {
	Router::new()
		.route("/health", get(health))
		.route("/metrics", get(metrics))
		.route("/assets", get(assets))
		.route("/dispatches", get(dispatches))
		.route("/commands", get(commands))
		.route("/samples/{asset}", get(samples))
		.with_state(state)
}
