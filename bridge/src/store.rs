//! The bridge's durable state in an embedded database (redb): meter samples, delivery
//! reports, the command log, dispatches, anomalies and the chain cursor. Every write
//! is one committed transaction, so a bridge killed at any moment finds what it wrote.
//!
//! Views and metrics read bounded ranges or O(1) table lengths, never the whole store:
//! two index tables hold the reports not yet on chain and the dispatches running now.
//! Samples, anomalies and the command log older than the retention are pruned.

use crate::{
	anomaly::Anomaly,
	metering::{self, Backwards, Sample},
};
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::path::Path;

/// (asset, minute) → (export Wh, import Wh, power W, SoC ‰ or `u16::MAX`).
const SAMPLES: TableDefinition<(u32, u64), (u64, u64, i64, u16)> = TableDefinition::new("samples");
/// (request, fill) → report as JSON.
const REPORTS: TableDefinition<(u64, u32), &str> = TableDefinition::new("reports");
/// (request, fill) of the reports not yet on chain.
const PENDING_REPORTS: TableDefinition<(u64, u32), ()> = TableDefinition::new("pending_reports");
/// (request, fill) of the reports given up at their deadline.
const EXPIRED_REPORTS: TableDefinition<(u64, u32), ()> = TableDefinition::new("expired_reports");
/// asset → window end (market ms) of a release that did not reach the device yet.
const PENDING_RELEASES: TableDefinition<u32, u64> = TableDefinition::new("pending_releases");
/// (request, fill) → dispatch as JSON.
const DISPATCHES: TableDefinition<(u64, u32), &str> = TableDefinition::new("dispatches");
/// (request, fill) of the dispatches in their window now.
const RUNNING: TableDefinition<(u64, u32), ()> = TableDefinition::new("running_dispatches");
/// sequence → command record as JSON.
const COMMANDS: TableDefinition<u64, &str> = TableDefinition::new("commands");
/// (asset, minute, n) → anomaly as JSON.
const ANOMALIES: TableDefinition<(u32, u64, u32), &str> = TableDefinition::new("anomalies");
/// name → number (e.g. the last finalized block processed).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Anomalies kept per asset and minute; more are only counted.
pub const ANOMALIES_PER_MINUTE: u32 = 16;
/// Meta entry set once the index tables cover every record.
const INDEXED: &str = "indexed_v1";
/// Command records deleted per pruning transaction.
const PRUNE_BATCH: usize = 1_000;

/// A failure of the local store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	/// The database file cannot be opened.
	#[error("local store: {0}")]
	Database(#[from] redb::DatabaseError),
	/// A transaction cannot begin.
	#[error("local store: {0}")]
	Transaction(#[from] redb::TransactionError),
	/// A table cannot be opened.
	#[error("local store: {0}")]
	Table(#[from] redb::TableError),
	/// Reading or writing failed.
	#[error("local store: {0}")]
	Storage(#[from] redb::StorageError),
	/// A commit failed.
	#[error("local store: {0}")]
	Commit(#[from] redb::CommitError),
	/// A stored record does not decode (or a record does not encode).
	#[error("local store: record: {0}")]
	Json(#[from] serde_json::Error),
	/// The background writer went away before answering.
	#[error("local store: the writer stopped")]
	WriterGone,
	/// The store's directory cannot be made.
	#[error("local store: {path}: {error}")]
	Dir {
		/// The directory.
		path: std::path::PathBuf,
		/// Why.
		error: std::io::Error,
	},
}

/// Whether a delivery report reached the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
	/// Built and stored; not yet in a finalized block.
	Pending,
	/// In a finalized block (or the chain already had it).
	Posted,
	/// Given up: the chain's reporting deadline passed before it could be posted.
	Expired,
}

/// A delivery report for one fill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
	/// The request.
	pub request: u64,
	/// Fill index.
	pub fill: u32,
	/// The asset.
	pub asset: u32,
	/// Delivered energy, Wh (at most the fill's cap).
	pub delivered_wh: u64,
	/// Merkle root of the samples, hex.
	pub samples_root: String,
	/// Number of samples behind it.
	pub samples: u32,
	/// Where it stands.
	pub state: ReportState,
	/// Submission attempts so far.
	pub attempts: u32,
	/// What the samples showed when it was more than the cap, Wh.
	#[serde(default)]
	pub metered_wh: Option<u64>,
	/// Readings of the asset refused or cut during the window.
	#[serde(default)]
	pub anomalies: Vec<Anomaly>,
}

/// One command sent to a device and what came back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
	/// Market time, Unix ms.
	pub at_ms: u64,
	/// The asset.
	pub asset: u32,
	/// What was asked, e.g. `discharge 10000 W`.
	pub command: String,
	/// `ok` or the error.
	pub outcome: String,
	/// Why it was sent (window start, minimum state of charge, window end...).
	pub reason: String,
}

/// A dispatch record the store indexes.
pub trait DispatchRecord: Serialize {
	/// Whether the fill is in its window now (counted by [`Store::running_count`]).
	fn running(&self) -> bool;
}

/// What became of a sample offered to the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Put {
	/// Stored.
	Stored,
	/// The asset already had a sample for that minute: the first one stays.
	Duplicate,
	/// Refused: a register would run backwards.
	Backwards(Backwards),
}

/// What one pruning pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
	/// Meter samples.
	pub samples: u64,
	/// Command records.
	pub commands: u64,
	/// Anomalies.
	pub anomalies: u64,
}

