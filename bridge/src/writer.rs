//! Store writes off the async executor.
//!
//! Every meter reading is a redb transaction with a sync to disk. Run on an async
//! worker, a thousand of them a minute stall every other task. [`SampleWriter`]
//! commits them in groups on the blocking pool: the first writer that finds no commit
//! under way starts one on a blocking thread, which takes everything queued meanwhile
//! into one transaction, and so on until the queue is empty. Each caller waits for its
//! own sample's outcome, so a stored sample is on disk when `put` returns.
//! [`blocking`] runs any other store call on the blocking pool.

use crate::{
	metering::Sample,
	store::{Put, Store, StoreError},
};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<Put, StoreError>>;

#[derive(Default)]
struct Queue {
	jobs: Vec<(u32, Sample, Reply)>,
	committing: bool,
}

/// Group-commits meter samples on the blocking pool; cheap to clone.
#[derive(Clone)]
pub struct SampleWriter {
	store: Arc<Store>,
	queue: Arc<Mutex<Queue>>,
}

impl SampleWriter {
	/// A writer into `store`.
	pub fn new(store: Arc<Store>) -> Self {
		Self { store, queue: Default::default() }
	}

	/// Stores a sample (see [`Store::put_sample`]) and waits until it is committed.
	pub async fn put(&self, asset: u32, sample: Sample) -> Result<Put, StoreError> {
		let (tx, rx) = oneshot::channel();
		let lead = {
			let mut q = self.queue.lock().expect("not poisoned");
			q.jobs.push((asset, sample, tx));
			!std::mem::replace(&mut q.committing, true)
		};
		if lead {
			let (store, queue) = (self.store.clone(), self.queue.clone());
			tokio::task::spawn_blocking(move || commit_until_empty(&store, &queue));
		}
		rx.await.unwrap_or(Err(StoreError::WriterGone))
	}
}

/// Clears the committing flag however the commit loop ends (a panic included).
struct Committing<'a>(&'a Mutex<Queue>);

impl Drop for Committing<'_> {
	fn drop(&mut self) {
		if let Ok(mut q) = self.0.lock() {
			q.committing = false;
		}
	}
}

fn commit_until_empty(store: &Store, queue: &Mutex<Queue>) {
	let _flag = Committing(queue);
	loop {
		let batch = {
			let mut q = queue.lock().expect("not poisoned");
			if q.jobs.is_empty() {
				q.committing = false;
				return;
			}
			std::mem::take(&mut q.jobs)
		};
		let samples: Vec<(u32, Sample)> = batch.iter().map(|(a, s, _)| (*a, *s)).collect();
		match store.put_samples(&samples) {
			Ok(puts) => {
				for ((_, _, reply), put) in batch.into_iter().zip(puts) {
					let _ = reply.send(Ok(put));
				}
			},
			Err(e) => {
				let text = e.to_string();
				tracing::error!(target: "store", "cannot store {} samples: {text}", samples.len());
				for (_, _, reply) in batch {
					let _ = reply.send(Err(StoreError::WriterGone));
				}
			},
		}
	}
}

/// Runs a store call on the blocking pool.
pub async fn blocking<T: Send + 'static>(
	store: &Arc<Store>,
	f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
	let store = store.clone();
	tokio::task::spawn_blocking(move || f(&store)).await.unwrap_or(Err(StoreError::WriterGone))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::metering::MINUTE_MS;

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn concurrent_samples_are_committed_in_groups_and_each_caller_hears_its_outcome() {
		let dir = tempfile::tempdir().unwrap();
		let store = Arc::new(Store::open(&dir.path().join("w.redb")).unwrap());
		let w = SampleWriter::new(store.clone());
		let sample = |wh| Sample {
			at_ms: MINUTE_MS,
			exported_wh: wh,
			imported_wh: 0,
			power_w: 0,
			soc_permille: None,
		};
		let puts = futures::future::join_all((0..500).map(|a| w.put(a, sample(a as u64)))).await;
		assert!(puts.iter().all(|p| matches!(p, Ok(Put::Stored))));
		assert_eq!(w.put(7, sample(1)).await.unwrap(), Put::Duplicate);
		assert_eq!(store.sample_count().unwrap(), 500);
		let n = blocking(&store, |s| s.sample_count()).await.unwrap();
		assert_eq!(n, 500);
	}
}
