//! Dispatch, metering and reporting against the simulated devices at 300x market
//! time, with a ledger in memory in place of the chain (the chain itself is in
//! `chain_e2e.rs`): the pilot's two fills, a battery that drops off the network
//! mid-window (its reversion timer stops it), a charger that reboots mid-window,
//! report retries, and a restarted dispatcher that posts nothing twice.

use flex_bridge::{
	chain::{ChainError, Direction, Fill, ReportOutcome},
	clock::Clock,
	dispatch::{DeviceLink, Dispatch, Dispatcher, Ledger, Stage},
	metering::{self, MINUTE_MS},
	ocpp::central::{CentralSystem, ChargerConfig, ChargerEvent, DischargeMode},
	sim::{
		battery::{self, Battery, BatteryConfig},
		charger::{ChargerSim, ChargerSimConfig},
	},
	store::{ReportState, Store},
	sunspec::client::{ControlProfile, SunSpecDevice},
};
use futures::future::BoxFuture;
use std::{
	collections::BTreeMap,
	sync::{atomic::Ordering, Arc, Mutex},
	time::Duration,
};

const SCALE: f64 = 300.0;

#[derive(Default)]
struct MemLedger {
	reports: Mutex<BTreeMap<(u32, u32), (u64, [u8; 32])>>,
	calls: Mutex<u32>,
	fail_first: Mutex<u32>,
}

impl Ledger for MemLedger {
	fn report(
		&self,
		request: u32,
		fill: u32,
		wh: u64,
		root: [u8; 32],
	) -> BoxFuture<'_, Result<ReportOutcome, ChainError>> {
		Box::pin(async move {
			*self.calls.lock().unwrap() += 1;
			let mut fail = self.fail_first.lock().unwrap();
			if *fail > 0 {
				*fail -= 1;
				return Err(ChainError::Node("connection refused".into()));
			}
			let mut r = self.reports.lock().unwrap();
			if r.contains_key(&(request, fill)) {
				return Ok(ReportOutcome::AlreadyReported);
			}
			r.insert((request, fill), (wh, root));
			Ok(ReportOutcome::Posted)
		})
	}
}

fn fill(request: u32, asset: u32, start_ms: u64) -> Fill {
	Fill {
		request,
		fill: 0,
		offer: asset as u64,
		asset,
		device: String::new(),
		fsp: String::new(),
		start_ms,
		end_ms: start_ms + 45 * MINUTE_MS,
		direction: Direction::Up,
		power_w: 10_000,
		energy_wh: 7_500,
		price: 100_000_000_000,
		cost: 750_000_000_000,
		report_deadline_ms: start_ms + 60 * MINUTE_MS,
	}
}

