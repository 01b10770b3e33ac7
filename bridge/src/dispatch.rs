//! Dispatch: drive each bought fill's device through its window, meter it, and report.
//!
//! A fill moves Scheduled → Running → (Stopped) → Ended → Reported → Done, and every
//! step is written to the store before the next begins, so a restarted bridge picks
//! each fill up where it was: it commands a running device again (the setpoint is
//! idempotent), builds a report only once, and reposts a pending report until the
//! chain has it (a second post is refused by the chain as `AlreadyReported`).

use crate::{
	chain::{Direction, Fill, ReportOutcome},
	clock::Clock,
	metering::{self, Register, Sample, MINUTE_MS},
	metrics::Metrics,
	notify::{Notification, Notifier},
	ocpp::central::CentralSystem,
	store::{CommandRecord, Report, ReportState, Store},
	sunspec::client::SunSpecDevice,
};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::{sync::Arc, time::Duration};

/// Market seconds after which a Modbus setpoint reverts unless refreshed.
pub const REVERT_S: u32 = 180;
/// Report submissions before a fill is left for the next restart.
pub const REPORT_ATTEMPTS: u32 = 8;

/// Where the chain takes delivery reports.
pub trait Ledger: Send + Sync + 'static {
	/// Posts one report; `AlreadyReported` when the chain has one for that fill.
	fn report(
		&self,
		request: u32,
		fill: u32,
		delivered_wh: u64,
		root: [u8; 32],
	) -> BoxFuture<'_, Result<ReportOutcome, String>>;
}

/// A device the bridge commands.
#[derive(Clone)]
pub enum DeviceLink {
	/// A SunSpec battery.
	Modbus(Arc<tokio::sync::Mutex<SunSpecDevice>>),
	/// An OCPP charger.
	Ocpp {
		/// The central system it is connected to.
		central: CentralSystem,
		/// Its charge point id.
		id: String,
	},
}

impl DeviceLink {
	/// Commands `watts` (positive = export).
	pub async fn command(&self, watts: f64) -> Result<(), String> {
		match self {
			DeviceLink::Modbus(d) => {
				d.lock().await.set_power(watts, REVERT_S).await.map_err(|e| e.to_string())
			},
			DeviceLink::Ocpp { central, id } => {
				central.set_power(id, watts).await.map_err(|e| e.to_string())
			},
		}
	}

	/// Returns the device to its own control.
	pub async fn release(&self) -> Result<(), String> {
		match self {
			DeviceLink::Modbus(d) => d.lock().await.release().await.map_err(|e| e.to_string()),
			DeviceLink::Ocpp { central, id } => {
				central.set_power(id, 0.0).await.map_err(|e| e.to_string())
			},
		}
	}

	/// Sets the device's own reserve where it has one.
	pub async fn set_reserve(&self, percent: f64) -> Result<(), String> {
		match self {
			DeviceLink::Modbus(d) => {
				d.lock().await.set_reserve(percent).await.map_err(|e| e.to_string())
			},
			DeviceLink::Ocpp { .. } => Ok(()),
		}
	}

	/// Reads the meter now (Modbus only; chargers send their readings themselves).
	pub async fn read(&self, at_ms: u64) -> Option<Result<Sample, String>> {
		match self {
			DeviceLink::Modbus(d) => {
				Some(d.lock().await.reading().await.map_err(|e| e.to_string()).map(|r| Sample {
					at_ms,
					exported_wh: r.exported_wh,
					imported_wh: r.imported_wh,
					power_w: r.power_w,
					soc_permille:
						r.soc_percent.map(|p| (p * 10.0).round().clamp(0.0, 1000.0) as u16),
				}))
			},
			DeviceLink::Ocpp { .. } => None,
		}
	}
}

/// Where a fill stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
	/// Waiting for its window.
	Scheduled,
	/// Commanded, in its window.
	Running,
	/// Stopped early (minimum state of charge), window not over.
	Stopped,
	/// Window over, device released.
	Ended,
	/// Report built and stored.
	Reported,
	/// Report on chain.
	Done,
}

/// Why and when a device was stopped before its window ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stop {
	/// Market time, ms.
	pub at_ms: u64,
	/// Why.
	pub reason: String,
}

/// A fill as the bridge keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dispatch {
	/// What the chain contracted.
	pub fill: Fill,
	/// Where it stands.
	pub stage: Stage,
	/// Stop discharging at this state of charge, percent.
	pub min_soc_percent: Option<f64>,
	/// An early stop.
	pub stop: Option<Stop>,
	/// Delivered energy once reported, Wh.
	pub delivered_wh: Option<u64>,
	/// Settlement, once the chain settled the fill: (rate in ppb, paid plancks).
	pub settlement: Option<(u32, u128)>,
}

impl Dispatch {
	/// A new dispatch of `fill`.
	pub fn new(fill: Fill, min_soc_percent: Option<f64>) -> Self {
		Self {
			fill,
			stage: Stage::Scheduled,
			min_soc_percent,
			stop: None,
			delivered_wh: None,
			settlement: None,
		}
	}

