//! The SunSpec client against the simulated battery over real Modbus TCP: discovery,
//! setpoints through model 704 and 124, reversion, exceptions, reconnects, the
//! pilot's battery delivering below its contract because of its state-of-charge floor,
//! and devices whose model maps run past the last register.

mod common;

use common::{
	devices::{battery_config, serve_battery},
	dispatch::dispatcher,
	ledger::MemLedger,
};
use flex_bridge::{
	clock::Clock,
	dispatch::DeviceLink,
	metering::{self, Register, Sample, MINUTE_MS},
	sim::battery::{self, Battery, BatteryConfig, SocModel},
	store::Store,
	sunspec::{
		client::{ControlProfile, DeviceError, MapError, SunSpecDevice},
		map,
	},
};
use std::{
	collections::HashMap,
	future::{ready, Ready},
	net::SocketAddr,
	sync::{atomic::Ordering, Arc, Mutex},
	time::Duration,
};
use tokio::net::TcpListener;
use tokio_modbus::{
	prelude::{ExceptionCode, Request, Response, SlaveRequest},
	server::{tcp::Server, Service},
};

/// Market seconds per real second in these tests.
const SCALE: f64 = 300.0;

fn pilot_battery(clock: Clock) -> BatteryConfig {
	// 13.5 kWh at 73.4 %: 7.209 kWh above the pilot's 20 % floor.
	battery_config("PILOT-BAT", 73.4, clock)
}

