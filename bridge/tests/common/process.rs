//! Child processes (the node, the bridge, the Python peers), killed when dropped, their
//! output in a log file.

use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
};

/// A child process, killed when dropped, its output in a log file.
pub struct Proc(pub Child, pub PathBuf);

impl Proc {
	/// Its output so far.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.1).unwrap_or_default()
	}

	/// Kills it (SIGKILL) and waits until it is gone.
	pub fn kill(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

impl Drop for Proc {
	fn drop(&mut self) {
		self.kill();
	}
}

/// Starts `bin` with `args`, its output to `log`.
pub fn spawn(bin: &Path, args: &[String], log: PathBuf) -> Proc {
	let out = std::fs::File::create(&log).unwrap();
	let child = Command::new(bin)
		.args(args)
		.stdout(out.try_clone().unwrap())
		.stderr(out)
		.stdin(Stdio::null())
		.spawn()
		.unwrap_or_else(|e| panic!("{} starts: {e}", bin.display()));
	Proc(child, log)
}

/// Starts the bridge daemon built with these tests on the configuration at `config`,
/// its output to `log`.
pub fn spawn_bridge(config: &Path, log: PathBuf) -> Proc {
	let bin = PathBuf::from(env!("CARGO_BIN_EXE_flex-bridge"));
	spawn(&bin, &["--config".to_string(), config.display().to_string()], log)
}
