//! The bridge's durable state in an embedded database (redb): meter samples, delivery
//! reports, the command log, dispatches and the chain cursor. Every write is one
//! committed transaction, so a bridge killed at any moment finds what it wrote.

use crate::metering::Sample;
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::path::Path;

/// (asset, minute) → (export Wh, import Wh, power W, SoC ‰ or `u16::MAX`).
const SAMPLES: TableDefinition<(u32, u64), (u64, u64, i64, u16)> = TableDefinition::new("samples");
/// (request, fill) → report as JSON.
const REPORTS: TableDefinition<(u64, u32), &str> = TableDefinition::new("reports");
/// (request, fill) → dispatch as JSON.
const DISPATCHES: TableDefinition<(u64, u32), &str> = TableDefinition::new("dispatches");
/// sequence → command record as JSON.
const COMMANDS: TableDefinition<u64, &str> = TableDefinition::new("commands");
/// name → number (e.g. the last finalized block processed).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// A failure of the local store.
#[derive(Debug, thiserror::Error)]
#[error("local store: {0}")]
pub struct StoreError(String);

macro_rules! from_err {
	($($t:ty),*) => {$(impl From<$t> for StoreError { fn from(e: $t) -> Self { StoreError(e.to_string()) } })*};
}
from_err!(
	redb::DatabaseError,
	redb::TransactionError,
	redb::TableError,
	redb::StorageError,
	redb::CommitError,
	serde_json::Error
);

/// Whether a delivery report reached the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
	/// Built and stored; not yet in a finalized block.
	Pending,
	/// In a finalized block (or the chain already had it).
	Posted,
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
	/// Delivered energy, Wh.
	pub delivered_wh: u64,
	/// Merkle root of the samples, hex.
	pub samples_root: String,
	/// Number of samples behind it.
	pub samples: u32,
	/// Where it stands.
	pub state: ReportState,
	/// Submission attempts so far.
	pub attempts: u32,
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

/// The store.
pub struct Store {
	db: Database,
}

impl Store {
	/// Opens (or creates) the store at `path`.
	pub fn open(path: &Path) -> Result<Self, StoreError> {
		if let Some(dir) = path.parent() {
			std::fs::create_dir_all(dir)
				.map_err(|e| StoreError(format!("{}: {e}", dir.display())))?;
		}
		let db = Database::create(path)?;
		let tx = db.begin_write()?;
		tx.open_table(SAMPLES)?;
		tx.open_table(REPORTS)?;
		tx.open_table(DISPATCHES)?;
		tx.open_table(COMMANDS)?;
		tx.open_table(META)?;
		tx.commit()?;
		Ok(Self { db })
	}

	/// Stores a sample unless one is already there for that asset and minute.
	/// Returns whether it was new.
	pub fn put_sample(&self, asset: u32, s: &Sample) -> Result<bool, StoreError> {
		let tx = self.db.begin_write()?;
		let new = {
			let mut t = tx.open_table(SAMPLES)?;
			let key = (asset, s.at_ms);
			if t.get(key)?.is_some() {
				false
			} else {
				t.insert(
					key,
					(s.exported_wh, s.imported_wh, s.power_w, s.soc_permille.unwrap_or(u16::MAX)),
				)?;
				true
			}
		};
		tx.commit()?;
		Ok(new)
	}

