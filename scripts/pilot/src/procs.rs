//! The processes a run starts: the node (or the network), the bridge and the
//! simulators. Each logs to a file in the run's directory; all are stopped (SIGINT,
//! then SIGKILL) at the end. The list is shared: the run starts processes, `main`
//! stops them, whichever way the run ended.

use anyhow::{bail, Context, Result};
use std::{
	path::{Path, PathBuf},
	process::Stdio,
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::process::{Child, Command};

/// A started process.
struct Proc {
	name: String,
	child: Child,
	log: PathBuf,
}

/// The processes of a run, stopped in reverse order of starting.
#[derive(Clone, Default)]
pub struct Procs {
	list: Arc<Mutex<Vec<Proc>>>,
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
	let text = std::fs::read_to_string(path).unwrap_or_default();
	let lines: Vec<&str> = text.lines().collect();
	lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Procs {
	/// Starts `bin` with `args`, its output going to `log`.
	pub fn spawn(&self, name: &str, bin: &Path, args: &[String], log: PathBuf) -> Result<()> {
		let out =
			std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
		let child = Command::new(bin)
			.args(args)
			.stdin(Stdio::null())
			.stdout(out.try_clone()?)
			.stderr(out)
			.kill_on_drop(true)
			.spawn()
			.with_context(|| format!("starting {}", bin.display()))?;
		self.lock().push(Proc { name: name.into(), child, log });
		Ok(())
	}

	/// Fails, with the end of its log, if a process has exited.
	pub fn check(&self) -> Result<()> {
		for p in self.lock().iter_mut() {
			if let Some(status) = p.child.try_wait()? {
				bail!(
					"{} exited ({status}); the end of {}:\n{}",
					p.name,
					p.log.display(),
					tail(&p.log, 15)
				);
			}
		}
		Ok(())
	}

	/// Resolves once a started process has exited, with its log's end.
	pub async fn watch(&self) -> anyhow::Error {
		loop {
			if let Err(e) = self.check() {
				return e;
			}
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}

	/// Stops everything: SIGINT, then SIGKILL after five seconds.
	pub async fn stop_all(&self) {
		let list = std::mem::take(&mut *self.lock());
		for mut p in list.into_iter().rev() {
			if let Some(pid) = p.child.id() {
				let _ =
					std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status();
			}
			if tokio::time::timeout(Duration::from_secs(5), p.child.wait()).await.is_err() {
				let _ = p.child.kill().await;
			}
		}
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Proc>> {
		self.list.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}
}
