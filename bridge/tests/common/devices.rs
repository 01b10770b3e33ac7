//! The devices of the tests: the simulated SunSpec battery served over Modbus TCP, the
//! simulated V2G charger and its car, and the central system they connect to.

use flex_bridge::{
	clock::Clock,
	ocpp::central::{CentralSystem, ChargerConfig, ChargerEvent, DischargeMode},
	sim::{
		battery::{self, Battery, BatteryConfig, SharedBattery},
		charger::{ChargerSim, ChargerSimConfig},
	},
};
use std::{
	net::SocketAddr,
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::{net::TcpListener, sync::mpsc::Receiver};

/// The pilot's home battery at `initial_soc_percent`: 13.5 kWh, 10 kW, its own floor
/// at 5 %, Modbus unit 1, its state of charge in model 713.
pub fn battery_config(serial: &str, initial_soc_percent: f64, clock: Clock) -> BatteryConfig {
	BatteryConfig {
		capacity_wh: 13_500.0,
		initial_soc_percent,
		max_power_w: 10_000.0,
		reserve_soc_percent: 5.0,
		unit_id: 1,
		serial: serial.into(),
		clock,
		soc_model: Default::default(),
	}
}

/// The battery of `config` served over Modbus TCP on a free loopback port: its address
/// and the battery.
pub async fn serve_battery(config: BatteryConfig) -> (SocketAddr, SharedBattery) {
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	let battery = Arc::new(Mutex::new(Battery::new(config)));
	tokio::spawn(battery::serve(listener, battery.clone()));
	(addr, battery)
}

/// A 40 kWh car at `initial_soc_percent` on charger `id` (connector 1, 10 kW, 230 V),
/// which will not go below `reserve_soc_percent`; it connects to the central system at
/// `url` without a password and understands no `DataTransfer`.
pub fn car_config(
	url: &str,
	id: &str,
	initial_soc_percent: f64,
	reserve_soc_percent: f64,
	clock: Clock,
) -> ChargerSimConfig {
	ChargerSimConfig {
		url: url.into(),
		id: id.into(),
		password: None,
		connector: 1,
		capacity_wh: 40_000.0,
		initial_soc_percent,
		max_power_w: 10_000.0,
		reserve_soc_percent,
		voltage: 230.0,
		data_transfer: None,
		clock,
	}
}

/// Starts the simulated charger of `config`: it connects and runs until the test ends.
pub fn run_charger(config: ChargerSimConfig) -> ChargerSim {
	let sim = ChargerSim::new(config);
	tokio::spawn(sim.clone().run());
	sim
}

/// Charger `id` on connector 1, without a password, discharging by negative watts.
pub fn charger(id: &str) -> ChargerConfig {
	ChargerConfig {
		id: id.into(),
		connector: 1,
		password: None,
		discharge: DischargeMode::NegativeWatts,
	}
}

/// A central system for `chargers` serving a free loopback port (clock-aligned meter
/// values every 60 s): it, its events, and its URL without the charger id
/// (`ws://127.0.0.1:…/ocpp`).
pub async fn central(
	chargers: Vec<ChargerConfig>,
	clock: Clock,
	call_timeout: Duration,
) -> (CentralSystem, Receiver<ChargerEvent>, String) {
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("ws://{}/ocpp", listener.local_addr().unwrap());
	let (cs, events) = CentralSystem::new(chargers, clock, call_timeout, 60);
	tokio::spawn(cs.clone().serve(listener));
	(cs, events, url)
}