impl Pruned {
	/// Records deleted in all.
	pub fn total(&self) -> u64 {
		self.samples + self.commands + self.anomalies
	}
}

fn encode(s: &Sample) -> (u64, u64, i64, u16) {
	(s.exported_wh, s.imported_wh, s.power_w, s.soc_permille.unwrap_or(u16::MAX))
}

fn decode(at_ms: u64, v: (u64, u64, i64, u16)) -> Sample {
	let (exported_wh, imported_wh, power_w, soc) = v;
	Sample {
		at_ms,
		exported_wh,
		imported_wh,
		power_w,
		soc_permille: (soc != u16::MAX).then_some(soc),
	}
}

/// The store.
pub struct Store {
	db: Database,
}

impl Store {
	/// Opens (or creates) the store at `path`.
	pub fn open(path: &Path) -> Result<Self, StoreError> {
		if let Some(dir) = path.parent() {
			std::fs::create_dir_all(dir)
				.map_err(|error| StoreError::Dir { path: dir.to_path_buf(), error })?;
		}
		let db = Database::create(path)?;
		let tx = db.begin_write()?;
		tx.open_table(SAMPLES)?;
		tx.open_table(REPORTS)?;
		tx.open_table(PENDING_REPORTS)?;
		tx.open_table(EXPIRED_REPORTS)?;
		tx.open_table(PENDING_RELEASES)?;
		tx.open_table(DISPATCHES)?;
		tx.open_table(RUNNING)?;
		tx.open_table(COMMANDS)?;
		tx.open_table(ANOMALIES)?;
		tx.open_table(META)?;
		tx.commit()?;
		let store = Self { db };
		store.index_reports()?;
		Ok(store)
	}

	/// Fills the index of pending reports once, for a store written before it existed.
	/// (Running dispatches index themselves when they resume.)
	fn index_reports(&self) -> Result<(), StoreError> {
		if self.meta(INDEXED)?.is_some() {
			return Ok(());
		}
		let tx = self.db.begin_write()?;
		{
			let reports = tx.open_table(REPORTS)?;
			let mut pending = tx.open_table(PENDING_REPORTS)?;
			for row in reports.iter()? {
				let (k, v) = row?;
				let r: Report = serde_json::from_str(v.value())?;
				if r.state == ReportState::Pending {
					pending.insert(k.value(), ())?;
				}
			}
			tx.open_table(META)?.insert(INDEXED, 1)?;
		}
		tx.commit()?;
		Ok(())
	}

	/// Stores a sample unless the asset has one for that minute already, or one of its
	/// registers would run backwards against the samples before and after it.
	pub fn put_sample(&self, asset: u32, s: &Sample) -> Result<Put, StoreError> {
		Ok(self.put_samples(&[(asset, *s)])?[0])
	}

