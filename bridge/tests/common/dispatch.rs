//! Fills, dispatchers that drive them against a ledger in memory, and the chargers
//! they meter.

use super::devices::{central, charger};
use flex_bridge::{
	chain::{Direction, Fill},
	clock::Clock,
	dispatch::{DeviceLink, Dispatcher, Ledger},
	metering::MINUTE_MS,
	store::Store,
};
use std::{collections::HashMap, path::Path, sync::Arc, time::Duration};

/// Fill 0 of `request`: `asset` 10 kW up for `minutes` from `start_ms`, reported by
/// `grace_ms` after its end, at price and cost 1. A test that needs other terms
/// overrides them: `Fill { cost: 750, ..fill(1, 1, start, 45, grace) }`.
pub fn fill(request: u32, asset: u32, start_ms: u64, minutes: u64, grace_ms: u64) -> Fill {
	let end_ms = start_ms + minutes * MINUTE_MS;
	Fill {
		request,
		fill: 0,
		offer: 0,
		asset,
		device: String::new(),
		fsp: String::new(),
		start_ms,
		end_ms,
		direction: Direction::Up,
		power_w: 10_000,
		energy_wh: 10_000 * minutes / 60,
		price: 1,
		cost: 1,
		report_deadline_ms: end_ms + grace_ms,
	}
}

/// A dispatcher with a store in `dir` that reports to `ledger`, retrying a failed
/// report after 20 ms rather than 2 s.
pub fn dispatcher(dir: &Path, clock: Clock, ledger: Arc<dyn Ledger>) -> Dispatcher {
	let store = Arc::new(Store::open(&dir.join("bridge.redb")).unwrap());
	Dispatcher { retry: Duration::from_millis(20), ..Dispatcher::new(store, clock, ledger) }
}

/// A central system for charger `id` alone, whose meter values and refused readings
/// `d` takes as asset `asset`'s, as the daemon does: the link that commands the
/// charger, and the URL it connects to (`ws://…/ocpp`).
pub async fn metered_charger(
	d: &Dispatcher,
	id: &str,
	asset: u32,
	call_timeout: Duration,
) -> (DeviceLink, String) {
	let (central, events, url) = central(vec![charger(id)], d.clock, call_timeout).await;
	tokio::spawn(d.clone().charger_events(events, HashMap::from([(id.to_string(), asset)])));
	(DeviceLink::Ocpp { central, id: id.into() }, url)
}
