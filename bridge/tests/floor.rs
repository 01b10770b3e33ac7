//! The state-of-charge floor, exactly: a battery that enforces no floor of its own
//! discharges at 10 kW, and the bridge alone stops it within 0.1 % of its owner's floor
//! (checked once a minute, it would run up to a minute, ~1.2 %, below). The reserve is
//! written to the device where it offers a point: model 124 `MinRsvPct` and model 802
//! `SoCRsvMin`.

mod common;

use common::{
	devices::{battery_config, serve_battery},
	dispatch::{dispatcher, fill},
	ledger::MemLedger,
};
use flex_bridge::{
	clock::Clock,
	dispatch::{DeviceLink, Dispatch},
	metering::{self, MINUTE_MS},
	sim::battery::{BatteryConfig, SharedBattery, SocModel},
	sunspec::{
		client::{ControlProfile, SunSpecDevice},
		map::{battery as m802, storage as m124},
	},
};
use std::{sync::Arc, time::Duration};

async fn run(soc_model: SocModel, initial_soc: f64) -> (f64, SharedBattery, Dispatch) {
	// 60x: a market second is 17 ms.
	let clock = Clock::scaled(Clock::real_now_ms(), 60.0);
	let config = BatteryConfig {
		reserve_soc_percent: 0.0,
		soc_model,
		..battery_config("FLOOR", initial_soc, clock)
	};
	let (addr, bat) = serve_battery(config).await;
	bat.lock().unwrap().set_own_floor(false);
	let dir = tempfile::tempdir().unwrap();
	let d = dispatcher(dir.path(), clock, Arc::new(MemLedger::default()));
	let device = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_millis(500));
	let link = DeviceLink::modbus(device);
	tokio::spawn(d.clone().meter(1, link.clone()));
	let start = metering::minute_of(clock.now_ms()) + MINUTE_MS;
	// 10 kW for 6 minutes, reported within 20 minutes of the start.
	let fill = fill(1, 1, start, 6, 14 * MINUTE_MS);
	d.clone().run(Dispatch::new(fill, Some(20.0)), link).await;
	let soc = {
		let mut b = bat.lock().unwrap();
		b.refresh();
		b.storage.soc_percent()
	};
	let done: Dispatch = d.store.dispatch(1, 0).unwrap().unwrap();
	(soc, bat, done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_battery_without_a_floor_of_its_own_stops_within_a_tenth_of_a_percent_of_it() {
	// 3.37 % above the floor: 455 Wh, 164 s at 10 kW, in the middle of minute 3.
	let (soc, bat, done) = run(SocModel::DerStorage713, 23.37).await;
	println!("model 713 battery, floor 20 %: stopped at {soc:.3} % ({:?})", done.stop);
	assert!((soc - 20.0).abs() <= 0.1, "stopped at {soc} %");
	assert!(done.stop.is_some());
	// The reserve went to model 124 (which this battery ignores, as asked).
	let at = bat.lock().unwrap().layout().storage + m124::MIN_RSV_PCT;
	assert_eq!(bat.lock().unwrap().read(at, 1).unwrap(), vec![200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reserve_goes_to_model_802_and_the_stop_is_exact_there_too() {
	let (soc, bat, done) = run(SocModel::Battery802, 22.05).await;
	println!("model 802 battery, floor 20 %: stopped at {soc:.3} % ({:?})", done.stop);
	assert!((soc - 20.0).abs() <= 0.1, "stopped at {soc} %");
	let at = bat.lock().unwrap().layout().capacity + m802::SOC_RSV_MIN;
	assert_eq!(bat.lock().unwrap().read(at, 1).unwrap(), vec![200], "SoCRsvMin written");
}