	/// Stores samples in one transaction (one sync to disk), each as [`Self::put_sample`]
	/// would, in order.
	pub fn put_samples(&self, samples: &[(u32, Sample)]) -> Result<Vec<Put>, StoreError> {
		let tx = self.db.begin_write()?;
		let mut out = Vec::with_capacity(samples.len());
		{
			let mut t = tx.open_table(SAMPLES)?;
			for (asset, s) in samples {
				out.push(Self::put_in(&mut t, *asset, s)?);
			}
		}
		tx.commit()?;
		Ok(out)
	}

	fn put_in(
		t: &mut redb::Table<(u32, u64), (u64, u64, i64, u16)>,
		asset: u32,
		s: &Sample,
	) -> Result<Put, StoreError> {
		let key = (asset, s.at_ms);
		if t.get(key)?.is_some() {
			return Ok(Put::Duplicate);
		}
		let prev = match t.range((asset, 0)..key)?.next_back() {
			Some(row) => {
				let (k, v) = row?;
				Some(decode(k.value().1, v.value()))
			},
			None => None,
		};
		let next = match t.range((asset, s.at_ms.saturating_add(1))..=(asset, u64::MAX))?.next() {
			Some(row) => {
				let (k, v) = row?;
				Some(decode(k.value().1, v.value()))
			},
			None => None,
		};
		Ok(match metering::check_monotonic(prev.as_ref(), s, next.as_ref()) {
			Ok(()) => {
				t.insert(key, encode(s))?;
				Put::Stored
			},
			Err(b) => Put::Backwards(b),
		})
	}

	/// Samples of `asset` with `from_ms <= at_ms <= to_ms`, in time order.
	pub fn samples(&self, asset: u32, from_ms: u64, to_ms: u64) -> Result<Vec<Sample>, StoreError> {
		self.samples_limited(asset, from_ms, to_ms, usize::MAX)
	}

