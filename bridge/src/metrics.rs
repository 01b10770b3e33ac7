//! Counters the bridge exposes in Prometheus text format.

use std::sync::atomic::{AtomicU64, Ordering};

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
	/// Last finalized block processed.
	pub last_block: AtomicU64,
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
	/// Dispatches running now.
	pub dispatches_running: u64,
	/// Webhook deliveries.
	pub webhooks_sent: u64,
	/// Webhook deliveries given up.
	pub webhooks_failed: u64,
}

impl Metrics {
	/// Adds one to a counter.
	pub fn inc(c: &AtomicU64) {
		c.fetch_add(1, Ordering::Relaxed);
	}

	/// Prometheus text exposition.
	pub fn render(&self, g: Gauges) -> String {
		let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
		let rows: [(&str, &str, &str, u64); 14] = [
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
		];
		let mut out = String::new();
		for (name, kind, help, value) in rows {
			out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
		}
		out
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn renders_prometheus_text() {
		let m = Metrics::default();
		Metrics::inc(&m.commands_sent);
		Metrics::inc(&m.commands_sent);
		let text = m.render(Gauges { devices_connected: 2, ..Default::default() });
		assert!(text.contains(
			"# TYPE flexbridge_commands_sent_total counter\nflexbridge_commands_sent_total 2\n"
		));
		assert!(text.contains("flexbridge_devices_connected 2\n"));
		assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 14);
	}
}
