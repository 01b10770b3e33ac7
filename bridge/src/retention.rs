//! Retention: samples, anomalies and command records older than the configured period
//! (market time) leave the store, so it stays bounded however long the bridge runs.

use crate::{
	clock::Clock,
	metrics::Metrics,
	store::{Pruned, Store, StoreError},
};
use std::{
	sync::{atomic::Ordering, Arc},
	time::Duration,
};

/// Real time between pruning passes.
pub const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Deletes what is older than `retention` before the market time now.
pub fn prune_once(
	store: &Store,
	clock: &Clock,
	retention: Duration,
	metrics: &Metrics,
) -> Result<Pruned, StoreError> {
	let cutoff = clock.now_ms().saturating_sub(retention.as_millis() as u64);
	let pruned = store.prune(cutoff)?;
	metrics.pruned.fetch_add(pruned.total(), Ordering::Relaxed);
	if pruned.total() > 0 {
		tracing::info!(target: "store", samples = pruned.samples, anomalies = pruned.anomalies, commands = pruned.commands, "pruned records older than {cutoff} ms");
	}
	Ok(pruned)
}

/// Prunes at start and every [`PRUNE_EVERY`], off the async workers.
pub async fn prune_forever(
	store: Arc<Store>,
	clock: Clock,
	retention: Duration,
	metrics: Arc<Metrics>,
) {
	loop {
		let (s, m) = (store.clone(), metrics.clone());
		match tokio::task::spawn_blocking(move || prune_once(&s, &clock, retention, &m)).await {
			Ok(Ok(_)) => {},
			Ok(Err(e)) => tracing::error!(target: "store", "pruning failed: {e}"),
			Err(e) => tracing::error!(target: "store", "pruning stopped: {e}"),
		}
		tokio::time::sleep(PRUNE_EVERY).await;
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::metering::Sample;

	#[test]
	fn a_pass_keeps_the_retention_and_counts_what_it_deleted() {
		let dir = tempfile::tempdir().unwrap();
		let store = Store::open(&dir.path().join("b.redb")).unwrap();
		let day = 86_400_000;
		let now = 40 * day;
		for d in [1, 9, 11, 12, 39] {
			let s = Sample {
				at_ms: d * day,
				exported_wh: d,
				imported_wh: 0,
				power_w: 0,
				soc_permille: None,
			};
			store.put_sample(1, &s).unwrap();
		}
		let clock = Clock::anchored(Clock::real_now_ms(), now, 1.0);
		let metrics = Metrics::default();
		let pruned =
			prune_once(&store, &clock, Duration::from_secs(30 * 86_400), &metrics).unwrap();
		assert_eq!(pruned.samples, 2, "days 1 and 9 are older than 30 days");
		let left: Vec<u64> =
			store.samples(1, 0, u64::MAX).unwrap().iter().map(|s| s.at_ms / day).collect();
		assert_eq!(left, vec![11, 12, 39]);
		assert_eq!(metrics.pruned.load(Ordering::Relaxed), 2);
	}
}