	fn watts(&self) -> f64 {
		match self.fill.direction {
			Direction::Up => self.fill.power_w as f64,
			Direction::Down => -(self.fill.power_w as f64),
		}
	}
}

/// What a dispatch task needs.
#[derive(Clone)]
pub struct Dispatcher {
	/// The store.
	pub store: Arc<Store>,
	/// Market time.
	pub clock: Clock,
	/// Counters.
	pub metrics: Arc<Metrics>,
	/// Webhooks.
	pub notifier: Notifier,
	/// The chain.
	pub ledger: Arc<dyn Ledger>,
	/// Real time between report attempts (doubles each time).
	pub retry: Duration,
}

impl Dispatcher {
	fn save(&self, d: &Dispatch) {
		if let Err(e) = self.store.put_dispatch(d.fill.request as u64, d.fill.fill, d) {
			tracing::error!(target: "dispatch", "cannot save dispatch: {e}");
		}
	}

	fn log(&self, d: &Dispatch, command: String, outcome: &Result<(), String>, reason: &str) {
		Metrics::inc(&self.metrics.commands_sent);
		if outcome.is_err() {
			Metrics::inc(&self.metrics.commands_failed);
		}
		let rec = CommandRecord {
			at_ms: self.clock.now_ms(),
			asset: d.fill.asset,
			command,
			outcome: match outcome {
				Ok(()) => "ok".into(),
				Err(e) => e.clone(),
			},
			reason: reason.into(),
		};
		match outcome {
			Ok(()) => {
				tracing::info!(target: "dispatch", asset = d.fill.asset, request = d.fill.request, "{} ({reason})", rec.command)
			},
			Err(e) => {
				tracing::warn!(target: "dispatch", asset = d.fill.asset, request = d.fill.request, "{} failed: {e} ({reason})", rec.command)
			},
		}
		if let Err(e) = self.store.log_command(&rec) {
			tracing::error!(target: "dispatch", "cannot log command: {e}");
		}
	}

	fn notify(&self, d: &Dispatch, event: &'static str, details: serde_json::Value) {
		self.notifier.send(Notification {
			event,
			fsp: d.fill.fsp.clone(),
			request: d.fill.request as u64,
			fill: Some(d.fill.fill),
			asset: Some(d.fill.asset),
			details,
		});
	}

	/// Drives `d` to the end: window, stop, report.
	pub async fn run(self, mut d: Dispatch, link: DeviceLink) {
		let (start, end) = (d.fill.start_ms, d.fill.end_ms);
		let asset = d.fill.asset;
		if d.stage == Stage::Scheduled {
			self.clock.sleep_until(start).await;
			if self.clock.now_ms() < end {
				// The baseline reading first, then the command: the window's energy is what follows.
				if let Some(Ok(s)) = link.read(start).await {
					self.store_sample(asset, s);
				}
				let floor = d.min_soc_percent.filter(|_| d.fill.direction == Direction::Up);
				if let (Some(min), DeviceLink::Modbus(_)) = (floor, &link) {
					let r = link.set_reserve(min).await;
					self.log(&d, format!("reserve {min} %"), &r, "window start");
				}
				let r = link.command(d.watts()).await;
				self.log(&d, format!("power {} W", d.watts()), &r, "window start");
				d.stage = Stage::Running;
				self.notify(
					&d,
					"dispatch",
					serde_json::json!({"power_w": d.fill.power_w, "start_ms": start, "end_ms": end}),
				);
			} else {
				d.stage = Stage::Ended;
			}
			self.save(&d);
		} else if d.stage == Stage::Running && self.clock.now_ms() < end {
			let r = link.command(d.watts()).await;
			self.log(&d, format!("power {} W", d.watts()), &r, "resumed after restart");
		}
		while matches!(d.stage, Stage::Running | Stage::Stopped) {
			let now = self.clock.now_ms();
			if now >= end {
				if d.stage == Stage::Running {
					let r = link.release().await;
					self.log(&d, "release".into(), &r, "window end");
				}
				if let Some(Ok(s)) = link.read(end).await {
					self.store_sample(asset, s);
				}
				d.stage = Stage::Ended;
				self.save(&d);
				break;
			}
			let next = Clock::next_aligned(now, MINUTE_MS).min(end);
			self.clock.sleep_until(next).await;
			if next >= end {
				continue;
			}
			// Readings of the minute land first (chargers send theirs on the minute).
			self.clock.sleep_until(next + MINUTE_MS / 20).await;
			if d.stage != Stage::Running || self.clock.now_ms() >= end {
				continue;
			}
			let latest = self.latest(asset, next);
			let floor = d.min_soc_percent.filter(|_| d.fill.direction == Direction::Up);
			match (floor, latest.and_then(|s| s.soc_permille)) {
				(Some(min), Some(soc)) if soc as f64 / 10.0 <= min => {
					let r = link.release().await;
					let reason = format!(
						"minimum state of charge {min} % reached ({:.1} %)",
						soc as f64 / 10.0
					);
					self.log(&d, "stop".into(), &r, &reason);
					d.stop = Some(Stop { at_ms: self.clock.now_ms(), reason });
					d.stage = Stage::Stopped;
					self.save(&d);
				},
				_ => {
					if matches!(link, DeviceLink::Modbus(_)) {
						// Refresh the setpoint before its reversion timer runs out.
						let r = link.command(d.watts()).await;
						if r.is_err() {
							self.log(&d, format!("power {} W", d.watts()), &r, "refresh");
						}
					}
				},
			}
		}
		if d.stage == Stage::Ended {
			// Wait (a little) for the reading of the window's last minute.
			let deadline = end + 2 * MINUTE_MS;
			while self.latest(asset, end).is_none_or(|s| s.at_ms < end)
				&& self.clock.now_ms() < deadline
			{
				self.clock.sleep_until(self.clock.now_ms() + MINUTE_MS / 10).await;
			}
			let samples = self.store.samples(asset, start, end).unwrap_or_default();
			let register = match d.fill.direction {
				Direction::Up => Register::Export,
				Direction::Down => Register::Import,
			};
			let delivered = metering::delivered_wh(&samples, start, end, register);
			let report = Report {
				request: d.fill.request as u64,
				fill: d.fill.fill,
				asset,
				delivered_wh: delivered,
				samples_root: hex::encode(metering::samples_root(asset, &samples)),
				samples: samples.len() as u32,
				state: ReportState::Pending,
				attempts: 0,
			};
			match self.store.report_once(report) {
				Ok(r) => {
					d.delivered_wh = Some(r.delivered_wh);
					d.stage = Stage::Reported;
					self.save(&d);
				},
				Err(e) => {
					tracing::error!(target: "dispatch", "cannot store the report: {e}");
					return;
				},
			}
		}
		if d.stage == Stage::Reported && self.post(&d).await {
			d.stage = Stage::Done;
			self.save(&d);
		}
	}

