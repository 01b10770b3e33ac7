//! The state-of-charge floor, exactly: a battery that enforces no floor of its own
//! discharges at 10 kW, and the bridge alone stops it within 0.1 % of its owner's floor
//! (checked once a minute, it would run up to a minute, ~1.2 %, below). The reserve is
//! written to the device where it offers a point: model 124 `MinRsvPct` and model 802
//! `SoCRsvMin`.

use flex_bridge::{
	chain::{ChainError, Direction, Fill, ReportOutcome},
	clock::Clock,
	dispatch::{DeviceLink, Dispatch, Dispatcher, Ledger},
	metering::{self, MINUTE_MS},
	sim::battery::{self, Battery, BatteryConfig, SocModel},
	store::Store,
	sunspec::{
		client::{ControlProfile, SunSpecDevice},
		map::{battery as m802, storage as m124},
	},
};
use futures::future::BoxFuture;
use std::{
	sync::{Arc, Mutex},
	time::Duration,
};

struct Chain;

impl Ledger for Chain {
	fn report(
		&self,
		_: u32,
		_: u32,
		_: u64,
		_: [u8; 32],
	) -> BoxFuture<'_, Result<ReportOutcome, ChainError>> {
		Box::pin(async { Ok(ReportOutcome::Posted) })
	}
}

async fn run(soc_model: SocModel, initial_soc: f64) -> (f64, Arc<Mutex<Battery>>, Dispatch) {
	// 60x: a market second is 17 ms.
	let clock = Clock::scaled(Clock::real_now_ms(), 60.0);
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	let bat = Arc::new(Mutex::new(Battery::new(BatteryConfig {
		capacity_wh: 13_500.0,
		initial_soc_percent: initial_soc,
		max_power_w: 10_000.0,
		reserve_soc_percent: 0.0,
		unit_id: 1,
		serial: "FLOOR".into(),
		clock,
		soc_model,
	})));
	bat.lock().unwrap().set_own_floor(false);
	tokio::spawn(battery::serve(listener, bat.clone()));
	let dir = tempfile::tempdir().unwrap();
	let store = Arc::new(Store::open(&dir.path().join("f.redb")).unwrap());
	let d = Dispatcher::new(store.clone(), clock, Arc::new(Chain));
	let device = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_millis(500));
	let link = DeviceLink::Modbus(Arc::new(tokio::sync::Mutex::new(device)));
	tokio::spawn(d.clone().meter(1, link.clone()));
	let start = metering::minute_of(clock.now_ms()) + MINUTE_MS;
	let fill = Fill {
		request: 1,
		fill: 0,
		offer: 0,
		asset: 1,
		device: String::new(),
		fsp: String::new(),
		start_ms: start,
		end_ms: start + 6 * MINUTE_MS,
		direction: Direction::Up,
		power_w: 10_000,
		energy_wh: 1_000,
		price: 1,
		cost: 1,
		report_deadline_ms: start + 20 * MINUTE_MS,
	};
	d.clone().run(Dispatch::new(fill, Some(20.0)), link).await;
	let soc = {
		let mut b = bat.lock().unwrap();
		b.refresh();
		b.storage.soc_percent()
	};
	let done: Dispatch = store.dispatch(1, 0).unwrap().unwrap();
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
