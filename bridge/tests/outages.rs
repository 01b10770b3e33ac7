//! Outages: the DSO never loses a delivery it can prove.
//!
//! - a charger offline at its window's end stops discharging there anyway (its
//!   profile's `validTo`), and the release the bridge could not send reaches it when it
//!   is back;
//! - a chain outage shorter than the settlement grace delays a report, one longer than
//!   the grace marks it expired, counted and alerted, never silently dropped.

mod common;

use common::{
	devices::{battery_config, car_config, run_charger, serve_battery},
	dispatch::{dispatcher, fill, metered_charger},
	ledger::MemLedger,
	until,
};
use flex_bridge::{
	clock::Clock,
	dispatch::{DeviceLink, Dispatch, Stage},
	metering::{self, MINUTE_MS},
	sim::battery::SharedBattery,
	store::{ReportState, Store},
	sunspec::client::{ControlProfile, SunSpecDevice},
};
use std::{
	collections::BTreeMap,
	sync::{atomic::Ordering, Arc},
	time::Duration,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_offline_at_the_window_end_stops_discharging_there() {
	let clock = Clock::scaled(Clock::real_now_ms(), 60.0);
	let dir = tempfile::tempdir().unwrap();
	let d = dispatcher(dir.path(), clock, Arc::new(MemLedger::default()));
	let store = d.store.clone();
	let (link, url) = metered_charger(&d, "V2G-OFF", 4, Duration::from_secs(2)).await;
	let car = run_charger(car_config(&url, "V2G-OFF", 80.0, 10.0, clock));
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
	until(|| store.pending_releases().unwrap().is_empty()).await;
	assert!(car.state.lock().unwrap().received.contains_key("ClearChargingProfile"));
	job.await.unwrap();
	let done: Dispatch = store.dispatch(7, 0).unwrap().unwrap();
	assert_eq!(done.stage, Stage::Done);
}

async fn battery(clock: Clock) -> (DeviceLink, SharedBattery) {
	let (addr, bat) = serve_battery(battery_config("O-BAT", 90.0, clock)).await;
	let device = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_millis(500));
	(DeviceLink::modbus(device), bat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_outage_delays_reports_until_the_deadline_then_they_expire_loudly() {
	let clock = Clock::scaled(Clock::real_now_ms(), 300.0);
	let (link_a, _a) = battery(clock).await;
	let (link_b, _b) = battery(clock).await;
	let start = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	let end = start + 3 * MINUTE_MS;
	// The chain is down from now until 8 minutes after the window's end.
	let ledger = Arc::new(MemLedger::down_until(clock, end + 8 * MINUTE_MS));
	let dir = tempfile::tempdir().unwrap();
	let d = dispatcher(dir.path(), clock, ledger.clone());
	let store = d.store.clone();
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
	assert_eq!(ledger.delivered(1, 0), Some(landed.delivered_wh));
	assert_eq!(expired.state, ReportState::Expired);
	assert!(expired.attempts > 2, "retried until the deadline: {}", expired.attempts);
	assert!(clock.now_ms() >= end + 8 * MINUTE_MS);
	assert_eq!(store.expired_report_count().unwrap(), 1);
	assert_eq!(store.pending_report_count().unwrap(), 0);
	assert_eq!(d.metrics.reports_expired.load(Ordering::Relaxed), 1);
	let stage = |r| store.dispatch::<Dispatch>(r, 0).unwrap().unwrap().stage;
	assert_eq!((stage(1), stage(2)), (Stage::Done, Stage::Expired));
	// A restarted bridge leaves the expired fill alone.
	let calls = ledger.calls();
	let again: Dispatch = store.dispatch(2, 0).unwrap().unwrap();
	d.clone().run(again, link_b_placeholder(&store)).await;
	assert_eq!(ledger.calls(), calls);
}

/// A link that is never used (the dispatch it is given is finished).
fn link_b_placeholder(_: &Store) -> DeviceLink {
	let device = SunSpecDevice::new(
		"127.0.0.1:9".parse().unwrap(),
		1,
		ControlProfile::Der704,
		Duration::from_millis(10),
	);
	DeviceLink::modbus(device)
}
