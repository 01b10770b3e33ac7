//! Every task of the daemon, owned: spawned into one set, joined at shutdown, and
//! watched. A service (the OCPP server, the HTTP endpoint, a meter loop, the chain
//! follower...) is meant to run until shutdown, so its end is a failure; a dispatch
//! ends when its fill is done. A panic is a failure either way. Failures are kept
//! for `/health` and counted in `/metrics`.

use serde::Serialize;
use std::{
	collections::{HashMap, VecDeque},
	future::Future,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
};
use tokio::task::{Id, JoinError, JoinSet};

/// Failures `/health` lists at most (the latest).
pub const FAILURES_KEPT: usize = 32;

/// What kind of task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
	/// Runs until shutdown: its end is a failure.
	Service,
	/// Ends when its job is done.
	Job,
}

/// A task that failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
	/// The task's name.
	pub task: String,
	/// What happened.
	pub what: String,
	/// When, real Unix ms.
	pub at_ms: u64,
}

/// What `/health` and `/metrics` read about the tasks.
#[derive(Debug, Default)]
pub struct TaskHealth {
	running: AtomicU64,
	failed: AtomicU64,
	services_down: AtomicU64,
	failures: Mutex<VecDeque<Failure>>,
}

impl TaskHealth {
	/// Tasks running now.
	pub fn running(&self) -> u64 {
		self.running.load(Ordering::Relaxed)
	}

	/// Failures since start.
	pub fn failed(&self) -> u64 {
		self.failed.load(Ordering::Relaxed)
	}

	/// Services that stopped: the bridge is not whole.
	pub fn services_down(&self) -> u64 {
		self.services_down.load(Ordering::Relaxed)
	}

	/// The latest failures, oldest first.
	pub fn failures(&self) -> Vec<Failure> {
		self.failures.lock().expect("not poisoned").iter().cloned().collect()
	}

	fn fail(&self, task: &str, what: String, kind: Kind) {
		tracing::error!(target: "bridge", task, "task failed: {what}");
		self.failed.fetch_add(1, Ordering::Relaxed);
		if kind == Kind::Service {
			self.services_down.fetch_add(1, Ordering::Relaxed);
		}
		let mut f = self.failures.lock().expect("not poisoned");
		if f.len() == FAILURES_KEPT {
			f.pop_front();
		}
		f.push_back(Failure { task: task.into(), what, at_ms: crate::clock::Clock::real_now_ms() });
	}
}

/// The daemon's tasks.
pub struct Tasks {
	set: JoinSet<()>,
	names: HashMap<Id, (String, Kind)>,
	/// Shared with the HTTP endpoint.
	pub health: Arc<TaskHealth>,
}

impl Default for Tasks {
	fn default() -> Self {
		Self::new()
	}
}

impl Tasks {
	/// No tasks yet.
	pub fn new() -> Self {
		Self { set: JoinSet::new(), names: HashMap::new(), health: Default::default() }
	}

	/// Spawns a task named `name`.
	pub fn spawn(
		&mut self,
		name: impl Into<String>,
		kind: Kind,
		f: impl Future<Output = ()> + Send + 'static,
	) {
		let handle = self.set.spawn(f);
		self.names.insert(handle.id(), (name.into(), kind));
		self.health.running.fetch_add(1, Ordering::Relaxed);
	}

	/// Waits for the next task to end and accounts for it; never resolves while no
	/// task runs.
	pub async fn join_next(&mut self) {
		match self.set.join_next_with_id().await {
			Some(r) => self.ended(r),
			None => std::future::pending().await,
		}
	}

	fn ended(&mut self, r: Result<(Id, ()), JoinError>) {
		self.health.running.fetch_sub(1, Ordering::Relaxed);
		let (id, what) = match r {
			Ok((id, ())) => (id, None),
			Err(e) if e.is_cancelled() => (e.id(), None),
			Err(e) => {
				let id = e.id();
				let what = match e.try_into_panic() {
					Ok(p) => p
						.downcast_ref::<String>()
						.cloned()
						.or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
						.unwrap_or_else(|| "panicked".into()),
					Err(e) => e.to_string(),
				};
				(id, Some(format!("panicked: {what}")))
			},
		};
		let Some((name, kind)) = self.names.remove(&id) else { return };
		match (what, kind) {
			(Some(what), kind) => self.health.fail(&name, what, kind),
			(None, Kind::Service) => self.health.fail(&name, "stopped".into(), kind),
			(None, Kind::Job) => {},
		}
	}

	/// Stops every task and waits for them all.
	pub async fn shutdown(&mut self) {
		self.set.shutdown().await;
		self.names.clear();
		self.health.running.store(0, Ordering::Relaxed);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[tokio::test]
	async fn a_panic_or_a_stopped_service_is_a_failure_a_finished_job_is_not() {
		let mut t = Tasks::new();
		t.spawn("job", Kind::Job, async {});
		t.spawn("service", Kind::Service, async {});
		t.spawn("panics", Kind::Job, async { panic!("boom") });
		t.spawn("forever", Kind::Service, std::future::pending());
		for _ in 0..3 {
			t.join_next().await;
		}
		assert_eq!(t.health.running(), 1);
		assert_eq!(t.health.failed(), 2);
		assert_eq!(t.health.services_down(), 1);
		let f = t.health.failures();
		assert!(f.iter().any(|f| f.task == "panics" && f.what.contains("boom")), "{f:?}");
		assert!(f.iter().any(|f| f.task == "service" && f.what == "stopped"), "{f:?}");
		t.shutdown().await;
		assert_eq!(t.health.running(), 0);
	}
}
