//! The OCPP 1.6J central system against the simulated V2G charge point and a raw
//! WebSocket client: handshake rules, framing errors, one call at a time, timeouts,
//! discharge in W, A and by DataTransfer, reconnection, and the pilot's car
//! delivering below its contract because of its state-of-charge floor.

mod common;

use common::{
	devices::{self, car_config, central, run_charger},
	ocpp::{accepted, connect, next_json, wait_for, Ws},
	until,
};
use flex_bridge::{
	clock::Clock,
	metering::{self, MINUTE_MS},
	ocpp::central::{ChargerConfig, ChargerEvent, DischargeMode, OcppError},
	sim::charger::{ChargerSim, ChargerSimConfig},
};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

const SCALE: f64 = 300.0;

fn charger(id: &str, discharge: DischargeMode) -> ChargerConfig {
	ChargerConfig { discharge, ..devices::charger(id) }
}

fn pilot_car(url: &str, id: &str, clock: Clock) -> ChargerSimConfig {
	// A 40 kWh car at 47.425 %: 6.97 kWh above the pilot's 30 % floor.
	ChargerSimConfig {
		data_transfer: Some(("org.flexchain".into(), "SetDischargePower".into())),
		..car_config(url, id, 47.425, 30.0, clock)
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_fill_charges_the_car_and_meters_the_import_register() {
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let (cs, mut events, url) = central(
		vec![charger("V2G-DOWN", DischargeMode::NegativeWatts)],
		clock,
		Duration::from_secs(5),
	)
	.await;
	let sim = run_charger(pilot_car(&url, "V2G-DOWN", clock));
	wait_for(&mut events, |e| matches!(e, ChargerEvent::Booted { .. })).await;
	// Metering configured (interval, aligned and sampled measurands): no call of the
	// bridge's is in flight when the window starts.
	until(|| {
		let s = sim.state.lock().unwrap();
		s.aligned_measurands.len() == 4 && s.received.get("ChangeConfiguration") >= Some(&3)
	})
	.await;

	let start_ms = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	// Half a minute before the first reading counted: the command's round trip (real
	// milliseconds, seconds at 300x) cannot race the reading on the minute.
	clock.sleep_until(start_ms - MINUTE_MS / 2).await;
	// Charging is a positive limit in W: 6 kW into the car for 10 minutes = 1 kWh.
	cs.set_power("V2G-DOWN", -6_000.0).await.unwrap();
	assert_eq!(sim.state.lock().unwrap().storage.power_w, -6_000.0);
	let schedule = cs.composite_schedule("V2G-DOWN", 600).await.unwrap();
	let limit = &schedule.charging_schedule.unwrap().charging_schedule_period[0].limit;
	assert_eq!(limit.to_string().parse::<f64>().unwrap(), 6_000.0);
	let mut imported = Vec::new();
	while let ChargerEvent::Meter { sample, .. } =
		wait_for(&mut events, |e| matches!(e, ChargerEvent::Meter { .. })).await
	{
		if sample.clock_aligned && sample.timestamp_ms >= start_ms {
			imported.push((sample.imported_wh.unwrap(), sample.exported_wh.unwrap()));
		}
		if sample.timestamp_ms >= start_ms + 10 * MINUTE_MS {
			break;
		}
	}
	cs.set_power("V2G-DOWN", 0.0).await.unwrap();
	let charged = imported.last().unwrap().0 - imported.first().unwrap().0;
	assert!((990.0..=1_010.0).contains(&charged), "charged {charged} Wh");
	assert_eq!(imported.last().unwrap().1, imported.first().unwrap().1, "nothing exported");
	let soc = sim.state.lock().unwrap().storage.soc_percent();
	// 10.5 minutes at 6 kW: 1.05 kWh of 40 kWh.
	assert!((soc - (47.425 + 2.625)).abs() < 0.1, "SoC {soc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pilot_car_discharges_to_its_floor_and_delivers_93_percent() {
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let (cs, mut events, url) = central(
		vec![charger("V2G-1", DischargeMode::NegativeWatts)],
		clock,
		Duration::from_secs(5),
	)
	.await;
	let sim = run_charger(pilot_car(&url, "V2G-1", clock));
	wait_for(&mut events, |e| matches!(e, ChargerEvent::Booted { .. })).await;
	until(|| sim.state.lock().unwrap().aligned_interval_s == 60).await;

	let start_ms = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	let end_ms = start_ms + 45 * MINUTE_MS;
	clock.sleep_until(start_ms).await;
	cs.set_power("V2G-1", 10_000.0).await.unwrap();
	assert_eq!(sim.state.lock().unwrap().storage.setpoint_w, 10_000.0);
	let schedule = cs.composite_schedule("V2G-1", 2700).await.unwrap();
	let limit = &schedule.charging_schedule.unwrap().charging_schedule_period[0].limit;
	assert_eq!(limit.to_string().parse::<f64>().unwrap(), -10_000.0);

	let mut registers = Vec::new();
	while let ChargerEvent::Meter { sample, .. } =
		wait_for(&mut events, |e| matches!(e, ChargerEvent::Meter { .. })).await
	{
		if sample.timestamp_ms >= start_ms && sample.timestamp_ms <= end_ms {
			registers.push((
				sample.timestamp_ms,
				sample.exported_wh.unwrap(),
				sample.soc_percent.unwrap(),
			));
		}
		if sample.timestamp_ms >= end_ms {
			break;
		}
	}
	cs.set_power("V2G-1", 0.0).await.unwrap();
	assert_eq!(sim.state.lock().unwrap().storage.setpoint_w, 0.0);
	let delivered = registers.last().unwrap().1 - registers.first().unwrap().1;
	println!(
		"V2G: {delivered} Wh of 7500 Wh contracted ({:.1} %), {} clock-aligned samples",
		delivered / 75.0,
		registers.len()
	);
	assert!(registers.len() >= 40, "{} samples", registers.len());
	assert!((6_900.0..=6_970.0).contains(&delivered), "delivered {delivered} Wh");
	assert!((registers.last().unwrap().2 - 30.0).abs() < 0.1, "SoC ends at the 30 % floor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebooted_charger_gets_its_profile_again_and_other_discharge_modes_work() {
	let clock = Clock::real();
	let chargers = vec![
		charger("W", DischargeMode::NegativeWatts),
		charger("AMPS", DischargeMode::NegativeAmps { phases: 3, voltage: 230.0 }),
		charger(
			"DT",
			DischargeMode::DataTransfer {
				vendor_id: "org.flexchain".into(),
				message_id: "SetDischargePower".into(),
			},
		),
	];
	let (cs, mut events, url) = central(chargers, clock, Duration::from_secs(5)).await;
	let sims: Vec<ChargerSim> =
		["W", "AMPS", "DT"].iter().map(|id| run_charger(pilot_car(&url, id, clock))).collect();
	until(|| cs.connected().len() == 3).await;
	for (s, id) in sims.iter().zip(["W", "AMPS", "DT"]) {
		until(|| s.state.lock().unwrap().aligned_interval_s == 60).await;
		cs.set_power(id, 10_000.0).await.unwrap();
		let w = s.state.lock().unwrap().storage.setpoint_w;
		assert!((w - 10_000.0).abs() < 25.0, "{id}: {w} W");
	}

	let w = &sims[0];
	w.reboot();
	wait_for(&mut events, |e| matches!(e, ChargerEvent::Disconnected { id } if id == "W")).await;
	wait_for(&mut events, |e| matches!(e, ChargerEvent::Connected { id } if id == "W")).await;
	until(|| w.state.lock().unwrap().storage.setpoint_w == 10_000.0).await;
	let (sessions, profiles) = {
		let s = w.state.lock().unwrap();
		(s.sessions, s.received["SetChargingProfile"])
	};
	assert_eq!(sessions, 2);
	assert!(profiles >= 2, "{profiles} profiles");
	cs.trigger_meter_values("W").await.unwrap();
	wait_for(
		&mut events,
		|e| matches!(e, ChargerEvent::Meter { id, sample, .. } if id == "W" && !sample.clock_aligned),
	)
	.await;
	assert!(matches!(cs.set_power("nobody", 1.0).await, Err(OcppError::Unknown(_))));
}

/// Charge point `id` of the central system at `url`, frame by frame.
async fn raw(url: &str, id: &str, subprotocol: bool, auth: Option<&str>) -> Result<Ws, String> {
	connect(&format!("{url}/{id}"), subprotocol, auth).await
}

/// Reads frames until one answers `id` (the central system may send its own CALLs meanwhile).
async fn answer_to(ws: &mut Ws, id: &str) -> Value {
	loop {
		let v = next_json(ws).await;
		if v[0] != 2 && v[1] == id {
			return v;
		}
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_rules_framing_errors_and_one_call_at_a_time() {
	let mut secured = charger("SEC", DischargeMode::NegativeWatts);
	secured.password = Some("s3cret".into());
	let (cs, _events, url) = central(
		vec![charger("RAW", DischargeMode::NegativeWatts), secured],
		Clock::real(),
		Duration::from_millis(800),
	)
	.await;

	assert!(raw(&url, "STRANGER", true, None).await.unwrap_err().contains("404"));
	assert!(raw(&url, "RAW", false, None).await.unwrap_err().contains("400"));
	assert!(raw(&url, "SEC", true, None).await.unwrap_err().contains("401"));
	let wrong = format!("Basic {}", base64_of("SEC:nope"));
	assert!(raw(&url, "SEC", true, Some(&wrong)).await.unwrap_err().contains("401"));
	let right = format!("Basic {}", base64_of("SEC:s3cret"));
	raw(&url, "SEC", true, Some(&right)).await.unwrap();

	let mut ws = raw(&url, "RAW", true, None).await.unwrap();
	ws.send(Message::text("this is not json")).await.unwrap();
	let v = answer_to(&mut ws, "-1").await;
	assert_eq!((v[0].as_u64(), v[2].as_str()), (Some(4), Some("FormationViolation")));
	ws.send(Message::text(r#"[2,"a1","FlyToTheMoon",{}]"#)).await.unwrap();
	assert_eq!(answer_to(&mut ws, "a1").await[2], "NotImplemented");
	ws.send(Message::text(r#"[2,"a2","BootNotification",{"chargePointVendor":"X"}]"#))
		.await
		.unwrap();
	assert_eq!(answer_to(&mut ws, "a2").await[2], "FormationViolation");
	ws.send(Message::text(r#"[2,"a3","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2023-10-02T13:00:00Z","sampledValue":[{"value":"lots","measurand":"SoC"}]}]}]"#)).await.unwrap();
	assert_eq!(answer_to(&mut ws, "a3").await[2], "PropertyConstraintViolation");
	// The connection stays up and answers the next valid call.
	ws.send(Message::text(r#"[2,"a4","Heartbeat",{}]"#)).await.unwrap();
	let v = answer_to(&mut ws, "a4").await;
	assert_eq!(v[0], 3);
	assert!(v[2]["currentTime"].is_string());

	// Let the resume calls (metering configuration) time out unanswered first.
	tokio::time::sleep(Duration::from_millis(2_000)).await;
	while let Ok(Some(Ok(_))) = timeout(Duration::from_millis(100), ws.next()).await {}
	// Two commands at once: the charger sees the second only after answering the first.
	let (a, b) = (cs.clone(), cs.clone());
	let first = tokio::spawn(async move { a.trigger_meter_values("RAW").await });
	let call1 = next_json(&mut ws).await;
	let second = tokio::spawn(async move { b.trigger_meter_values("RAW").await });
	assert_eq!(call1[2], "TriggerMessage");
	assert!(
		timeout(Duration::from_millis(300), ws.next()).await.is_err(),
		"no second CALL while one is open"
	);
	ws.send(accepted(&call1)).await.unwrap();
	first.await.unwrap().unwrap();
	let call2 = next_json(&mut ws).await;
	assert_eq!(call2[2], "TriggerMessage");
	ws.send(Message::text(json!([4, call2[1], "NotSupported", "no", {}]).to_string()))
		.await
		.unwrap();
	assert!(matches!(second.await.unwrap(), Err(OcppError::CallError { .. })));
	// Nobody answers: the call times out and the next one can go.
	let t = cs.trigger_meter_values("RAW").await;
	assert!(matches!(t, Err(OcppError::Timeout(..))), "{t:?}");
	// A charger that rejects the discharge profile: the command fails with the reason.
	let c = cs.clone();
	let set = tokio::spawn(async move { c.set_power("RAW", 5_000.0).await });
	let call = loop {
		let v = next_json(&mut ws).await;
		if v[2] == "SetChargingProfile" {
			break v;
		}
	};
	assert_eq!(call[3]["csChargingProfiles"]["chargingSchedule"]["chargingRateUnit"], "W");
	assert_eq!(
		call[3]["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
			.as_f64(),
		Some(-5000.0)
	);
	ws.send(Message::text(json!([3, call[1], {"status": "Rejected"}]).to_string())).await.unwrap();
	let r = set.await.unwrap();
	assert!(
		matches!(&r, Err(OcppError::Refused(_, "SetChargingProfile", why)) if why.contains("Rejected")),
		"{r:?}"
	);
}

fn base64_of(s: &str) -> String {
	use base64::Engine as _;
	base64::engine::general_purpose::STANDARD.encode(s)
}
