//! Dispatch: drive each bought fill's device through its window, meter it, and report.
//!
//! A fill moves Scheduled → Running → (Stopped) → Ended → Reported → Done (or Expired)
//! as an explicit state machine, and every step is written to the store before the
//! next begins, so a restarted bridge picks each fill up where it was: it commands a
//! running device again (the setpoint is idempotent), builds a report only once, and
//! reposts a pending report until the chain has it or its deadline passes (a second
//! post is refused by the chain as `AlreadyReported`).
//!
//! Every setpoint carries its window's end (the battery's reversion timer, the
//! charger's `validTo`), so a device left alone stops there by itself; a release that
//! did not reach its device is kept in the store and retried until it does.

use crate::{
	chain::{Direction, Fill},
	clock::Clock,
	floor::{FloorWatch, Next, Snapshot},
	metering::{MeteringPolicy, Sample, MINUTE_MS},
	metrics::Metrics,
	notify::{Notification, Notifier},
	store::{CommandRecord, DispatchRecord, Store},
	writer::{self, SampleWriter},
};
use serde::{Deserialize, Serialize};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
	time::Duration,
};

pub use crate::{
	device::{DeviceLink, LinkError, REVERT_S},
	reporting::{Ledger, REPORT_ANOMALIES},
};

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
	/// Report given up: the chain's deadline passed before it could be posted.
	Expired,
}

impl Stage {
	/// Whether nothing is left to do for the fill.
	pub fn is_final(self) -> bool {
		matches!(self, Stage::Done | Stage::Expired)
	}
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

impl DispatchRecord for Dispatch {
	fn running(&self) -> bool {
		self.stage == Stage::Running
	}
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

	/// The power to command, W (positive = export).
	pub fn watts(&self) -> f64 {
		match self.fill.direction {
			Direction::Up => self.fill.power_w as f64,
			Direction::Down => -(self.fill.power_w as f64),
		}
	}

	/// The floor that applies: the minimum state of charge of a discharge.
	pub fn floor(&self) -> Option<f64> {
		self.min_soc_percent.filter(|_| self.fill.direction == Direction::Up)
	}
}

/// The latest reading of each asset, at any instant (the floor works from these).
pub type Live = Arc<Mutex<HashMap<u32, Snapshot>>>;

/// What a dispatch task needs.
#[derive(Clone)]
pub struct Dispatcher {
	/// The store.
	pub store: Arc<Store>,
	/// Samples into the store, off the async workers.
	pub writer: SampleWriter,
	/// Market time.
	pub clock: Clock,
	/// Counters.
	pub metrics: Arc<Metrics>,
	/// Webhooks.
	pub notifier: Notifier,
	/// The chain.
	pub ledger: Arc<dyn Ledger>,
	/// Real time between report attempts (doubles each time, up to a minute).
	pub retry: Duration,
	/// The plausibility rules readings and reports follow.
	pub policy: MeteringPolicy,
	/// The latest reading of each asset.
	pub live: Live,
}

/// One fill being driven: the dispatch, its device and what is computed once for it.
struct Job {
	d: Dispatch,
	link: DeviceLink,
	/// The floor, with its prediction state.
	watch: Option<FloorWatch>,
	/// Set until the first step of a resumed Running fill: command it again.
	resumed: bool,
}

impl Dispatcher {
	/// A dispatcher with default counters, no webhooks and the default policy.
	pub fn new(store: Arc<Store>, clock: Clock, ledger: Arc<dyn Ledger>) -> Self {
		Self {
			writer: SampleWriter::new(store.clone()),
			store,
			clock,
			metrics: Default::default(),
			notifier: Notifier::new(Vec::new(), Duration::from_secs(1)),
			ledger,
			retry: Duration::from_secs(2),
			policy: MeteringPolicy::default(),
			live: Default::default(),
		}
	}

