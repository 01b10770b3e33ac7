//! Dispatch, metering and reporting against the simulated devices at 300x market
//! time, with a ledger in memory in place of the chain (the chain itself is in
//! `chain_e2e.rs`): the pilot's two fills, a battery that drops off the network
//! mid-window (its reversion timer stops it), a charger that reboots mid-window,
//! report retries, and a restarted dispatcher that posts nothing twice.

mod common;

use common::{
	devices::{battery_config, car_config, run_charger, serve_battery},
	dispatch::{dispatcher, fill, metered_charger},
	ledger::MemLedger,
};
use flex_bridge::{
	chain::Fill,
	clock::Clock,
	dispatch::{DeviceLink, Dispatch, Stage},
	metering::{self, MINUTE_MS},
	store::ReportState,
	sunspec::client::{ControlProfile, SunSpecDevice},
};
use std::{
	sync::{atomic::Ordering, Arc},
	time::Duration,
};

const SCALE: f64 = 300.0;

/// The pilot's fill: 10 kW for 45 minutes at 0.10 FLEX per kWh, reported within 15
/// minutes of its end.
fn pilot_fill(request: u32, asset: u32, start_ms: u64) -> Fill {
	Fill {
		offer: asset as u64,
		price: 100_000_000_000,
		cost: 750_000_000_000,
		..fill(request, asset, start_ms, 45, 15 * MINUTE_MS)
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_battery_offline_mid_window_reverts_and_is_paid_for_what_it_metered() {
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let (addr, bat) = serve_battery(battery_config("D-BAT", 73.4, clock)).await;
	let dir = tempfile::tempdir().unwrap();
	let ledger = Arc::new(MemLedger::failing_first(2));
	let d = dispatcher(dir.path(), clock, ledger.clone());
	let store = d.store.clone();
	let device = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_millis(500));
	let link = DeviceLink::modbus(device);
	tokio::spawn(d.clone().meter(1, link.clone()));
	let start = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	let job = tokio::spawn(
		d.clone().run(Dispatch::new(pilot_fill(1, 1, start), Some(20.0)), link.clone()),
	);

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
	assert_eq!(ledger.delivered(1, 0), Some(report.delivered_wh));
	let samples = store.samples(1, start, start + 45 * MINUTE_MS).unwrap();
	assert_eq!(hex::encode(metering::samples_root(1, &samples)), report.samples_root);
	let log = store.commands(100).unwrap();
	assert!(log.iter().any(|c| c.command == "power 10000 W" && c.reason == "window start"));
	assert!(log.iter().any(|c| c.outcome != "ok"), "failed refreshes are logged");

	// A restarted bridge finds the fill done and posts nothing; one whose report was
	// built but not confirmed posts the same report and the chain keeps the first.
	let calls = ledger.calls();
	let done: Dispatch = store.dispatch(1, 0).unwrap().unwrap();
	assert_eq!(done.stage, Stage::Done);
	d.clone().run(done.clone(), link.clone()).await;
	assert_eq!(ledger.calls(), calls);
	let mut pending = report.clone();
	pending.state = ReportState::Pending;
	store.update_report(&pending).unwrap();
	d.clone().run(Dispatch { stage: Stage::Reported, ..done }, link).await;
	assert_eq!(ledger.calls(), calls + 1);
	assert_eq!(ledger.report_count(), 1);
	assert_eq!(store.report(1, 0).unwrap().unwrap().state, ReportState::Posted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pilot_car_reboots_mid_window_gets_its_profile_again_and_stops_at_its_floor() {
	// Slower than the battery's test: a reconnect takes real milliseconds.
	let clock = Clock::scaled(Clock::real_now_ms(), 60.0);
	let dir = tempfile::tempdir().unwrap();
	let ledger = Arc::new(MemLedger::default());
	let d = dispatcher(dir.path(), clock, ledger.clone());
	let store = d.store.clone();
	let (link, url) = metered_charger(&d, "V2G-1", 2, Duration::from_secs(5)).await;
	let car = run_charger(car_config(&url, "V2G-1", 47.425, 10.0, clock));
	let start = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	// The car's own floor is 10 %; the bridge stops it at the asset's 30 %.
	let job = tokio::spawn(d.clone().run(Dispatch::new(pilot_fill(2, 2, start), Some(30.0)), link));
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
	assert_eq!(ledger.report_count(), 1);
}
