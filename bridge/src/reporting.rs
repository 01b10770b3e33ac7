//! Delivery reports: built once from the window's samples, posted to the chain until
//! it has them or its reporting deadline passes, then marked expired with an alert
//! (log and webhook), never silently dropped.

use crate::{
	anomaly::AnomalyKind,
	chain::{runtime, ChainError, Direction, ReportOutcome},
	dispatch::{Dispatch, Dispatcher, Stage},
	metering::{self, Register, MINUTE_MS},
	metrics::Metrics,
	store::{Report, ReportState},
	writer,
};
use futures::future::BoxFuture;
use runtime::runtime_types::pallet_flex_market::pallet::Error as MarketError;
use std::time::Duration;

/// Anomalies of its window a report lists at most.
pub const REPORT_ANOMALIES: usize = 64;
/// The settlement grace assumed for a fill whose deadline the store does not hold
/// (recorded before deadlines were), market ms: the market's default.
pub const DEFAULT_GRACE_MS: u64 = 15 * MINUTE_MS;
/// Longest real wait between two report attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(60);

/// Where the chain takes delivery reports.
pub trait Ledger: Send + Sync + 'static {
	/// Posts one report; `AlreadyReported` when the chain has one for that fill.
	fn report(
		&self,
		request: u32,
		fill: u32,
		delivered_wh: u64,
		root: [u8; 32],
	) -> BoxFuture<'_, Result<ReportOutcome, ChainError>>;
}

/// The market time until which the chain takes the fill's report.
pub fn deadline_ms(d: &Dispatch) -> u64 {
	match d.fill.report_deadline_ms {
		0 => d.fill.end_ms.saturating_add(DEFAULT_GRACE_MS),
		at => at,
	}
}

impl Dispatcher {
	/// The fill's report: the register difference over its window, cut to contracted
	/// power × window × (1 + tolerance), with the anomalies of the window.
	pub(crate) fn build_report(&self, d: &Dispatch, until_ms: u64) -> Report {
		let (start, end, asset) = (d.fill.start_ms, d.fill.end_ms, d.fill.asset);
		let samples = self.store.samples(asset, start, end).unwrap_or_default();
		let register = match d.fill.direction {
			Direction::Up => Register::Export,
			Direction::Down => Register::Import,
		};
		let metered = metering::delivered_wh(&samples, start, end, register);
		let cap = self.policy.cap_wh(d.fill.power_w as u64, start, end);
		if metered > cap {
			let detail = format!(
				"request {} fill {}: metered {metered} Wh, more than {} W over the window \
				 plus {} %: reported {cap} Wh",
				d.fill.request, d.fill.fill, d.fill.power_w, self.policy.tolerance_percent
			);
			self.anomaly(asset, AnomalyKind::OverReported, end, detail);
		}
		let anomalies =
			self.store.anomalies(asset, start, until_ms, REPORT_ANOMALIES).unwrap_or_default();
		Report {
			request: d.fill.request as u64,
			fill: d.fill.fill,
			asset,
			delivered_wh: metered.min(cap),
			samples_root: hex::encode(metering::samples_root(asset, &samples)),
			samples: samples.len() as u32,
			state: ReportState::Pending,
			attempts: 0,
			metered_wh: (metered > cap).then_some(metered),
			anomalies,
		}
	}

	async fn put_report(&self, report: &Report) {
		let r = report.clone();
		if let Err(e) = writer::blocking(&self.store, move |s| s.update_report(&r)).await {
			tracing::error!(target: "dispatch", "cannot update the report: {e}");
		}
	}

	/// Reported: posts the fill's stored report until the chain has it (Done) or the
	/// chain's deadline for it passes (Expired).
	pub(crate) async fn post(&self, d: &mut Dispatch) -> Stage {
		let (request, fill) = (d.fill.request, d.fill.fill);
		let Ok(Some(mut report)) = self.store.report(request as u64, fill) else {
			// No report stored: build it again.
			return Stage::Ended;
		};
		match report.state {
			ReportState::Posted => return Stage::Done,
			ReportState::Expired => return Stage::Expired,
			ReportState::Pending => {},
		}
		let mut root = [0u8; 32];
		if hex::decode_to_slice(&report.samples_root, &mut root).is_err() {
			return self.expire(d, &mut report, "its stored samples root is not hex").await;
		}
		let deadline = deadline_ms(d);
		let mut wait = self.retry;
		loop {
			if self.clock.now_ms() >= deadline {
				return self.expire(d, &mut report, "the chain's reporting deadline passed").await;
			}
			report.attempts += 1;
			self.put_report(&report).await;
			match self.ledger.report(request, fill, report.delivered_wh, root).await {
				Ok(outcome) => {
					report.state = ReportState::Posted;
					self.put_report(&report).await;
					Metrics::inc(&self.metrics.reports_posted);
					tracing::info!(target: "dispatch", request, fill, delivered_wh = report.delivered_wh, ?outcome, "delivery reported");
					return Stage::Done;
				},
				Err(ChainError::Market(MarketError::ReportTooLate)) => {
					return self.expire(d, &mut report, "the chain says it is too late").await;
				},
				Err(e) => {
					Metrics::inc(&self.metrics.report_failures);
					tracing::warn!(target: "dispatch", request, fill, attempt = report.attempts, "report failed: {e}; retrying until the deadline");
					// Sleep, but not past the deadline.
					let left = self.clock.real_duration(Duration::from_millis(
						deadline.saturating_sub(self.clock.now_ms()),
					));
					tokio::time::sleep(wait.min(left)).await;
					wait = (wait * 2).min(MAX_RETRY);
				},
			}
		}
	}

	/// Gives a report up: marked expired in the store, counted, logged as an error and
	/// sent to the FSP's webhook.
	async fn expire(&self, d: &Dispatch, report: &mut Report, why: &str) -> Stage {
		report.state = ReportState::Expired;
		self.put_report(report).await;
		Metrics::inc(&self.metrics.reports_expired);
		tracing::error!(target: "dispatch", request = d.fill.request, fill = d.fill.fill, delivered_wh = report.delivered_wh, attempts = report.attempts, "delivery report expired: {why}");
		self.notify(
			d,
			"report_expired",
			serde_json::json!({
				"delivered_wh": report.delivered_wh, "attempts": report.attempts,
				"deadline_ms": deadline_ms(d), "why": why,
			}),
		);
		Stage::Expired
	}
}