fn dispatcher(store: Arc<Store>, clock: Clock, ledger: Arc<MemLedger>) -> Dispatcher {
	Dispatcher { retry: Duration::from_millis(20), ..Dispatcher::new(store, clock, ledger) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_battery_offline_mid_window_reverts_and_is_paid_for_what_it_metered() {
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	let bat = Arc::new(Mutex::new(Battery::new(BatteryConfig {
		capacity_wh: 13_500.0,
		initial_soc_percent: 73.4,
		max_power_w: 10_000.0,
		reserve_soc_percent: 5.0,
		unit_id: 1,
		serial: "D-BAT".into(),
		clock,
		soc_model: Default::default(),
	})));
	tokio::spawn(battery::serve(listener, bat.clone()));
	let dir = tempfile::tempdir().unwrap();
	let store = Arc::new(Store::open(&dir.path().join("b.redb")).unwrap());
	let ledger = Arc::new(MemLedger::default());
	*ledger.fail_first.lock().unwrap() = 2;
	let d = dispatcher(store.clone(), clock, ledger.clone());
	let link = DeviceLink::Modbus(Arc::new(tokio::sync::Mutex::new(SunSpecDevice::new(
		addr,
		1,
		ControlProfile::Der704,
		Duration::from_millis(500),
	))));
	tokio::spawn(d.clone().meter(1, link.clone()));
	let start = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	let job =
		tokio::spawn(d.clone().run(Dispatch::new(fill(1, 1, start), Some(20.0)), link.clone()));

	// Off the network from minute 10 to 15: the bridge cannot refresh the setpoint, the
	// battery's 180 s reversion timer stops it at minute 13.
	clock.sleep_until(start + 10 * MINUTE_MS + 10_000).await;
	bat.lock().unwrap().set_online(false);
	clock.sleep_until(start + 15 * MINUTE_MS + 10_000).await;
	bat.lock().unwrap().set_online(true);
	job.await.unwrap();

	let exported = bat.lock().unwrap().storage.exported_wh;
	let report = store.report(1, 0).unwrap().unwrap();
	println!("battery offline 5 min: delivered {} Wh (device exported {exported:.0} Wh), {} samples, {} attempts", report.delivered_wh, report.samples, report.attempts);
	assert_eq!(report.state, ReportState::Posted);
	assert_eq!(report.attempts, 3, "two failures, then posted");
	// What the device exported, less the few Wh it ran between the window's last
	// reading and the release (milliseconds of real time are seconds at 300x).
	let after_end = exported.floor() - report.delivered_wh as f64;
	assert!(
		(-1.0..=15.0).contains(&after_end),
		"device {exported} Wh, report {} Wh",
		report.delivered_wh
	);
	assert!(report.delivered_wh < 7_209, "the outage cost delivery: {}", report.delivered_wh);
	assert!(report.delivered_wh > 6_400, "{}", report.delivered_wh);
	assert!(d.metrics.readings_failed.load(Ordering::Relaxed) >= 3);
	assert_eq!(ledger.reports.lock().unwrap()[&(1, 0)].0, report.delivered_wh);
	let samples = store.samples(1, start, start + 45 * MINUTE_MS).unwrap();
	assert_eq!(hex::encode(metering::samples_root(1, &samples)), report.samples_root);
	let log = store.commands(100).unwrap();
	assert!(log.iter().any(|c| c.command == "power 10000 W" && c.reason == "window start"));
	assert!(log.iter().any(|c| c.outcome != "ok"), "failed refreshes are logged");

	// A restarted bridge finds the fill done and posts nothing; one whose report was
	// built but not confirmed posts the same report and the chain keeps the first.
	let calls = *ledger.calls.lock().unwrap();
	let done: Dispatch = store.dispatch(1, 0).unwrap().unwrap();
	assert_eq!(done.stage, Stage::Done);
	d.clone().run(done.clone(), link.clone()).await;
	assert_eq!(*ledger.calls.lock().unwrap(), calls);
	let mut pending = report.clone();
	pending.state = ReportState::Pending;
	store.update_report(&pending).unwrap();
	d.clone().run(Dispatch { stage: Stage::Reported, ..done }, link).await;
	assert_eq!(*ledger.calls.lock().unwrap(), calls + 1);
	assert_eq!(ledger.reports.lock().unwrap().len(), 1);
	assert_eq!(store.report(1, 0).unwrap().unwrap().state, ReportState::Posted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pilot_car_reboots_mid_window_gets_its_profile_again_and_stops_at_its_floor() {
	// Slower than the battery's test: a reconnect takes real milliseconds.
	let clock = Clock::scaled(Clock::real_now_ms(), 60.0);
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("ws://{}/ocpp", listener.local_addr().unwrap());
	let charger = ChargerConfig {
		id: "V2G-1".into(),
		connector: 1,
		password: None,
		discharge: DischargeMode::NegativeWatts,
	};
	let (central, mut events) =
		CentralSystem::new(vec![charger], clock, Duration::from_secs(5), 60);
	tokio::spawn(central.clone().serve(listener));
	let car = ChargerSim::new(ChargerSimConfig {
		url,
		id: "V2G-1".into(),
		password: None,
		connector: 1,
		capacity_wh: 40_000.0,
		initial_soc_percent: 47.425,
		max_power_w: 10_000.0,
		reserve_soc_percent: 10.0,
		voltage: 230.0,
		data_transfer: None,
		clock,
	});
	tokio::spawn(car.clone().run());
	let dir = tempfile::tempdir().unwrap();
	let store = Arc::new(Store::open(&dir.path().join("c.redb")).unwrap());
	let ledger = Arc::new(MemLedger::default());
	let d = dispatcher(store.clone(), clock, ledger.clone());
	let metering = d.clone();
	tokio::spawn(async move {
		while let Some(e) = events.recv().await {
			if let ChargerEvent::Meter { sample, .. } = e {
				metering.charger_sample(2, &sample).await;
			}
		}
	});
	let link = DeviceLink::Ocpp { central: central.clone(), id: "V2G-1".into() };
	let start = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	// The car's own floor is 10 %; the bridge stops it at the asset's 30 %.
	let job = tokio::spawn(d.clone().run(Dispatch::new(fill(2, 2, start), Some(30.0)), link));
	clock.sleep_until(start + 20 * MINUTE_MS).await;
	car.reboot();
	job.await.unwrap();

	let report = store.report(2, 0).unwrap().unwrap();
	let done: Dispatch = store.dispatch(2, 0).unwrap().unwrap();
	let soc = car.state.lock().unwrap().storage.soc_percent();
	println!(
		"V2G rebooted at minute 20: delivered {} Wh, stop: {:?}, SoC {soc:.2} %",
		report.delivered_wh, done.stop
	);
	assert!(car.state.lock().unwrap().sessions >= 2);
	assert!(
		done.stop.as_ref().is_some_and(|s| s.reason.contains("minimum state of charge 30")),
		"{done:?}"
	);
	// The crossing is predicted and the car read faster as it nears: within 0.1 % (40 Wh).
	assert!((6_930..=7_020).contains(&report.delivered_wh), "{}", report.delivered_wh);
	assert!((29.9..=30.1).contains(&soc), "stopped at the 30 % floor, not the car's 10 %: {soc}");
	assert_eq!(ledger.reports.lock().unwrap().len(), 1);
}