async fn sample(dev: &mut SunSpecDevice, at_ms: u64) -> Sample {
	let r = dev.reading().await.unwrap();
	Sample {
		at_ms,
		exported_wh: r.exported_wh,
		imported_wh: r.imported_wh,
		power_w: r.power_w,
		soc_permille: r.soc_percent.map(|p| (p * 10.0).round() as u16),
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pilot_battery_stops_at_its_floor_and_delivers_96_percent() {
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let (addr, battery) = serve_battery(pilot_battery(clock)).await;
	let dir = tempfile::tempdir().unwrap();
	let store = Store::open(&dir.path().join("bridge.redb")).unwrap();
	let mut dev = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_secs(2));
	let models = dev.discover().await.unwrap();
	assert_eq!(models.0.keys().copied().collect::<Vec<_>>(), vec![1, 124, 701, 704, 713]);

	let start_ms = metering::minute_of(clock.now_ms()) + 2 * MINUTE_MS;
	let end_ms = start_ms + 45 * MINUTE_MS;
	clock.sleep_until(start_ms).await;
	// Baseline first, then the command: the window's energy is what follows it.
	store.put_sample(1, &sample(&mut dev, start_ms).await).unwrap();
	dev.set_reserve(20.0).await.unwrap();
	dev.set_power(10_000.0, 120).await.unwrap();
	let mut minute = start_ms;
	let mut stopped_at = None;
	while minute < end_ms {
		minute += MINUTE_MS;
		clock.sleep_until(minute).await;
		let s = sample(&mut dev, minute).await;
		store.put_sample(1, &s).unwrap();
		if stopped_at.is_none() && s.soc_permille.is_some_and(|p| p <= 200) {
			stopped_at = Some((minute - start_ms) / MINUTE_MS);
			dev.set_power(0.0, 0).await.unwrap();
		} else if stopped_at.is_none() {
			// Refresh before the 120 s reversion timer runs out.
			dev.set_power(10_000.0, 120).await.unwrap();
		}
	}
	dev.release().await.unwrap();
	let samples = store.samples(1, start_ms, end_ms).unwrap();
	let delivered = metering::delivered_wh(&samples, start_ms, end_ms, Register::Export);
	println!("battery: {delivered} Wh of 7500 Wh contracted ({:.1} %), floor reached in minute {stopped_at:?}", delivered as f64 / 75.0);
	// 7.209 kWh lie above the 20 % floor; the integer TotWhInj register and the
	// 300x clock may cut the last watt-hour either side of a minute boundary.
	assert!(
		(7_205..=7_210).contains(&delivered),
		"7.5 kWh contracted, 7.209 kWh above the 20 % floor: {delivered}"
	);
	assert!(matches!(stopped_at, Some(43..=45)), "{stopped_at:?}");
	assert!(samples.len() >= 40, "{} samples", samples.len());
	let b = battery.lock().unwrap();
	assert!((b.storage.soc_percent() - 20.0).abs() < 0.01);
	assert_eq!(b.storage.setpoint_w, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_controls_reversion_and_device_exceptions() {
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let (addr, battery) = serve_battery(pilot_battery(clock)).await;
	let mut dev = SunSpecDevice::new(addr, 1, ControlProfile::Storage124, Duration::from_secs(2));
	dev.set_power(5_000.0, 60).await.unwrap();
	assert_eq!(battery.lock().unwrap().storage.setpoint_w, 5_000.0);
	let r = dev.reading().await.unwrap();
	assert_eq!(r.power_w, 5_000);
	assert!((r.soc_percent.unwrap() - 73.4).abs() < 0.2);
	// Nobody refreshes: after 60 market seconds the battery reverts to idle.
	clock.sleep_until(clock.now_ms() + 70_000).await;
	assert_eq!(dev.reading().await.unwrap().power_w, 0);

	let mut der = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_secs(2));
	match der.set_power(25_000.0, 60).await {
		Err(DeviceError::Exception(ExceptionCode::IllegalDataValue)) => {},
		other => panic!("expected IllegalDataValue, got {other:?}"),
	}
	assert_eq!(battery.lock().unwrap().storage.setpoint_w, 0.0, "a refused write changes nothing");
	let mut wrong_unit =
		SunSpecDevice::new(addr, 9, ControlProfile::Der704, Duration::from_secs(2));
	assert!(matches!(wrong_unit.discover().await, Err(DeviceError::Exception(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reconnects_with_backoff() {
	let clock = Clock::real();
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	drop(listener);
	let mut dev = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_millis(500));
	assert!(matches!(dev.reading().await, Err(DeviceError::Transport(_))));
	assert!(matches!(dev.reading().await, Err(DeviceError::Backoff(_))));
	// The battery comes up on that address; after the backoff the client gets through.
	let listener = TcpListener::bind(addr).await.unwrap();
	let battery = Arc::new(Mutex::new(Battery::new(pilot_battery(clock))));
	tokio::spawn(battery::serve(listener, battery.clone()));
	tokio::time::sleep(Duration::from_millis(450)).await;
	let r = dev.reading().await.unwrap();
	assert_eq!(r.exported_wh, 0);
	assert!(dev.is_connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_of_charge_from_the_battery_base_model_802() {
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let config = BatteryConfig { soc_model: SocModel::Battery802, ..pilot_battery(clock) };
	let (addr, battery) = serve_battery(config).await;
	let mut dev = SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_secs(2));
	let models = dev.discover().await.unwrap();
	assert_eq!(models.0.keys().copied().collect::<Vec<_>>(), vec![1, 124, 701, 704, 802]);
	let r = dev.reading().await.unwrap();
	assert!((r.soc_percent.unwrap() - 73.4).abs() < 0.2, "{r:?}");
	// The SoC follows the physics through model 802 as the battery discharges.
	dev.set_power(10_000.0, 120).await.unwrap();
	clock.sleep_until(clock.now_ms() + 100_000).await;
	let r = dev.reading().await.unwrap();
	let physics = battery.lock().unwrap().storage.soc_percent();
	// 10 kW for 100 s is 278 Wh, 2.1 % of 13.5 kWh.
	assert!((71.0..72.0).contains(&r.soc_percent.unwrap()), "{r:?}");
	assert!((r.soc_percent.unwrap() - physics).abs() < 0.5, "{r:?} vs {physics}");
}

/// A Modbus server serving fixed registers (zero where unset), as a device with a
/// hostile model map would.
#[derive(Clone)]
struct Registers(Arc<HashMap<u16, u16>>);

impl Service for Registers {
	type Request = SlaveRequest<'static>;
	type Response = Response;
	type Exception = ExceptionCode;
	type Future = Ready<Result<Response, ExceptionCode>>;

	fn call(&self, req: Self::Request) -> Self::Future {
		ready(match req.request {
			Request::ReadHoldingRegisters(addr, n) if addr as u32 + n as u32 <= 1 << 16 => {
				Ok(Response::ReadHoldingRegisters(
					(0..n).map(|i| self.0.get(&(addr + i)).copied().unwrap_or(0)).collect(),
				))
			},
			Request::ReadHoldingRegisters(..) => Err(ExceptionCode::IllegalDataAddress),
			_ => Err(ExceptionCode::IllegalFunction),
		})
	}
}

/// Serves `headers` (address, model id, length) after the `SunS` marker.
async fn hostile(headers: &[(u16, u16, u16)]) -> SocketAddr {
	let mut regs = HashMap::from([(40000, map::MARKER[0]), (40001, map::MARKER[1])]);
	for (addr, id, len) in headers {
		regs.insert(*addr, *id);
		regs.insert(addr + 1, *len);
	}
	let registers = Registers(Arc::new(regs));
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	let on_connected = move |stream, peer: SocketAddr| {
		let registers = registers.clone();
		async move {
			tokio_modbus::server::tcp::accept_tcp_connection(stream, peer, |_| {
				Ok(Some(registers.clone()))
			})
		}
	};
	tokio::spawn(async move { Server::new(listener).serve(&on_connected, |_| {}).await });
	addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_map_running_past_the_last_register_is_an_error_of_that_device() {
	let device = |addr| SunSpecDevice::new(addr, 1, ControlProfile::Der704, Duration::from_secs(2));
	// Model 701 claims 65535 registers: 40070 + 2 + 65535 wraps a u16.
	let addr = hostile(&[(40002, 1, 66), (40070, 701, 0xFFFF)]).await;
	let r = device(addr).discover().await;
	assert!(
		matches!(
			r,
			Err(DeviceError::BadMap(MapError::Overflow { model: 701, start: 40070, len: 0xFFFF }))
		),
		"{r:?}"
	);
	// Model 701 at the top of the address space, too short for its points: reading
	// `W_SF` at offset 116 from 65472 would wrap.
	let top = 65_472;
	let short =
		hostile(&[(40002, 1, top - 40_004), (top, 701, 0), (top + 2, map::END_MODEL, 0)]).await;
	let mut dev = device(short);
	assert_eq!(dev.discover().await.unwrap().0.keys().copied().collect::<Vec<_>>(), vec![1, 701]);
	let r = dev.reading().await;
	assert!(matches!(r, Err(DeviceError::BadMap(MapError::TooShort { model: 701, .. }))), "{r:?}");
	// A model 704 whose setpoint points lie past its length.
	let addr = hostile(&[(40002, 704, 10), (40014, map::END_MODEL, 0)]).await;
	let r = device(addr).set_power(1_000.0, 60).await;
	assert!(matches!(r, Err(DeviceError::BadMap(MapError::TooShort { model: 704, .. }))), "{r:?}");
	// A chain without end.
	let endless: Vec<(u16, u16, u16)> = (0..70).map(|i| (40002 + 2 * i, 900 + i, 0)).collect();
	let r = device(hostile(&endless).await).discover().await;
	assert!(matches!(r, Err(DeviceError::BadMap(MapError::NoEnd(_)))), "{r:?}");

	// The meter task of such a device keeps running and counts the failed readings.
	let clock = Clock::scaled(Clock::real_now_ms(), 120.0);
	let dir = tempfile::tempdir().unwrap();
	let d = dispatcher(dir.path(), clock, Arc::new(MemLedger::default()));
	let link = DeviceLink::modbus(device(short));
	let task = tokio::spawn(d.clone().meter(1, link));
	clock.sleep_until(clock.now_ms() + 3 * MINUTE_MS + 10_000).await;
	assert!(!task.is_finished(), "the meter task did not die");
	assert!(d.metrics.readings_failed.load(Ordering::Relaxed) >= 2);
	assert_eq!(d.store.sample_count().unwrap(), 0);
	task.abort();
}