	pub(crate) async fn save(&self, d: &Dispatch) {
		let (key, d2) = ((d.fill.request as u64, d.fill.fill), d.clone());
		let r = writer::blocking(&self.store, move |s| s.put_dispatch(key.0, key.1, &d2)).await;
		if let Err(e) = r {
			tracing::error!(target: "dispatch", "cannot save dispatch: {e}");
		}
	}

	pub(crate) async fn log(
		&self,
		d: &Dispatch,
		command: String,
		outcome: &Result<(), LinkError>,
		reason: &str,
	) {
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
				Err(e) => e.to_string(),
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
		if let Err(e) = writer::blocking(&self.store, move |s| s.log_command(&rec)).await {
			tracing::error!(target: "dispatch", "cannot log command: {e}");
		}
	}

	pub(crate) fn notify(&self, d: &Dispatch, event: &'static str, details: serde_json::Value) {
		self.notifier.send(Notification {
			event,
			fsp: d.fill.fsp.clone(),
			request: d.fill.request as u64,
			fill: Some(d.fill.fill),
			asset: Some(d.fill.asset),
			details,
		});
	}

	/// Drives `d` to the end: window, stop, report. Each stage is a step of the machine
	/// and names the next; the dispatch is saved whenever its stage changes.
	pub async fn run(self, d: Dispatch, link: DeviceLink) {
		let watch = d.floor().map(FloorWatch::new);
		let resumed = d.stage == Stage::Running;
		let mut job = Job { d, link, watch, resumed };
		// Written again, so that a store from before the index of running dispatches
		// counts a resumed one.
		self.save(&job.d).await;
		let mut stage = job.d.stage;
		loop {
			stage = match stage {
				Stage::Scheduled => self.start(&mut job).await,
				Stage::Running => self.running(&mut job).await,
				Stage::Stopped => self.stopped(&mut job).await,
				Stage::Ended => self.ended(&mut job).await,
				Stage::Reported => self.post(&mut job.d).await,
				Stage::Done | Stage::Expired => break,
			};
			if stage != job.d.stage {
				job.d.stage = stage;
				self.save(&job.d).await;
			}
		}
	}

	/// Scheduled: at the window's start, the baseline reading, the reserve, the command.
	async fn start(&self, job: &mut Job) -> Stage {
		let (start, end) = (job.d.fill.start_ms, job.d.fill.end_ms);
		self.clock.sleep_until(start).await;
		if self.clock.now_ms() >= end {
			return Stage::Ended;
		}
		// The baseline reading first, then the command: the window's energy is what follows.
		if let Some(Ok(s)) = job.link.read(start).await {
			self.observe(job, &s);
			self.store_sample(job.d.fill.asset, s.sample(start)).await;
		}
		if let (Some(min), DeviceLink::Modbus(_)) = (job.d.floor(), &job.link) {
			let r = job.link.set_reserve(min).await;
			let (command, r) = match r {
				Ok(points) => (format!("reserve {min} % ({})", points.join(", ")), Ok(())),
				Err(e) => (format!("reserve {min} %"), Err(e)),
			};
			self.log(&job.d, command, &r, "window start").await;
		}
		self.command(job, "window start").await;
		self.notify(
			&job.d,
			"dispatch",
			serde_json::json!({"power_w": job.d.fill.power_w, "start_ms": start, "end_ms": end}),
		);
		Stage::Running
	}

	async fn command(&self, job: &Job, reason: &str) -> bool {
		let watts = job.d.watts();
		let r = job.link.command(watts, self.clock.now_ms(), job.d.fill.end_ms).await;
		let ok = r.is_ok();
		if !ok || reason != "refresh" {
			self.log(&job.d, format!("power {watts} W"), &r, reason).await;
		}
		ok
	}

