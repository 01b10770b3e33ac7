//! Counters the bridge exposes in Prometheus text format.

use crate::{anomaly::AnomalyCounters, ocpp::limits::OcppCounters};
use std::{
	marker::PhantomData,
	sync::atomic::{AtomicU64, Ordering},
};

/// What a counter of `/metrics` is split by: the values of one label (an anomaly's
/// kind, a refused connection's reason).
pub trait Label: Copy + PartialEq + 'static {
	/// Every value, in the order `/metrics` lists them.
	const ALL: &'static [Self];
	/// The value as the label shows it.
	fn name(self) -> &'static str;
}

/// A counter for each value of the label `L`, counted since the bridge started.
#[derive(Debug)]
pub struct Counters<L> {
	counts: Box<[AtomicU64]>,
	label: PhantomData<L>,
}

impl<L: Label> Default for Counters<L> {
	fn default() -> Self {
		Self { counts: L::ALL.iter().map(|_| AtomicU64::new(0)).collect(), label: PhantomData }
	}
}

impl<L: Label> Counters<L> {
	/// Counts one of `value`.
	pub fn inc(&self, value: L) {
		self.counts[Self::index(value)].fetch_add(1, Ordering::Relaxed);
	}

	/// How many of `value` so far.
	pub fn get(&self, value: L) -> u64 {
		self.counts[Self::index(value)].load(Ordering::Relaxed)
	}

	fn index(value: L) -> usize {
		L::ALL.iter().position(|v| *v == value).unwrap_or(0)
	}
}

/// The bridge's counters and gauges.
#[derive(Debug, Default)]
pub struct Metrics {
	/// Commands sent to devices.
	pub commands_sent: AtomicU64,
	/// Commands that failed.
	pub commands_failed: AtomicU64,
	/// Samples stored.
	pub samples_stored: AtomicU64,
	/// Meter readings that failed.
	pub readings_failed: AtomicU64,
	/// Reports that reached the chain.
	pub reports_posted: AtomicU64,
	/// Report submissions that failed (retried).
	pub report_failures: AtomicU64,
	/// Reports given up at their deadline since start.
	pub reports_expired: AtomicU64,
	/// Last finalized block processed.
	pub last_block: AtomicU64,
	/// The chain's finalized head, last seen.
	pub chain_head: AtomicU64,
	/// Catch-ups from the market's storage.
	pub catch_ups: AtomicU64,
	/// Meter readings refused or cut, by kind.
	pub anomalies: AnomalyCounters,
	/// The OCPP central system's refusals and rate limiting.
	pub ocpp: OcppCounters,
	/// Records deleted after the retention period.
	pub pruned: AtomicU64,
}

/// Gauges read at render time.
#[derive(Debug, Default, Clone, Copy)]
pub struct Gauges {
	/// Devices connected now.
	pub devices_connected: u64,
	/// Devices configured.
	pub devices_configured: u64,
	/// Samples in the store.
	pub samples_in_store: u64,
	/// Reports not yet on chain.
	pub reports_pending: u64,
	/// Reports given up at their deadline (in the store).
	pub reports_expired: u64,
	/// Tasks running now.
	pub tasks_running: u64,
	/// Tasks that failed (panicked, or a service that stopped) since start.
	pub tasks_failed: u64,
	/// Dispatches running now.
	pub dispatches_running: u64,
	/// Webhook deliveries.
	pub webhooks_sent: u64,
	/// Webhook deliveries given up.
	pub webhooks_failed: u64,
	/// Connections open on the OCPP port, handshakes included.
	pub ocpp_connections: u64,
}

impl Metrics {
	/// Adds one to a counter.
	pub fn inc(c: &AtomicU64) {
		c.fetch_add(1, Ordering::Relaxed);
	}

