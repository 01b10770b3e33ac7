//! Meter readings the bridge refused or cut, and why.
//!
//! A device, or whoever controls it, may try to claim energy it did not deliver. The
//! bridge keeps what it can prove: readings stamped with its own clock, registers that
//! never run backwards, the configured connector only, and no fill above its contract
//! plus a small tolerance. Whatever it refused or cut is an [`Anomaly`]: counted by
//! kind in `/metrics` and kept in the store beside the samples, so a fill's report
//! lists those of its window.

use crate::metrics::{Counters, Label};
use serde::{Deserialize, Serialize};

/// What was wrong with a reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
	/// The device dated the reading ahead of the bridge's clock by more than the
	/// tolerance: refused.
	FutureDated,
	/// The device dated the reading behind the bridge's clock by more than the
	/// tolerance (queued or replayed): refused, since the bridge cannot place it.
	Stale,
	/// An energy register below an earlier reading's (or above a later one's): refused.
	RegisterBackwards,
	/// A reading for a connector other than the configured one: refused.
	WrongConnector,
	/// A fill metered more than contracted power × window × (1 + tolerance): cut to that.
	OverReported,
}

impl Label for AnomalyKind {
	/// Every kind, in the order `/metrics` lists them.
	const ALL: &'static [Self] = &[
		AnomalyKind::FutureDated,
		AnomalyKind::Stale,
		AnomalyKind::RegisterBackwards,
		AnomalyKind::WrongConnector,
		AnomalyKind::OverReported,
	];

	/// The kind's name, as in JSON and in the `kind` label of `/metrics`.
	fn name(self) -> &'static str {
		match self {
			AnomalyKind::FutureDated => "future_dated",
			AnomalyKind::Stale => "stale",
			AnomalyKind::RegisterBackwards => "register_backwards",
			AnomalyKind::WrongConnector => "wrong_connector",
			AnomalyKind::OverReported => "over_reported",
		}
	}
}

/// One refused or cut reading of an asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
	/// What was wrong.
	pub kind: AnomalyKind,
	/// The asset.
	pub asset: u32,
	/// When the bridge saw it, market time (Unix ms).
	pub at_ms: u64,
	/// The figures involved, for a person to read.
	pub detail: String,
}

/// Anomalies counted by kind since the bridge started.
pub type AnomalyCounters = Counters<AnomalyKind>;

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn names_match_the_json_and_counters_count_by_kind() {
		for k in AnomalyKind::ALL {
			assert_eq!(serde_json::to_value(k).unwrap(), k.name());
		}
		let c = AnomalyCounters::default();
		c.inc(AnomalyKind::Stale);
		c.inc(AnomalyKind::Stale);
		c.inc(AnomalyKind::OverReported);
		assert_eq!(c.get(AnomalyKind::Stale), 2);
		assert_eq!(c.get(AnomalyKind::OverReported), 1);
		assert_eq!(c.get(AnomalyKind::FutureDated), 0);
	}
}
