//! What the bridge's integration tests share, one file per concern:
//!
//! - [`chain`]: a throwaway dev chain and the market transactions the tests make on it
//!   (`chain_e2e.rs`, `chaos.rs`);
//! - [`ledger`]: a chain in memory that takes delivery reports;
//! - [`dispatch`]: fills, and dispatchers to drive them;
//! - [`devices`]: the simulated battery and V2G charger, and the central system;
//! - [`ocpp`]: a raw OCPP 1.6J charge point, frame by frame;
//! - [`process`]: child processes with their output in a log file.
//!
//! Every test binary compiles all of it and uses a part, hence `dead_code` is allowed.
#![allow(dead_code)]

pub mod chain;
pub mod devices;
pub mod dispatch;
pub mod ledger;
pub mod ocpp;
pub mod process;

use std::time::Duration;

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
	std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until `what` holds, looking every 10 ms; panics after 20 s.
pub async fn until(what: impl Fn() -> bool) {
	tokio::time::timeout(Duration::from_secs(20), async {
		while !what() {
			tokio::time::sleep(Duration::from_millis(10)).await;
		}
	})
	.await
	.expect("condition in time")
}