	/// Running: one step, up to the next check of the floor (the metering minute, or
	/// sooner as the floor nears); releases at the window's end.
	async fn running(&self, job: &mut Job) -> Stage {
		let end = job.d.fill.end_ms;
		let now = self.clock.now_ms();
		if now >= end {
			self.release(job, "window end").await;
			if let Some(Ok(s)) = job.link.read(end).await {
				self.store_sample(job.d.fill.asset, s.sample(end)).await;
			}
			return Stage::Ended;
		}
		if std::mem::take(&mut job.resumed) {
			self.command(job, "resumed after restart").await;
		}
		// The minute's check comes a little after the minute: readings land first
		// (chargers send theirs on the minute).
		let minute = Clock::next_aligned(now, MINUTE_MS);
		let check = (minute + MINUTE_MS / 20).min(end);
		let next = match (job.watch.as_mut(), self.live(job.d.fill.asset)) {
			(Some(w), Some(s)) if s.at_ms + 2 * MINUTE_MS > now => {
				w.observe(&s);
				w.next(&s, now, check)
			},
			_ => Next::Minute,
		};
		match next {
			Next::StopNow => return self.stop_at_floor(job).await,
			Next::StopAt(at) if at < end => {
				self.clock.sleep_until(at).await;
				return self.stop_at_floor(job).await;
			},
			Next::ReadAt(at) if at < check => {
				self.clock.sleep_until(at).await;
				self.fresh_reading(job).await;
			},
			_ => {
				self.clock.sleep_until(check).await;
				if self.clock.now_ms() < end && matches!(job.link, DeviceLink::Modbus(_)) {
					// Refresh the setpoint before its reversion timer runs out.
					self.command(job, "refresh").await;
				}
			},
		}
		Stage::Running
	}

	/// Stopped: waits for the window's end.
	async fn stopped(&self, job: &mut Job) -> Stage {
		let end = job.d.fill.end_ms;
		self.clock.sleep_until(end).await;
		if let Some(Ok(s)) = job.link.read(end).await {
			self.store_sample(job.d.fill.asset, s.sample(end)).await;
		}
		Stage::Ended
	}

	/// Ended: waits (a little) for the reading of the window's last minute, then builds
	/// and stores the report once.
	async fn ended(&self, job: &mut Job) -> Stage {
		let (asset, end) = (job.d.fill.asset, job.d.fill.end_ms);
		let deadline = end + 2 * MINUTE_MS;
		while self.latest(asset, end).is_none_or(|s| s.at_ms < end)
			&& self.clock.now_ms() < deadline
		{
			self.clock.sleep_until(self.clock.now_ms() + MINUTE_MS / 10).await;
		}
		let report = self.build_report(&job.d, deadline);
		match writer::blocking(&self.store, move |s| s.report_once(report)).await {
			Ok(r) => {
				job.d.delivered_wh = Some(r.delivered_wh);
				Stage::Reported
			},
			Err(e) => {
				tracing::error!(target: "dispatch", "cannot store the report: {e}");
				self.clock.sleep_until(self.clock.now_ms() + MINUTE_MS).await;
				Stage::Ended
			},
		}
	}

	/// Stops a discharge at its floor.
	async fn stop_at_floor(&self, job: &mut Job) -> Stage {
		let min = job.d.floor().unwrap_or_default();
		let soc = self.live(job.d.fill.asset).and_then(|s| s.soc_percent);
		self.release(job, "minimum state of charge").await;
		let reason = match soc {
			Some(soc) => format!("minimum state of charge {min} % reached ({soc:.1} %)"),
			None => format!("minimum state of charge {min} % reached"),
		};
		tracing::info!(target: "dispatch", asset = job.d.fill.asset, request = job.d.fill.request, "{reason}");
		job.d.stop = Some(Stop { at_ms: self.clock.now_ms(), reason });
		Stage::Stopped
	}