	/// The first `limit` samples of `asset` with `from_ms <= at_ms <= to_ms`, in time order.
	pub fn samples_limited(
		&self,
		asset: u32,
		from_ms: u64,
		to_ms: u64,
		limit: usize,
	) -> Result<Vec<Sample>, StoreError> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(SAMPLES)?;
		let mut out = Vec::new();
		if from_ms > to_ms {
			return Ok(out);
		}
		for row in t.range((asset, from_ms)..=(asset, to_ms))?.take(limit) {
			let (k, v) = row?;
			out.push(decode(k.value().1, v.value()));
		}
		Ok(out)
	}

	/// The latest sample of `asset`, if any.
	pub fn last_sample(&self, asset: u32) -> Result<Option<Sample>, StoreError> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(SAMPLES)?;
		let last = t.range((asset, 0)..=(asset, u64::MAX))?.next_back();
		Ok(match last {
			Some(row) => {
				let (k, v) = row?;
				Some(decode(k.value().1, v.value()))
			},
			None => None,
		})
	}

	/// Number of samples stored.
	pub fn sample_count(&self) -> Result<u64, StoreError> {
		Ok(self.db.begin_read()?.open_table(SAMPLES)?.len()?)
	}

	/// Keeps an anomaly (at most [`ANOMALIES_PER_MINUTE`] per asset and minute);
	/// returns whether it was kept.
	pub fn put_anomaly(&self, a: &Anomaly) -> Result<bool, StoreError> {
		let json = serde_json::to_string(a)?;
		let minute = metering::minute_of(a.at_ms);
		let tx = self.db.begin_write()?;
		let kept = {
			let mut t = tx.open_table(ANOMALIES)?;
			let n = match t.range((a.asset, minute, 0)..=(a.asset, minute, u32::MAX))?.next_back() {
				Some(row) => row?.0.value().2 + 1,
				None => 0,
			};
			if n < ANOMALIES_PER_MINUTE {
				t.insert((a.asset, minute, n), json.as_str())?;
			}
			n < ANOMALIES_PER_MINUTE
		};
		tx.commit()?;
		Ok(kept)
	}

	/// The first `limit` anomalies of `asset` in the minutes from `from_ms` to `to_ms`.
	pub fn anomalies(
		&self,
		asset: u32,
		from_ms: u64,
		to_ms: u64,
		limit: usize,
	) -> Result<Vec<Anomaly>, StoreError> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(ANOMALIES)?;
		let (from, to) = (metering::minute_of(from_ms), metering::minute_of(to_ms));
		let mut out = Vec::new();
		if from > to {
			return Ok(out);
		}
		for row in t.range((asset, from, 0)..=(asset, to, u32::MAX))?.take(limit) {
			out.push(serde_json::from_str(row?.1.value())?);
		}
		Ok(out)
	}

	fn get_json<T: DeserializeOwned>(
		&self,
		def: TableDefinition<(u64, u32), &str>,
		key: (u64, u32),
	) -> Result<Option<T>, StoreError> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(def)?;
		let v = t.get(key)?;
		Ok(match v {
			Some(v) => Some(serde_json::from_str(v.value())?),
			None => None,
		})
	}

	/// Writes a record and sets or clears its key in an index table, in one transaction.
	fn put_indexed<T: Serialize>(
		&self,
		def: TableDefinition<(u64, u32), &str>,
		index: TableDefinition<(u64, u32), ()>,
		key: (u64, u32),
		v: &T,
		indexed: bool,
	) -> Result<(), StoreError> {
		let json = serde_json::to_string(v)?;
		let tx = self.db.begin_write()?;
		{
			tx.open_table(def)?.insert(key, json.as_str())?;
			let mut index = tx.open_table(index)?;
			if indexed {
				index.insert(key, ())?;
			} else {
				index.remove(key)?;
			}
		}
		tx.commit()?;
		Ok(())
	}

	/// Every record of a table, or with `limit` the last ones (highest keys) first.
	fn all_json<T: DeserializeOwned>(
		&self,
		def: TableDefinition<(u64, u32), &str>,
		limit: Option<usize>,
	) -> Result<Vec<T>, StoreError> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(def)?;
		let mut out = Vec::new();
		match limit {
			None => {
				for row in t.iter()? {
					out.push(serde_json::from_str(row?.1.value())?);
				}
			},
			Some(n) => {
				for row in t.iter()?.rev().take(n) {
					out.push(serde_json::from_str(row?.1.value())?);
				}
			},
		}
		Ok(out)
	}

	fn len(&self, def: TableDefinition<(u64, u32), ()>) -> Result<u64, StoreError> {
		Ok(self.db.begin_read()?.open_table(def)?.len()?)
	}

	/// Stores `report` unless one exists for its fill, and returns the stored one: a
	/// report, once built, never changes, so a retry posts the same figures.
	pub fn report_once(&self, report: Report) -> Result<Report, StoreError> {
		let key = (report.request, report.fill);
		if let Some(existing) = self.get_json(REPORTS, key)? {
			return Ok(existing);
		}
		self.update_report(&report)?;
		Ok(report)
	}

	/// The report of a fill, if built.
	pub fn report(&self, request: u64, fill: u32) -> Result<Option<Report>, StoreError> {
		self.get_json(REPORTS, (request, fill))
	}

	/// Records a submission attempt, its success or its expiry.
	pub fn update_report(&self, report: &Report) -> Result<(), StoreError> {
		let key = (report.request, report.fill);
		let json = serde_json::to_string(report)?;
		let tx = self.db.begin_write()?;
		{
			tx.open_table(REPORTS)?.insert(key, json.as_str())?;
			for (index, on) in [
				(PENDING_REPORTS, report.state == ReportState::Pending),
				(EXPIRED_REPORTS, report.state == ReportState::Expired),
			] {
				let mut index = tx.open_table(index)?;
				if on {
					index.insert(key, ())?;
				} else {
					index.remove(key)?;
				}
			}
		}
		tx.commit()?;
		Ok(())
	}

	/// Number of reports given up at their deadline.
	pub fn expired_report_count(&self) -> Result<u64, StoreError> {
		self.len(EXPIRED_REPORTS)
	}

	/// Remembers that `asset` must still be released (its window ended at `end_ms`).
	pub fn set_pending_release(&self, asset: u32, end_ms: u64) -> Result<(), StoreError> {
		let tx = self.db.begin_write()?;
		tx.open_table(PENDING_RELEASES)?.insert(asset, end_ms)?;
		tx.commit()?;
		Ok(())
	}

	/// Forgets a pending release once the device took it.
	pub fn clear_pending_release(&self, asset: u32) -> Result<(), StoreError> {
		let tx = self.db.begin_write()?;
		tx.open_table(PENDING_RELEASES)?.remove(asset)?;
		tx.commit()?;
		Ok(())
	}

	/// The releases that did not reach their device yet: (asset, window end).
	pub fn pending_releases(&self) -> Result<Vec<(u32, u64)>, StoreError> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(PENDING_RELEASES)?;
		let mut out = Vec::new();
		for row in t.iter()? {
			let (k, v) = row?;
			out.push((k.value(), v.value()));
		}
		Ok(out)
	}

	/// All reports.
	pub fn reports(&self) -> Result<Vec<Report>, StoreError> {
		self.all_json(REPORTS, None)
	}

	/// The `limit` reports of the latest requests, latest first.
	pub fn recent_reports(&self, limit: usize) -> Result<Vec<Report>, StoreError> {
		self.all_json(REPORTS, Some(limit))
	}

	/// Number of reports not yet on chain.
	pub fn pending_report_count(&self) -> Result<u64, StoreError> {
		self.len(PENDING_REPORTS)
	}

	/// Stores a dispatch (keyed by request and fill) and indexes it while it runs.
	pub fn put_dispatch<T: DispatchRecord>(
		&self,
		request: u64,
		fill: u32,
		d: &T,
	) -> Result<(), StoreError> {
		self.put_indexed(DISPATCHES, RUNNING, (request, fill), d, d.running())
	}

	/// One dispatch.
	pub fn dispatch<T: DeserializeOwned>(
		&self,
		request: u64,
		fill: u32,
	) -> Result<Option<T>, StoreError> {
		self.get_json(DISPATCHES, (request, fill))
	}

	/// All dispatches.
	pub fn dispatches<T: DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
		self.all_json(DISPATCHES, None)
	}

	/// The `limit` dispatches of the latest requests, latest first.
	pub fn recent_dispatches<T: DeserializeOwned>(
		&self,
		limit: usize,
	) -> Result<Vec<T>, StoreError> {
		self.all_json(DISPATCHES, Some(limit))
	}

	/// Number of dispatches in their window now.
	pub fn running_count(&self) -> Result<u64, StoreError> {
		self.len(RUNNING)
	}

	/// Appends to the command log; returns the record's sequence number.
	pub fn log_command(&self, rec: &CommandRecord) -> Result<u64, StoreError> {
		let json = serde_json::to_string(rec)?;
		let tx = self.db.begin_write()?;
		let seq = {
			let mut t = tx.open_table(COMMANDS)?;
			let seq = t.last()?.map(|(k, _)| k.value() + 1).unwrap_or(0);
			t.insert(seq, json.as_str())?;
			seq
		};
		tx.commit()?;
		Ok(seq)
	}

	/// The last `limit` commands, oldest first.
	pub fn commands(&self, limit: usize) -> Result<Vec<CommandRecord>, StoreError> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(COMMANDS)?;
		let mut out = Vec::new();
		for row in t.iter()?.rev().take(limit) {
			out.push(serde_json::from_str(row?.1.value())?);
		}
		out.reverse();
		Ok(out)
	}

	/// Deletes samples and anomalies of minutes before `before_ms` and commands
	/// logged before it (market time).
	pub fn prune(&self, before_ms: u64) -> Result<Pruned, StoreError> {
		Ok(Pruned {
			samples: self.prune_samples(before_ms)?,
			anomalies: self.prune_anomalies(before_ms)?,
			commands: self.prune_commands(before_ms)?,
		})
	}

	/// The first asset at or after `from` with a key in `def`.
	fn next_asset<V: redb::Value + 'static>(
		t: &impl ReadableTable<(u32, u64), V>,
		from: u32,
	) -> Result<Option<u32>, StoreError> {
		Ok(match t.range((from, 0)..)?.next() {
			Some(row) => Some(row?.0.value().0),
			None => None,
		})
	}

	fn prune_samples(&self, before_ms: u64) -> Result<u64, StoreError> {
		let tx = self.db.begin_write()?;
		let deleted = {
			let mut t = tx.open_table(SAMPLES)?;
			let before = t.len()?;
			let mut asset = Self::next_asset(&t, 0)?;
			while let Some(a) = asset {
				t.retain_in((a, 0)..(a, before_ms), |_, _| false)?;
				asset = match a.checked_add(1) {
					Some(n) => Self::next_asset(&t, n)?,
					None => None,
				};
			}
			before - t.len()?
		};
		tx.commit()?;
		Ok(deleted)
	}

	fn prune_anomalies(&self, before_ms: u64) -> Result<u64, StoreError> {
		let tx = self.db.begin_write()?;
		let deleted = {
			let mut t = tx.open_table(ANOMALIES)?;
			let before = t.len()?;
			let mut asset = t.first()?.map(|(k, _)| k.value().0);
			while let Some(a) = asset {
				t.retain_in((a, 0, 0)..(a, before_ms, 0), |_, _| false)?;
				asset = match a.checked_add(1) {
					Some(n) => match t.range((n, 0, 0)..)?.next() {
						Some(row) => Some(row?.0.value().0),
						None => None,
					},
					None => None,
				};
			}
			before - t.len()?
		};
		tx.commit()?;
		Ok(deleted)
	}

	fn prune_commands(&self, before_ms: u64) -> Result<u64, StoreError> {
		let mut deleted = 0;
		loop {
			let tx = self.db.begin_write()?;
			let batch = {
				let mut t = tx.open_table(COMMANDS)?;
				let mut old = Vec::new();
				for row in t.iter()?.take(PRUNE_BATCH) {
					let (k, v) = row?;
					let rec: CommandRecord = serde_json::from_str(v.value())?;
					if rec.at_ms >= before_ms {
						break;
					}
					old.push(k.value());
				}
				for k in &old {
					t.remove(k)?;
				}
				old.len()
			};
			tx.commit()?;
			deleted += batch as u64;
			if batch < PRUNE_BATCH {
				return Ok(deleted);
			}
		}
	}

	/// A named number.
	pub fn meta(&self, name: &str) -> Result<Option<u64>, StoreError> {
		Ok(self.db.begin_read()?.open_table(META)?.get(name)?.map(|v| v.value()))
	}

	/// Sets a named number.
	pub fn set_meta(&self, name: &str, value: u64) -> Result<(), StoreError> {
		let tx = self.db.begin_write()?;
		tx.open_table(META)?.insert(name, value)?;
		tx.commit()?;
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		anomaly::AnomalyKind,
		metering::{Register, MINUTE_MS},
	};

	fn sample(minute: u64, wh: u64) -> Sample {
		Sample {
			at_ms: minute * MINUTE_MS,
			exported_wh: wh,
			imported_wh: 0,
			power_w: 10_000,
			soc_permille: Some(500),
		}
	}

	fn report(request: u64, state: ReportState) -> Report {
		Report {
			request,
			fill: 0,
			asset: 1,
			delivered_wh: 7_210,
			samples_root: "00".into(),
			samples: 46,
			state,
			attempts: 0,
			metered_wh: None,
			anomalies: Vec::new(),
		}
	}

	#[test]
	fn samples_once_per_minute_survive_reopening() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("bridge.redb");
		{
			let store = Store::open(&path).unwrap();
			assert_eq!(store.put_sample(1, &sample(1, 100)).unwrap(), Put::Stored);
			assert_eq!(store.put_sample(1, &sample(1, 999)).unwrap(), Put::Duplicate);
			assert_eq!(store.put_sample(1, &sample(2, 266)).unwrap(), Put::Stored);
			assert_eq!(store.put_sample(2, &sample(1, 5)).unwrap(), Put::Stored);
			store.set_meta("last_block", 42).unwrap();
		}
		let store = Store::open(&path).unwrap();
		let s = store.samples(1, 0, 10 * MINUTE_MS).unwrap();
		assert_eq!(s, vec![sample(1, 100), sample(2, 266)]);
		assert_eq!(store.samples(2, 0, u64::MAX).unwrap().len(), 1);
		assert_eq!(store.samples_limited(1, 0, u64::MAX, 1).unwrap(), vec![sample(1, 100)]);
		assert_eq!(store.last_sample(1).unwrap(), Some(sample(2, 266)));
		assert_eq!(store.last_sample(3).unwrap(), None);
		assert_eq!(store.sample_count().unwrap(), 3);
		assert_eq!(store.meta("last_block").unwrap(), Some(42));
		assert_eq!(store.meta("other").unwrap(), None);
	}

	#[test]
	fn a_register_running_backwards_is_refused_either_side() {
		let dir = tempfile::tempdir().unwrap();
		let store = Store::open(&dir.path().join("b.redb")).unwrap();
		store.put_sample(1, &sample(1, 100)).unwrap();
		store.put_sample(1, &sample(5, 500)).unwrap();
		// Lower than minute 1, or higher than minute 5, in between: refused.
		let Put::Backwards(b) = store.put_sample(1, &sample(2, 99)).unwrap() else { panic!() };
		assert_eq!((b.register, b.neighbour_ms, b.wh), (Register::Export, MINUTE_MS, 99));
		let Put::Backwards(b) = store.put_sample(1, &sample(3, 501)).unwrap() else { panic!() };
		assert_eq!(b.neighbour_ms, 5 * MINUTE_MS);
		assert_eq!(store.put_sample(1, &sample(3, 300)).unwrap(), Put::Stored);
		assert_eq!(
			store.put_sample(1, &sample(6, 499)).unwrap(),
			Put::Backwards(Backwards {
				register: Register::Export,
				neighbour_ms: 5 * MINUTE_MS,
				neighbour_wh: 500,
				wh: 499
			})
		);
		// Another asset's registers are its own.
		assert_eq!(store.put_sample(2, &sample(6, 1)).unwrap(), Put::Stored);
		assert_eq!(store.sample_count().unwrap(), 4);
	}

	#[test]
	fn a_report_is_built_once_and_commands_are_logged_in_order() {
		let dir = tempfile::tempdir().unwrap();
		let store = Store::open(&dir.path().join("b.redb")).unwrap();
		let r = report(1, ReportState::Pending);
		assert_eq!(store.report_once(r.clone()).unwrap(), r);
		let other = Report { delivered_wh: 1, ..r.clone() };
		assert_eq!(store.report_once(other).unwrap(), r);
		assert_eq!(store.pending_report_count().unwrap(), 1);
		store
			.update_report(&Report { state: ReportState::Posted, attempts: 1, ..r.clone() })
			.unwrap();
		assert_eq!(store.report(1, 0).unwrap().unwrap().state, ReportState::Posted);
		assert_eq!(store.pending_report_count().unwrap(), 0);
		for i in 0..3 {
			let rec = CommandRecord {
				at_ms: i,
				asset: 1,
				command: format!("c{i}"),
				outcome: "ok".into(),
				reason: "test".into(),
			};
			assert_eq!(store.log_command(&rec).unwrap(), i);
		}
		let last: Vec<String> = store.commands(2).unwrap().into_iter().map(|c| c.command).collect();
		assert_eq!(last, vec!["c1", "c2"]);
	}

	#[derive(Serialize, Deserialize)]
	struct D(u64, bool);

	impl DispatchRecord for D {
		fn running(&self) -> bool {
			self.1
		}
	}

	#[test]
	fn gauges_come_from_indexes_and_views_are_bounded() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("b.redb");
		{
			let store = Store::open(&path).unwrap();
			for request in 0..10 {
				store.put_dispatch(request, 0, &D(request, request % 3 == 0)).unwrap();
				let state = if request < 7 { ReportState::Posted } else { ReportState::Pending };
				store.report_once(report(request, state)).unwrap();
			}
			store.put_dispatch(0, 0, &D(0, false)).unwrap();
			assert_eq!(store.running_count().unwrap(), 3, "3, 6 and 9");
			assert_eq!(store.pending_report_count().unwrap(), 3);
			let recent: Vec<D> = store.recent_dispatches(2).unwrap();
			assert_eq!(recent.iter().map(|d| d.0).collect::<Vec<_>>(), vec![9, 8]);
			assert_eq!(store.recent_reports(1).unwrap()[0].request, 9);
		}
		// A store from before the indexes gets its pending reports indexed at open.
		{
			let db = Database::create(&path).unwrap();
			let tx = db.begin_write().unwrap();
			tx.delete_table(PENDING_REPORTS).unwrap();
			tx.open_table(META).unwrap().remove(INDEXED).unwrap();
			tx.commit().unwrap();
		}
		let store = Store::open(&path).unwrap();
		assert_eq!(store.pending_report_count().unwrap(), 3);
	}

	#[test]
	fn pruning_drops_what_is_older_than_the_cutoff_and_nothing_else() {
		let dir = tempfile::tempdir().unwrap();
		let store = Store::open(&dir.path().join("b.redb")).unwrap();
		for asset in [1, 7, u32::MAX] {
			for m in 0..10 {
				store.put_sample(asset, &sample(m, m * 10)).unwrap();
			}
			for m in [2, 8] {
				let a = Anomaly {
					kind: AnomalyKind::Stale,
					asset,
					at_ms: m * MINUTE_MS + 5,
					detail: String::new(),
				};
				assert!(store.put_anomaly(&a).unwrap());
			}
		}
		for i in 0..2_500u64 {
			let rec = CommandRecord {
				at_ms: i,
				asset: 1,
				command: String::new(),
				outcome: "ok".into(),
				reason: String::new(),
			};
			store.log_command(&rec).unwrap();
		}
		let pruned = store.prune(5 * MINUTE_MS).unwrap();
		assert_eq!(pruned, Pruned { samples: 15, commands: 2_500, anomalies: 3 });
		for asset in [1, 7, u32::MAX] {
			let left = store.samples(asset, 0, u64::MAX).unwrap();
			assert_eq!(left.first().unwrap().at_ms, 5 * MINUTE_MS);
			assert_eq!(left.len(), 5);
			assert_eq!(store.anomalies(asset, 0, u64::MAX, 10).unwrap().len(), 1);
		}
		assert!(store.commands(10).unwrap().is_empty());
		assert_eq!(store.prune(5 * MINUTE_MS).unwrap().total(), 0);
	}

	#[test]
	fn anomalies_are_kept_up_to_a_bound_per_minute() {
		let dir = tempfile::tempdir().unwrap();
		let store = Store::open(&dir.path().join("b.redb")).unwrap();
		let a = |at_ms| Anomaly {
			kind: AnomalyKind::WrongConnector,
			asset: 4,
			at_ms,
			detail: "connector 2".into(),
		};
		for i in 0..ANOMALIES_PER_MINUTE as u64 {
			assert!(store.put_anomaly(&a(MINUTE_MS + i)).unwrap());
		}
		assert!(!store.put_anomaly(&a(MINUTE_MS + 59_000)).unwrap());
		assert!(store.put_anomaly(&a(2 * MINUTE_MS)).unwrap());
		let got = store.anomalies(4, MINUTE_MS, 2 * MINUTE_MS, 100).unwrap();
		assert_eq!(got.len(), ANOMALIES_PER_MINUTE as usize + 1);
		assert_eq!(got[0], a(MINUTE_MS));
		assert_eq!(store.anomalies(4, 0, 0, 100).unwrap(), Vec::new());
		assert_eq!(store.anomalies(4, MINUTE_MS, 2 * MINUTE_MS, 3).unwrap().len(), 3);
	}
}