	fn store_sample(&self, asset: u32, s: Sample) {
		match self.store.put_sample(asset, &s) {
			Ok(true) => Metrics::inc(&self.metrics.samples_stored),
			Ok(false) => {},
			Err(e) => tracing::error!(target: "dispatch", "cannot store a sample: {e}"),
		}
	}

	fn latest(&self, asset: u32, until_ms: u64) -> Option<Sample> {
		self.store.samples(asset, until_ms.saturating_sub(5 * MINUTE_MS), until_ms).ok()?.pop()
	}

	/// Posts the fill's stored report until the chain has it.
	async fn post(&self, d: &Dispatch) -> bool {
		let Ok(Some(mut report)) = self.store.report(d.fill.request as u64, d.fill.fill) else {
			return false;
		};
		if report.state == ReportState::Posted {
			return true;
		}
		let mut root = [0u8; 32];
		if hex::decode_to_slice(&report.samples_root, &mut root).is_err() {
			return false;
		}
		let mut wait = self.retry;
		for _ in 0..REPORT_ATTEMPTS {
			report.attempts += 1;
			let _ = self.store.update_report(&report);
			match self.ledger.report(d.fill.request, d.fill.fill, report.delivered_wh, root).await {
				Ok(outcome) => {
					report.state = ReportState::Posted;
					let _ = self.store.update_report(&report);
					Metrics::inc(&self.metrics.reports_posted);
					tracing::info!(target: "dispatch", request = d.fill.request, fill = d.fill.fill, delivered_wh = report.delivered_wh, ?outcome, "delivery reported");
					return true;
				},
				Err(e) => {
					Metrics::inc(&self.metrics.report_failures);
					tracing::warn!(target: "dispatch", request = d.fill.request, fill = d.fill.fill, "report failed: {e}");
					tokio::time::sleep(wait).await;
					wait = (wait * 2).min(Duration::from_secs(60));
				},
			}
		}
		false
	}

	/// Meters a Modbus device every market minute, forever.
	pub async fn meter(self, asset: u32, link: DeviceLink) {
		loop {
			let minute = Clock::next_aligned(self.clock.now_ms(), MINUTE_MS);
			self.clock.sleep_until(minute).await;
			match link.read(minute).await {
				Some(Ok(s)) => self.store_sample(asset, s),
				Some(Err(e)) => {
					Metrics::inc(&self.metrics.readings_failed);
					tracing::debug!(target: "metering", asset, "reading failed: {e}");
				},
				None => return,
			}
		}
	}

	/// Stores a charger's clock-aligned reading as the sample of its minute.
	pub fn charger_sample(&self, asset: u32, s: &crate::ocpp::meter::MeterSample) {
		let Some(exported) = s.exported_wh else { return };
		if !s.clock_aligned {
			return;
		}
		self.store_sample(
			asset,
			Sample {
				at_ms: metering::nearest_minute(s.timestamp_ms),
				exported_wh: exported.round() as u64,
				imported_wh: s.imported_wh.unwrap_or(0.0).round() as u64,
				power_w: s.power_w.unwrap_or(0.0).round() as i64,
				soc_permille: s.soc_percent.map(|p| (p * 10.0).round().clamp(0.0, 1000.0) as u16),
			},
		);
	}
}