	/// Samples of `asset` with `from_ms <= at_ms <= to_ms`, in time order.
	pub fn samples(&self, asset: u32, from_ms: u64, to_ms: u64) -> Result<Vec<Sample>, StoreError> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(SAMPLES)?;
		let mut out = Vec::new();
		for row in t.range((asset, from_ms)..=(asset, to_ms))? {
			let (k, v) = row?;
			let (exported_wh, imported_wh, power_w, soc) = v.value();
			out.push(Sample {
				at_ms: k.value().1,
				exported_wh,
				imported_wh,
				power_w,
				soc_permille: (soc != u16::MAX).then_some(soc),
			});
		}
		Ok(out)
	}

	/// Number of samples stored.
	pub fn sample_count(&self) -> Result<u64, StoreError> {
		Ok(self.db.begin_read()?.open_table(SAMPLES)?.len()?)
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

	fn put_json<T: Serialize>(
		&self,
		def: TableDefinition<(u64, u32), &str>,
		key: (u64, u32),
		v: &T,
	) -> Result<(), StoreError> {
		let json = serde_json::to_string(v)?;
		let tx = self.db.begin_write()?;
		tx.open_table(def)?.insert(key, json.as_str())?;
		tx.commit()?;
		Ok(())
	}

	fn all_json<T: DeserializeOwned>(
		&self,
		def: TableDefinition<(u64, u32), &str>,
	) -> Result<Vec<T>, StoreError> {
		let tx = self.db.begin_read()?;
		let t = tx.open_table(def)?;
		let mut out = Vec::new();
		for row in t.iter()? {
			out.push(serde_json::from_str(row?.1.value())?);
		}
		Ok(out)
	}

	/// Stores `report` unless one exists for its fill, and returns the stored one: a
	/// report, once built, never changes, so a retry posts the same figures.
	pub fn report_once(&self, report: Report) -> Result<Report, StoreError> {
		let key = (report.request, report.fill);
		if let Some(existing) = self.get_json(REPORTS, key)? {
			return Ok(existing);
		}
		self.put_json(REPORTS, key, &report)?;
		Ok(report)
	}

	/// The report of a fill, if built.
	pub fn report(&self, request: u64, fill: u32) -> Result<Option<Report>, StoreError> {
		self.get_json(REPORTS, (request, fill))
	}

	/// Records a submission attempt or its success.
	pub fn update_report(&self, report: &Report) -> Result<(), StoreError> {
		self.put_json(REPORTS, (report.request, report.fill), report)
	}

	/// All reports.
	pub fn reports(&self) -> Result<Vec<Report>, StoreError> {
		self.all_json(REPORTS)
	}

	/// Stores a dispatch (any serializable record keyed by request and fill).
	pub fn put_dispatch<T: Serialize>(
		&self,
		request: u64,
		fill: u32,
		d: &T,
	) -> Result<(), StoreError> {
		self.put_json(DISPATCHES, (request, fill), d)
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
		self.all_json(DISPATCHES)
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

	fn sample(minute: u64, wh: u64) -> Sample {
		Sample {
			at_ms: minute * 60_000,
			exported_wh: wh,
			imported_wh: 0,
			power_w: 10_000,
			soc_permille: Some(500),
		}
	}

	#[test]
	fn samples_once_per_minute_survive_reopening() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("bridge.redb");
		{
			let store = Store::open(&path).unwrap();
			assert!(store.put_sample(1, &sample(1, 100)).unwrap());
			assert!(!store.put_sample(1, &sample(1, 999)).unwrap());
			assert!(store.put_sample(1, &sample(2, 266)).unwrap());
			assert!(store.put_sample(2, &sample(1, 5)).unwrap());
			store.set_meta("last_block", 42).unwrap();
		}
		let store = Store::open(&path).unwrap();
		let s = store.samples(1, 0, 10 * 60_000).unwrap();
		assert_eq!(s, vec![sample(1, 100), sample(2, 266)]);
		assert_eq!(store.samples(2, 0, u64::MAX).unwrap().len(), 1);
		assert_eq!(store.sample_count().unwrap(), 3);
		assert_eq!(store.meta("last_block").unwrap(), Some(42));
		assert_eq!(store.meta("other").unwrap(), None);
	}

	#[test]
	fn a_report_is_built_once_and_commands_are_logged_in_order() {
		let dir = tempfile::tempdir().unwrap();
		let store = Store::open(&dir.path().join("b.redb")).unwrap();
		let r = Report {
			request: 1,
			fill: 0,
			asset: 1,
			delivered_wh: 7_210,
			samples_root: "00".into(),
			samples: 46,
			state: ReportState::Pending,
			attempts: 0,
		};
		assert_eq!(store.report_once(r.clone()).unwrap(), r);
		let other = Report { delivered_wh: 1, ..r.clone() };
		assert_eq!(store.report_once(other).unwrap(), r);
		store
			.update_report(&Report { state: ReportState::Posted, attempts: 1, ..r.clone() })
			.unwrap();
		assert_eq!(store.report(1, 0).unwrap().unwrap().state, ReportState::Posted);
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
}
