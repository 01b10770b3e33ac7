//! The processes a run starts: the node, the bridge and the simulators. Each logs to a
//! file in the run's directory; all are stopped (SIGINT, then SIGKILL) at the end.

use anyhow::{bail, Context, Result};
use std::{
	path::{Path, PathBuf},
	process::Stdio,
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
#[derive(Default)]
pub struct Procs {
	list: Vec<Proc>,
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
	let text = std::fs::read_to_string(path).unwrap_or_default();
	let lines: Vec<&str> = text.lines().collect();
	lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Procs {
	/// Starts `bin` with `args`, its output going to `log`.
	pub fn spawn(&mut self, name: &str, bin: &Path, args: &[String], log: PathBuf) -> Result<()> {
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
		self.list.push(Proc { name: name.into(), child, log });
		Ok(())
	}

	/// Fails, with the end of its log, if a process has exited.
	pub fn check(&mut self) -> Result<()> {
		for p in &mut self.list {
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

	/// Stops everything: SIGINT, then SIGKILL after five seconds.
	pub async fn stop_all(&mut self) {
		while let Some(mut p) = self.list.pop() {
			if let Some(pid) = p.child.id() {
				let _ =
					std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status();
			}
			if tokio::time::timeout(Duration::from_secs(5), p.child.wait()).await.is_err() {
				let _ = p.child.kill().await;
			}
		}
	}
}
