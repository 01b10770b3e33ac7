//! Starting the built node on free ports and talking JSON-RPC to it over HTTP.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::{
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	path::{Path, PathBuf},
	process::{Child, Command, ExitStatus, Stdio},
	time::{Duration, Instant},
};

/// The node binary cargo built for these tests.
pub const NODE: &str = env!("CARGO_BIN_EXE_flexchain-node");

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!(
		"flexchain-test-{name}-{}-{}",
		std::process::id(),
		Instant::now().elapsed().as_nanos()
	));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

/// A running node; killed when dropped.
pub struct Node {
	child: Option<Child>,
	/// Its JSON-RPC port.
	pub rpc_port: u16,
	/// Where its output goes.
	pub log: PathBuf,
}

impl Node {
	/// Starts the node with `args` plus free RPC and P2P ports, no Prometheus and no telemetry.
	pub fn start(name: &str, args: &[&str]) -> Node {
		let rpc_port = free_port();
		let log = temp_dir(name).join("node.log");
		let out = std::fs::File::create(&log).unwrap();
		let child = Command::new(NODE)
			.args(args)
			.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--port", &free_port().to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
			.stdout(out.try_clone().unwrap())
			.stderr(out)
			.spawn()
			.expect("the node binary starts");
		Node { child: Some(child), rpc_port, log }
	}

	/// The node's output so far.
	pub fn output(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Fails the test with `why` and the node's log.
	pub fn fail(&self, why: &str) -> ! {
		panic!("{why}\n---- node log ({}) ----\n{}", self.log.display(), self.output());
	}

	/// Calls `method` with `params`; `None` while the node does not answer.
	pub fn try_rpc(&self, method: &str, params: Value) -> Option<Value> {
		let body =
			json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
		let mut stream = TcpStream::connect_timeout(
			&([127, 0, 0, 1], self.rpc_port).into(),
			Duration::from_secs(2),
		)
		.ok()?;
		stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
		let request = format!(
			"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
			body.len()
		);
		stream.write_all(request.as_bytes()).ok()?;
		let mut response = String::new();
		stream.read_to_string(&mut response).ok()?;
		let json = response.split("\r\n\r\n").nth(1)?;
		let value: Value = serde_json::from_str(json).ok()?;
		Some(value)
	}

	/// Calls `method` and returns its `result`, failing the test on an error.
	pub fn rpc(&self, method: &str, params: Value) -> Value {
		match self.try_rpc(method, params) {
			Some(v) if v.get("result").is_some() => v["result"].clone(),
			other => self.fail(&format!("{method} failed: {other:?}")),
		}
	}

	/// Polls `check` every half second until it returns `Some` or `timeout` passes.
	pub fn wait_for<T>(
		&mut self,
		what: &str,
		timeout: Duration,
		mut check: impl FnMut(&Node) -> Option<T>,
	) -> T {
		let start = Instant::now();
		loop {
			if let Some(v) = check(self) {
				return v;
			}
			if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
				self.fail(&format!("the node exited ({status}) while waiting for {what}"));
			}
			if start.elapsed() > timeout {
				self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
			}
			std::thread::sleep(Duration::from_millis(500));
		}
	}

	/// Number of the best block.
	pub fn best_number(&self) -> Option<u64> {
		let header = self.try_rpc("chain_getHeader", json!([]))?;
		hex_number(header.get("result")?.get("number")?)
	}

	/// Number of the last finalized block.
	pub fn finalized_number(&self) -> Option<u64> {
		let hash = self.try_rpc("chain_getFinalizedHead", json!([]))?.get("result")?.clone();
		let header = self.try_rpc("chain_getHeader", json!([hash]))?;
		hex_number(header.get("result")?.get("number")?)
	}

	/// Stops the node with SIGINT, as Ctrl-C would, and waits for it to exit.
	pub fn stop(&mut self) -> ExitStatus {
		let mut child = self.child.take().expect("node running");
		let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
		let start = Instant::now();
		loop {
			if let Some(status) = child.try_wait().unwrap() {
				return status;
			}
			if start.elapsed() > Duration::from_secs(30) {
				let _ = child.kill();
				return child.wait().unwrap();
			}
			std::thread::sleep(Duration::from_millis(200));
		}
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}

fn hex_number(v: &Value) -> Option<u64> {
	u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok()
}

/// Runs the node to completion with `args`; returns its exit status and stderr.
pub fn run_to_exit(args: &[&str], dir: &Path) -> (ExitStatus, String) {
	let out = Command::new(NODE)
		.args(args)
		.current_dir(dir)
		.stdout(Stdio::null())
		.stderr(Stdio::piped())
		.output()
		.expect("the node binary runs");
	(out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}