	/// Prometheus text exposition.
	pub fn render(&self, g: Gauges) -> String {
		let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
		let lag = get(&self.chain_head).saturating_sub(get(&self.last_block));
		let rows: [(&str, &str, &str, u64); 23] = [
			(
				"flexbridge_devices_connected",
				"gauge",
				"Devices connected now.",
				g.devices_connected,
			),
			(
				"flexbridge_devices_configured",
				"gauge",
				"Devices in the configuration.",
				g.devices_configured,
			),
			(
				"flexbridge_commands_sent_total",
				"counter",
				"Commands sent to devices.",
				get(&self.commands_sent),
			),
			(
				"flexbridge_commands_failed_total",
				"counter",
				"Commands that failed.",
				get(&self.commands_failed),
			),
			(
				"flexbridge_samples_stored_total",
				"counter",
				"Meter samples stored since start.",
				get(&self.samples_stored),
			),
			(
				"flexbridge_samples",
				"gauge",
				"Meter samples in the local store.",
				g.samples_in_store,
			),
			(
				"flexbridge_readings_failed_total",
				"counter",
				"Meter readings that failed.",
				get(&self.readings_failed),
			),
			(
				"flexbridge_reports_posted_total",
				"counter",
				"Delivery reports on chain.",
				get(&self.reports_posted),
			),
			(
				"flexbridge_reports_pending",
				"gauge",
				"Delivery reports not yet on chain.",
				g.reports_pending,
			),
			(
				"flexbridge_reports_expired",
				"gauge",
				"Delivery reports given up at the chain's deadline.",
				g.reports_expired,
			),
			(
				"flexbridge_reports_expired_total",
				"counter",
				"Delivery reports given up since start.",
				get(&self.reports_expired),
			),
			("flexbridge_chain_lag_blocks", "gauge", "Finalized blocks not yet processed.", lag),
			(
				"flexbridge_chain_catch_ups_total",
				"counter",
				"Catch-ups from the market's storage after falling behind.",
				get(&self.catch_ups),
			),
			(
				"flexbridge_tasks_running",
				"gauge",
				"Tasks of the bridge running now.",
				g.tasks_running,
			),
			(
				"flexbridge_tasks_failed_total",
				"counter",
				"Tasks that panicked, or services that stopped.",
				g.tasks_failed,
			),
			(
				"flexbridge_report_failures_total",
				"counter",
				"Report submissions that failed.",
				get(&self.report_failures),
			),
			(
				"flexbridge_dispatches_running",
				"gauge",
				"Dispatches in their window now.",
				g.dispatches_running,
			),
			(
				"flexbridge_last_block",
				"gauge",
				"Last finalized block processed.",
				get(&self.last_block),
			),
			(
				"flexbridge_webhooks_sent_total",
				"counter",
				"Webhook notifications delivered.",
				g.webhooks_sent,
			),
			(
				"flexbridge_webhooks_failed_total",
				"counter",
				"Webhook notifications given up.",
				g.webhooks_failed,
			),
			(
				"flexbridge_ocpp_connections",
				"gauge",
				"Connections open on the OCPP port, handshakes included.",
				g.ocpp_connections,
			),
			(
				"flexbridge_ocpp_messages_rate_limited_total",
				"counter",
				"OCPP messages held back by the per-connection rate limit.",
				get(&self.ocpp.rate_limited),
			),
			(
				"flexbridge_pruned_records_total",
				"counter",
				"Samples, anomalies and command records deleted after the retention period.",
				get(&self.pruned),
			),
		];
		let mut out = String::new();
		for (name, kind, help, value) in rows {
			out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
		}
		labelled(
			&mut out,
			"flexbridge_meter_anomalies_total",
			"Meter readings refused or cut, by kind.",
			"kind",
			&self.anomalies,
		);
		labelled(
			&mut out,
			"flexbridge_ocpp_connections_refused_total",
			"OCPP connections refused or dropped, by reason.",
			"reason",
			&self.ocpp.refusals,
		);
		out
	}
}

/// A counter with one series per value of `label`.
fn labelled<L: Label>(out: &mut String, name: &str, help: &str, label: &str, c: &Counters<L>) {
	out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
	for value in L::ALL {
		let (value, n) = (value.name(), c.get(*value));
		out.push_str(&format!("{name}{{{label}=\"{value}\"}} {n}\n"));
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{anomaly::AnomalyKind, ocpp::limits::Refusal};

	#[test]
	fn renders_prometheus_text() {
		let m = Metrics::default();
		Metrics::inc(&m.commands_sent);
		Metrics::inc(&m.commands_sent);
		m.anomalies.inc(AnomalyKind::FutureDated);
		m.ocpp.refused(Refusal::Unauthorized);
		m.ocpp.refused(Refusal::Unauthorized);
		let text = m.render(Gauges { devices_connected: 2, ..Default::default() });
		assert!(text.contains(
			"# TYPE flexbridge_commands_sent_total counter\nflexbridge_commands_sent_total 2\n"
		));
		assert!(text.contains("flexbridge_devices_connected 2\n"));
		assert!(text.contains("flexbridge_meter_anomalies_total{kind=\"future_dated\"} 1\n"));
		assert!(text.contains("flexbridge_meter_anomalies_total{kind=\"stale\"} 0\n"));
		assert!(
			text.contains("flexbridge_ocpp_connections_refused_total{reason=\"unauthorized\"} 2\n")
		);
		assert_eq!(
			text.lines().filter(|l| !l.starts_with('#')).count(),
			23 + AnomalyKind::ALL.len() + Refusal::ALL.len()
		);
	}
}
