//! Outages: the DSO never loses a delivery it can prove.
//!
//! - a charger offline at its window's end stops discharging there anyway (its
//!   profile's `validTo`), and the release the bridge could not send reaches it when it
//!   is back;
//! - a chain outage shorter than the settlement grace delays a report, one longer than
//!   the grace marks it expired, counted and alerted, never silently dropped.

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

/// A chain in memory that can be down until a market time.
struct FlakyChain {
	clock: Clock,
	down_until_ms: Mutex<u64>,
	reports: Mutex<BTreeMap<(u32, u32), u64>>,
	attempts: Mutex<u32>,
}

impl Ledger for FlakyChain {
	fn report(
		&self,
		request: u32,
		fill: u32,
		wh: u64,
		_root: [u8; 32],
	) -> BoxFuture<'_, Result<ReportOutcome, ChainError>> {
		Box::pin(async move {
			*self.attempts.lock().unwrap() += 1;
			if self.clock.now_ms() < *self.down_until_ms.lock().unwrap() {
				return Err(ChainError::Node("connection refused".into()));
			}
			self.reports.lock().unwrap().insert((request, fill), wh);
			Ok(ReportOutcome::Posted)
		})
	}
}

fn fill(request: u32, asset: u32, start_ms: u64, minutes: u64, grace_ms: u64) -> Fill {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_offline_at_the_window_end_stops_discharging_there() {
	let clock = Clock::scaled(Clock::real_now_ms(), 60.0);
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("ws://{}/ocpp", listener.local_addr().unwrap());
	let charger = ChargerConfig {
		id: "V2G-OFF".into(),
		connector: 1,
		password: None,
		discharge: DischargeMode::NegativeWatts,
	};
	let (central, mut events) =
		CentralSystem::new(vec![charger], clock, Duration::from_secs(2), 60);
	tokio::spawn(central.clone().serve(listener));
	let car = ChargerSim::new(ChargerSimConfig {
		url,
		id: "V2G-OFF".into(),
		password: None,
		connector: 1,
		capacity_wh: 40_000.0,
		initial_soc_percent: 80.0,
		max_power_w: 10_000.0,
		reserve_soc_percent: 10.0,
		voltage: 230.0,
		data_transfer: None,
		clock,
	});
	tokio::spawn(car.clone().run());
	let dir = tempfile::tempdir().unwrap();
	let store = Arc::new(Store::open(&dir.path().join("o.redb")).unwrap());
	let ledger = Arc::new(FlakyChain {
		clock,
		down_until_ms: Mutex::new(0),
		reports: Default::default(),
		attempts: Default::default(),
	});
	let d = Dispatcher {
		retry: Duration::from_millis(20),
		..Dispatcher::new(store.clone(), clock, ledger)
	};
	let metering = d.clone();
	tokio::spawn(async move {
		while let Some(e) = events.recv().await {
			if let ChargerEvent::Meter { sample, .. } = e {
				metering.charger_sample(4, &sample).await;
			}
		}
	});
	let link = DeviceLink::Ocpp { central: central.clone(), id: "V2G-OFF".into() };
	let devices = Arc::new(BTreeMap::from([(4, link.clone())]));
	tokio::spawn(d.clone().retry_releases(devices, Duration::from_millis(50)));
	let start = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	let end = start + 5 * MINUTE_MS;
	let job = tokio::spawn(
		d.clone().run(Dispatch::new(fill(7, 4, start, 5, 10 * MINUTE_MS), None), link),
	);

	// Off the network from minute 3 until two minutes after the window's end.
	clock.sleep_until(start + 3 * MINUTE_MS).await;
	car.set_online(false);
	clock.sleep_until(end + 2 * MINUTE_MS).await;
	let (power, exported) = {
		let mut s = car.state.lock().unwrap();
		s.storage.advance(clock.now_ms());
		(s.storage.power_w, s.storage.exported_wh)
	};
	println!("charger offline at the window's end: power {power} W, exported {exported:.0} Wh");
	assert_eq!(power, 0.0, "discharge stopped at the window's end without the bridge");
	// Five minutes at 10 kW, and not a minute more.
	assert!((820.0..=850.0).contains(&exported), "exported {exported} Wh");
	assert_eq!(store.pending_releases().unwrap().len(), 1, "the release is kept");

	// Back online: the kept release reaches it and is forgotten.
	car.set_online(true);
	let until = tokio::time::Instant::now() + Duration::from_secs(20);
	while !store.pending_releases().unwrap().is_empty() {
		assert!(tokio::time::Instant::now() < until, "the release reached the charger");
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
	assert!(car.state.lock().unwrap().received.contains_key("ClearChargingProfile"));
	job.await.unwrap();
	let done: Dispatch = store.dispatch(7, 0).unwrap().unwrap();
	assert_eq!(done.stage, Stage::Done);
}

async fn battery(clock: Clock) -> (DeviceLink, Arc<Mutex<Battery>>) {
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	let bat = Arc::new(Mutex::new(Battery::new(BatteryConfig {
		capacity_wh: 13_500.0,
		initial_soc_percent: 90.0,
		max_power_w: 10_000.0,
		reserve_soc_percent: 5.0,
		unit_id: 1,
		serial: "O-BAT".into(),
		clock,
		soc_model: Default::default(),
	})));
	tokio::spawn(battery::serve(listener, bat.clone()));
	let device = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_millis(500));
	(DeviceLink::Modbus(Arc::new(tokio::sync::Mutex::new(device))), bat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_outage_delays_reports_until_the_deadline_then_they_expire_loudly() {
	let clock = Clock::scaled(Clock::real_now_ms(), 300.0);
	let (link_a, _a) = battery(clock).await;
	let (link_b, _b) = battery(clock).await;
	let dir = tempfile::tempdir().unwrap();
	let store = Arc::new(Store::open(&dir.path().join("c.redb")).unwrap());
	let start = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	let end = start + 3 * MINUTE_MS;
	// The chain is down from now until 8 minutes after the window's end.
	let ledger = Arc::new(FlakyChain {
		clock,
		down_until_ms: Mutex::new(end + 8 * MINUTE_MS),
		reports: Default::default(),
		attempts: Default::default(),
	});
	let d = Dispatcher {
		retry: Duration::from_millis(20),
		..Dispatcher::new(store.clone(), clock, ledger.clone())
	};
	tokio::spawn(d.clone().meter(1, link_a.clone()));
	tokio::spawn(d.clone().meter(2, link_b.clone()));
	// Fill 1 has a grace of 15 minutes: its report lands after the outage. Fill 2 has
	// 5 minutes: the outage outlasts it.
	let long = Dispatch::new(fill(1, 1, start, 3, 15 * MINUTE_MS), None);
	let short = Dispatch::new(fill(2, 2, start, 3, 5 * MINUTE_MS), None);
	let (a, b) = tokio::join!(d.clone().run(long, link_a), d.clone().run(short, link_b));
	let _ = (a, b);

	let landed = store.report(1, 0).unwrap().unwrap();
	let expired = store.report(2, 0).unwrap().unwrap();
	println!(
		"chain down 8 min past the window: report 1 posted after {} attempts, report 2 {:?} after {} attempts",
		landed.attempts, expired.state, expired.attempts
	);
	assert_eq!(landed.state, ReportState::Posted);
	assert!(landed.attempts > 2, "retried through the outage: {}", landed.attempts);
	assert!(landed.delivered_wh > 400, "{}", landed.delivered_wh);
	assert_eq!(ledger.reports.lock().unwrap().get(&(1, 0)), Some(&landed.delivered_wh));
	assert_eq!(expired.state, ReportState::Expired);
	assert!(expired.attempts > 2, "retried until the deadline: {}", expired.attempts);
	assert!(clock.now_ms() >= end + 8 * MINUTE_MS);
	assert_eq!(store.expired_report_count().unwrap(), 1);
	assert_eq!(store.pending_report_count().unwrap(), 0);
	assert_eq!(d.metrics.reports_expired.load(Ordering::Relaxed), 1);
	let stage = |r| store.dispatch::<Dispatch>(r, 0).unwrap().unwrap().stage;
	assert_eq!((stage(1), stage(2)), (Stage::Done, Stage::Expired));
	// A restarted bridge leaves the expired fill alone.
	let calls = *ledger.attempts.lock().unwrap();
	let again: Dispatch = store.dispatch(2, 0).unwrap().unwrap();
	d.clone().run(again, link_b_placeholder(&store)).await;
	assert_eq!(*ledger.attempts.lock().unwrap(), calls);
}

/// A link that is never used (the dispatch it is given is finished).
fn link_b_placeholder(_: &Store) -> DeviceLink {
	let device = SunSpecDevice::new(
		"127.0.0.1:9".parse().unwrap(),
		1,
		ControlProfile::Der704,
		Duration::from_millis(10),
	);
	DeviceLink::Modbus(Arc::new(tokio::sync::Mutex::new(device)))
}
