//! Webhooks: each FSP hears about matches, purchases, dispatches and settlements of
//! its assets as an HTTP POST with a JSON body, retried with backoff. At most
//! [`MAX_IN_FLIGHT`] deliveries run at once; one beyond that is given up at once.

use crate::config::WebhookConfig;
use serde::Serialize;
use std::{
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
	time::Duration,
};
use tokio::sync::Semaphore;

/// Attempts per notification.
pub const ATTEMPTS: u32 = 5;
/// Deliveries (with their retries) running at once at most.
pub const MAX_IN_FLIGHT: usize = 256;

/// One notification.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
	/// `match`, `buy`, `dispatch` or `settlement`.
	pub event: &'static str,
	/// The FSP's account (SS58).
	pub fsp: String,
	/// The request.
	pub request: u64,
	/// The fill, when the event concerns one.
	pub fill: Option<u32>,
	/// The asset.
	pub asset: Option<u32>,
	/// Event details.
	pub details: serde_json::Value,
}

/// Counters of the webhook sender.
#[derive(Debug, Default)]
pub struct NotifyStats {
	/// Delivered notifications.
	pub sent: AtomicU64,
	/// Notifications given up after every attempt.
	pub failed: AtomicU64,
}

/// Sends notifications to the configured webhooks in the background.
#[derive(Clone)]
pub struct Notifier {
	hooks: Arc<Vec<WebhookConfig>>,
	client: reqwest::Client,
	/// Counters.
	pub stats: Arc<NotifyStats>,
	first_retry: Duration,
	in_flight: Arc<Semaphore>,
}

impl Notifier {
	/// A notifier for `hooks`; the first retry waits `first_retry`, then doubles.
	pub fn new(hooks: Vec<WebhookConfig>, first_retry: Duration) -> Self {
		let client =
			reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
		Self {
			hooks: Arc::new(hooks),
			client,
			stats: Default::default(),
			first_retry,
			in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
		}
	}

	/// The webhooks that want `n`.
	pub fn targets(&self, n: &Notification) -> Vec<String> {
		self.hooks
			.iter()
			.filter(|h| {
				h.fsp == n.fsp
					|| crate::chain::ss58::decode(&h.fsp)
						.is_some_and(|k| Some(k) == crate::chain::ss58::decode(&n.fsp))
			})
			.filter(|h| h.events.as_ref().is_none_or(|e| e.iter().any(|e| e == n.event)))
			.map(|h| h.url.clone())
			.collect()
	}

	/// Queues `n` for every webhook that wants it.
	pub fn send(&self, n: Notification) {
		for url in self.targets(&n) {
			let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
				self.stats.failed.fetch_add(1, Ordering::Relaxed);
				tracing::warn!(target: "notify", %url, event = n.event, "{MAX_IN_FLIGHT} webhook deliveries running: this one is given up");
				continue;
			};
			let me = self.clone();
			let n = n.clone();
			tokio::spawn(async move {
				me.deliver(&url, &n).await;
				drop(permit);
			});
		}
	}

	/// Posts `n` to `url`, retrying; returns whether it got through.
	pub async fn deliver(&self, url: &str, n: &Notification) -> bool {
		let mut wait = self.first_retry;
		for attempt in 1..=ATTEMPTS {
			match self.client.post(url).json(n).send().await {
				Ok(r) if r.status().is_success() => {
					self.stats.sent.fetch_add(1, Ordering::Relaxed);
					return true;
				},
				Ok(r) => {
					tracing::warn!(target: "notify", %url, attempt, status = %r.status(), "webhook refused")
				},
				Err(e) => tracing::warn!(target: "notify", %url, attempt, "webhook failed: {e}"),
			}
			if attempt < ATTEMPTS {
				tokio::time::sleep(wait).await;
				wait *= 2;
			}
		}
		self.stats.failed.fetch_add(1, Ordering::Relaxed);
		false
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn webhooks_match_the_fsp_under_any_ss58_prefix_and_their_events() {
		// Bob under prefix 42 in the config, under the chain's 7171 in events.
		let bob42 = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
		let key = crate::chain::ss58::decode(bob42).unwrap();
		let bob = crate::chain::ss58::encode(&key, 7171);
		let hooks = vec![
			WebhookConfig { fsp: bob42.into(), url: "http://a".into(), events: None },
			WebhookConfig {
				fsp: bob42.into(),
				url: "http://b".into(),
				events: Some(vec!["settlement".into()]),
			},
			WebhookConfig {
				fsp: "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y".into(),
				url: "http://c".into(),
				events: None,
			},
		];
		let n = Notifier::new(hooks, Duration::from_millis(1));
		let note = |event| Notification {
			event,
			fsp: bob.clone(),
			request: 0,
			fill: None,
			asset: None,
			details: serde_json::Value::Null,
		};
		assert_eq!(n.targets(&note("buy")), vec!["http://a"]);
		assert_eq!(n.targets(&note("settlement")), vec!["http://a", "http://b"]);
	}
}
