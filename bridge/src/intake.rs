//! Meter readings into the store, on the bridge's terms.
//!
//! A charger's reading is filed under the minute of the bridge's market clock when it
//! arrives, never under the time the charger wrote on it (that is only checked: too
//! far off either way and the reading is refused). Every sample, the batteries' too,
//! must keep its registers monotonic. What is refused becomes an anomaly: counted in
//! `/metrics`, kept in the store, listed in the report of the fill it falls in.

use crate::{
	anomaly::{Anomaly, AnomalyKind},
	dispatch::Dispatcher,
	floor::Snapshot,
	metering::{self, Sample},
	metrics::{Label, Metrics},
	ocpp::{central::ChargerEvent, meter::MeterSample},
	store::Put,
};
use std::collections::HashMap;
use tokio::sync::mpsc;

impl Dispatcher {
	/// Files a charger's clock-aligned reading under the minute it arrived in (bridge
	/// time), unless its own timestamp is too far from that. Any reading (a triggered
	/// one too) becomes the asset's latest, for its floor.
	pub async fn charger_sample(&self, asset: u32, s: &MeterSample) {
		let Some(exported) = s.exported_wh else { return };
		if self.policy.check_clock(s.timestamp_ms, s.received_ms).is_ok() {
			self.set_live(
				asset,
				Snapshot {
					at_ms: s.received_ms,
					exported_wh: exported,
					imported_wh: s.imported_wh.unwrap_or(0.0),
					power_w: s.power_w.unwrap_or(0.0),
					soc_percent: s.soc_percent,
					capacity_wh: None,
				},
			);
		}
		if !s.clock_aligned {
			return;
		}
		if let Err(kind) = self.policy.check_clock(s.timestamp_ms, s.received_ms) {
			let detail = format!(
				"reading dated {} ms arrived at {} ms ({:+} s off)",
				s.timestamp_ms,
				s.received_ms,
				(s.timestamp_ms as i128 - s.received_ms as i128) / 1_000
			);
			self.anomaly(asset, kind, s.received_ms, detail);
			return;
		}
		let register = |wh: f64| wh.round().max(0.0) as u64;
		self.store_sample(
			asset,
			Sample {
				at_ms: metering::nearest_minute(s.received_ms),
				exported_wh: register(exported),
				imported_wh: register(s.imported_wh.unwrap_or(0.0)),
				power_w: s.power_w.unwrap_or(0.0).round() as i64,
				soc_permille: s.soc_percent.map(|p| (p * 10.0).round().clamp(0.0, 1000.0) as u16),
			},
		)
		.await;
	}

	/// Stores a sample (off the async workers, committed with others arriving at the
	/// same time); one whose registers run backwards is refused as an anomaly.
	pub async fn store_sample(&self, asset: u32, s: Sample) {
		match self.writer.put(asset, s).await {
			Ok(Put::Stored) => Metrics::inc(&self.metrics.samples_stored),
			Ok(Put::Duplicate) => {},
			Ok(Put::Backwards(b)) => {
				self.anomaly(asset, AnomalyKind::RegisterBackwards, s.at_ms, b.to_string())
			},
			Err(e) => tracing::error!(target: "metering", "cannot store a sample: {e}"),
		}
	}

	/// Counts and keeps an anomaly of `asset` seen at market time `at_ms`.
	pub fn anomaly(&self, asset: u32, kind: AnomalyKind, at_ms: u64, detail: String) {
		self.metrics.anomalies.inc(kind);
		tracing::warn!(target: "metering", asset, kind = kind.name(), "reading refused: {detail}");
		let a = Anomaly { kind, asset, at_ms, detail };
		if let Err(e) = self.store.put_anomaly(&a) {
			tracing::error!(target: "metering", "cannot store an anomaly: {e}");
		}
	}

	/// Takes the central system's events: readings of the configured chargers into the
	/// store, refusals as anomalies of their asset. Returns when the central system stops.
	pub async fn charger_events(
		self,
		mut events: mpsc::Receiver<ChargerEvent>,
		by_charge_point: HashMap<String, u32>,
	) {
		while let Some(e) = events.recv().await {
			match e {
				ChargerEvent::Meter { id, sample, .. } => {
					if let Some(asset) = by_charge_point.get(&id) {
						self.charger_sample(*asset, &sample).await;
					}
				},
				ChargerEvent::Rejected { id, kind, detail } => {
					if let Some(asset) = by_charge_point.get(&id) {
						self.anomaly(*asset, kind, self.clock.now_ms(), detail);
					}
				},
				other => tracing::debug!(target: "ocpp", "{other:?}"),
			}
		}
	}
}