	/// Releases the device; one that cannot be reached is remembered in the store and
	/// released when it can be (see [`Dispatcher::retry_releases`]).
	async fn release(&self, job: &Job, reason: &str) {
		let r = job.link.release().await;
		let failed = r.is_err();
		self.log(&job.d, "release".into(), &r, reason).await;
		if failed {
			let (asset, end) = (job.d.fill.asset, job.d.fill.end_ms);
			let r = writer::blocking(&self.store, move |s| s.set_pending_release(asset, end));
			if let Err(e) = r.await {
				tracing::error!(target: "dispatch", "cannot keep the pending release: {e}");
			}
		}
	}

	/// Retries the releases that did not reach their device, every `every` of real
	/// time, forever (a charger that reconnects is released within one period).
	pub async fn retry_releases(
		self,
		devices: Arc<std::collections::BTreeMap<u32, DeviceLink>>,
		every: Duration,
	) {
		loop {
			let pending =
				writer::blocking(&self.store, |s| s.pending_releases()).await.unwrap_or_default();
			for (asset, _end) in pending {
				let Some(link) = devices.get(&asset) else { continue };
				if !link.is_connected() && matches!(link, DeviceLink::Ocpp { .. }) {
					continue;
				}
				if link.release().await.is_ok() {
					tracing::info!(target: "dispatch", asset, "pending release delivered");
					let _ = writer::blocking(&self.store, move |s| s.clear_pending_release(asset))
						.await;
				}
			}
			tokio::time::sleep(every).await;
		}
	}

	/// A fresh reading of the device now: read directly (battery) or asked for
	/// (charger, whose answer comes in as its meter values).
	async fn fresh_reading(&self, job: &mut Job) {
		let now = self.clock.now_ms();
		match job.link.read(now).await {
			Some(Ok(s)) => self.observe(job, &s),
			Some(Err(e)) => {
				tracing::debug!(target: "dispatch", asset = job.d.fill.asset, "fresh reading failed: {e}")
			},
			None => {
				if job.link.trigger().await.is_ok() {
					// Wait (a little) for the triggered reading.
					let asset = job.d.fill.asset;
					let until = tokio::time::Instant::now() + Duration::from_millis(500);
					while self.live(asset).is_none_or(|s| s.at_ms < now)
						&& tokio::time::Instant::now() < until
					{
						tokio::time::sleep(Duration::from_millis(5)).await;
					}
				}
			},
		}
		if let (Some(w), Some(s)) = (job.watch.as_mut(), self.live(job.d.fill.asset)) {
			w.observe(&s);
		}
	}

	fn observe(&self, job: &mut Job, s: &Snapshot) {
		self.set_live(job.d.fill.asset, *s);
		if let Some(w) = job.watch.as_mut() {
			w.observe(s);
		}
	}

	/// Keeps `s` as the latest reading of `asset`.
	pub fn set_live(&self, asset: u32, s: Snapshot) {
		let mut live = self.live.lock().expect("not poisoned");
		if live.get(&asset).is_none_or(|old| old.at_ms <= s.at_ms) {
			live.insert(asset, s);
		}
	}

	/// The latest reading of `asset`.
	pub fn live(&self, asset: u32) -> Option<Snapshot> {
		self.live.lock().expect("not poisoned").get(&asset).copied()
	}

	pub(crate) fn latest(&self, asset: u32, until_ms: u64) -> Option<Sample> {
		self.store.samples(asset, until_ms.saturating_sub(5 * MINUTE_MS), until_ms).ok()?.pop()
	}

	/// Meters a Modbus device every market minute, forever.
	pub async fn meter(self, asset: u32, link: DeviceLink) {
		loop {
			let minute = Clock::next_aligned(self.clock.now_ms(), MINUTE_MS);
			self.clock.sleep_until(minute).await;
			match link.read(self.clock.now_ms()).await {
				Some(Ok(s)) => {
					self.set_live(asset, s);
					self.store_sample(asset, s.sample(minute)).await;
				},
				Some(Err(e)) => {
					Metrics::inc(&self.metrics.readings_failed);
					tracing::debug!(target: "metering", asset, "reading failed: {e}");
				},
				None => return,
			}
		}
	}
}
