//! A chain in memory in place of the real one, for the tests of dispatch, metering and
//! reporting (the real chain is in `chain_e2e.rs`).

use flex_bridge::{
	chain::{ChainError, ReportOutcome},
	clock::Clock,
	dispatch::Ledger,
};
use futures::future::BoxFuture;
use std::{collections::BTreeMap, sync::Mutex};

/// A ledger in memory, as the chain takes reports: the first report of each fill is
/// kept, a repeat is `AlreadyReported`. Every call is counted. It can fail as an
/// unreachable node does: the first `fail_first` calls, and every call until
/// `down_until`.
#[derive(Default)]
pub struct MemLedger {
	/// The reports kept: (request, fill) → (delivered Wh, samples root).
	pub reports: Mutex<BTreeMap<(u32, u32), (u64, [u8; 32])>>,
	/// Every call, failed or not.
	pub calls: Mutex<u32>,
	/// How many of the next calls fail.
	pub fail_first: Mutex<u32>,
	/// The market clock and the time on it until which every call fails.
	pub down_until: Option<(Clock, u64)>,
}

impl MemLedger {
	/// One whose first `n` calls fail.
	pub fn failing_first(n: u32) -> Self {
		Self { fail_first: Mutex::new(n), ..Default::default() }
	}

	/// One that fails every call until `until_ms` on `clock`.
	pub fn down_until(clock: Clock, until_ms: u64) -> Self {
		Self { down_until: Some((clock, until_ms)), ..Default::default() }
	}

	/// Calls so far.
	pub fn calls(&self) -> u32 {
		*self.calls.lock().unwrap()
	}

	/// The delivered energy of the report kept for `(request, fill)`, Wh.
	pub fn delivered(&self, request: u32, fill: u32) -> Option<u64> {
		self.reports.lock().unwrap().get(&(request, fill)).map(|(wh, _)| *wh)
	}

	/// Reports kept.
	pub fn report_count(&self) -> usize {
		self.reports.lock().unwrap().len()
	}

	fn is_down(&self) -> bool {
		if let Some((clock, until_ms)) = self.down_until {
			if clock.now_ms() < until_ms {
				return true;
			}
		}
		let mut fail = self.fail_first.lock().unwrap();
		if *fail > 0 {
			*fail -= 1;
			return true;
		}
		false
	}
}

impl Ledger for MemLedger {
	fn report(
		&self,
		request: u32,
		fill: u32,
		wh: u64,
		root: [u8; 32],
	) -> BoxFuture<'_, Result<ReportOutcome, ChainError>> {
		Box::pin(async move {
			*self.calls.lock().unwrap() += 1;
			if self.is_down() {
				return Err(ChainError::Node("connection refused".into()));
			}
			let mut reports = self.reports.lock().unwrap();
			if reports.contains_key(&(request, fill)) {
				return Ok(ReportOutcome::AlreadyReported);
			}
			reports.insert((request, fill), (wh, root));
			Ok(ReportOutcome::Posted)
		})
	}
}
