//! A stationary battery behind a SunSpec Modbus TCP server.
//!
//! Serves models 1 (common), 701 (measurement), 704 (DER controls), 713 (storage
//! capacity) and 124 (basic storage controls) from 40000. Setpoints written to 704 or
//! 124 drive the [`Storage`] physics on the shared market clock; reversion timers
//! undo them when the controller goes quiet.

use crate::{
	clock::Clock,
	sim::physics::Storage,
	sunspec::map::{self, battery, common, der_control, der_measure, der_storage, storage},
};
use std::{
	future::{ready, Ready},
	net::SocketAddr,
	sync::{Arc, Mutex},
};
use tokio::net::TcpListener;
use tokio_modbus::{
	prelude::{ExceptionCode, Request, Response, SlaveRequest},
	server::{tcp::Server, Service},
};

/// Scale factor the simulator uses for percentages (tenths of a percent).
const PCT_SF: i16 = -1;
/// Scale factor of `WChaMax` (tens of watts).
const W_CHA_MAX_SF: i16 = 1;

/// What the simulated battery is.
#[derive(Clone, Debug)]
pub struct BatteryConfig {
	/// Usable capacity in Wh.
	pub capacity_wh: f64,
	/// State of charge at start, percent.
	pub initial_soc_percent: f64,
	/// Largest charge and discharge power in W.
	pub max_power_w: f64,
	/// The battery's own floor, percent (the bridge may raise it through `MinRsvPct`).
	pub reserve_soc_percent: f64,
	/// Modbus unit id.
	pub unit_id: u8,
	/// Serial number shown in model 1.
	pub serial: String,
	/// The market clock.
	pub clock: Clock,
	/// Where it publishes its state of charge besides model 124.
	pub soc_model: SocModel,
}

/// The model carrying the state of charge (besides 124's `ChaState`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SocModel {
	/// Model 713, DER storage capacity.
	#[default]
	#[value(name = "713")]
	DerStorage713,
	/// Model 802, battery base model.
	#[value(name = "802")]
	Battery802,
}

/// Start addresses of each model's id register.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
	/// Model 1.
	pub common: u16,
	/// Model 701.
	pub measure: u16,
	/// Model 704.
	pub control: u16,
	/// Model 713 or 802.
	pub capacity: u16,
	/// Model 124.
	pub storage: u16,
	/// The end marker.
	pub end: u16,
}

impl Layout {
	fn new(soc_model: SocModel) -> Self {
		let common = map::BASE_ADDRESS + 2;
		let measure = common + 2 + common::LEN;
		let control = measure + 2 + der_measure::LEN;
		let capacity = control + 2 + der_control::LEN;
		let storage = capacity
			+ 2 + match soc_model {
			SocModel::DerStorage713 => der_storage::LEN,
			SocModel::Battery802 => battery::LEN,
		};
		let end = storage + 2 + storage::LEN;
		Self { common, measure, control, capacity, storage, end }
	}
}

/// The simulated battery: registers and physics.
#[derive(Debug)]
pub struct Battery {
	config: BatteryConfig,
	layout: Layout,
	regs: Vec<u16>,
	/// The physics.
	pub storage: Storage,
	revert_at_ms: Option<u64>,
	online: bool,
	/// Whether reserve writes (`MinRsvPct`, `SoCRsvMin`) become the battery's floor.
	own_floor: bool,
}

impl Battery {
	/// A battery at rest at its initial state of charge.
	pub fn new(config: BatteryConfig) -> Self {
		let now = config.clock.now_ms();
		let storage = Storage::new(
			config.capacity_wh,
			config.initial_soc_percent / 100.0,
			config.max_power_w,
			config.reserve_soc_percent / 100.0,
			now,
		);
		let layout = Layout::new(config.soc_model);
		let mut regs = vec![0u16; (layout.end + 2 - map::BASE_ADDRESS) as usize];
		let mut b = Self {
			config,
			layout,
			regs: Vec::new(),
			storage,
			revert_at_ms: None,
			online: true,
			own_floor: true,
		};
		std::mem::swap(&mut b.regs, &mut regs);
		b.build();
		b
	}

	fn put(&mut self, addr: u16, values: &[u16]) {
		let at = (addr - map::BASE_ADDRESS) as usize;
		self.regs[at..at + values.len()].copy_from_slice(values);
	}

	fn get(&self, addr: u16) -> u16 {
		self.regs[(addr - map::BASE_ADDRESS) as usize]
	}

	fn build(&mut self) {
		let l = self.layout;
		self.put(map::BASE_ADDRESS, &map::MARKER);
		self.put(l.common, &[common::ID, common::LEN]);
		self.put(l.common + common::MN, &map::text_regs("Flexchain", 16));
		self.put(l.common + common::MD, &map::text_regs("SimBattery", 16));
		self.put(l.common + common::SN, &map::text_regs(&self.config.serial.clone(), 16));
		self.put(l.measure, &[der_measure::ID, der_measure::LEN]);
		self.put(l.measure + der_measure::W_SF, &[0]);
		self.put(l.measure + der_measure::TOT_WH_SF, &[0]);
		self.put(l.control, &[der_control::ID, der_control::LEN]);
		self.put(l.control + der_control::WSET_SF, &[0]);
		let wh_rtg = (self.config.capacity_wh / 10.0).round() as u16;
		match self.config.soc_model {
			SocModel::DerStorage713 => {
				self.put(l.capacity, &[der_storage::ID, der_storage::LEN]);
				self.put(l.capacity + der_storage::WH_RTG, &[wh_rtg]);
				self.put(l.capacity + der_storage::WH_SF, &[1]);
				self.put(l.capacity + der_storage::PCT_SF, &[PCT_SF as u16]);
			},
			SocModel::Battery802 => {
				self.put(l.capacity, &[battery::ID, battery::LEN]);
				self.put(l.capacity + battery::WH_RTG, &[wh_rtg]);
				self.put(l.capacity + battery::WH_RTG_SF, &[1]);
				self.put(l.capacity + battery::SOC_SF, &[PCT_SF as u16]);
				self.put(
					l.capacity + battery::SOC_RSV_MIN,
					&[map::unapply(self.config.reserve_soc_percent, PCT_SF as i32) as u16],
				);
			},
		}
		self.put(l.storage, &[storage::ID, storage::LEN]);
		self.put(
			l.storage + storage::W_CHA_MAX,
			&[map::unapply(self.config.max_power_w, W_CHA_MAX_SF as i32) as u16],
		);
		self.put(
			l.storage + storage::MIN_RSV_PCT,
			&[map::unapply(self.config.reserve_soc_percent, PCT_SF as i32) as u16],
		);
		self.put(l.storage + storage::W_CHA_MAX_SF, &[W_CHA_MAX_SF as u16]);
		self.put(l.storage + storage::MIN_RSV_PCT_SF, &[PCT_SF as u16]);
		self.put(l.storage + storage::CHA_STATE_SF, &[PCT_SF as u16]);
		self.put(l.storage + storage::IN_OUT_W_RTE_SF, &[PCT_SF as u16]);
		self.put(l.end, &[map::END_MODEL, 0]);
		self.refresh();
	}

	/// Where each model sits.
	pub fn layout(&self) -> Layout {
		self.layout
	}

	/// With `false`, the battery takes reserve writes but enforces no floor of its own
	/// (beyond its configured reserve): the bridge alone must stop it.
	pub fn set_own_floor(&mut self, own_floor: bool) {
		self.own_floor = own_floor;
	}

	/// Takes the battery off the network (it refuses connections and requests).
	pub fn set_online(&mut self, online: bool) {
		self.online = online;
	}

	/// Advances the physics to now and updates the measurement points.
	pub fn refresh(&mut self) {
		let now = self.config.clock.now_ms();
		self.storage.advance(now);
		if self.revert_at_ms.is_some_and(|r| r <= now) {
			self.revert_at_ms = None;
			self.put(self.layout.control + der_control::WSET_ENA, &[0]);
			self.put(self.layout.storage + storage::STOR_CTL_MOD, &[0]);
		}
		let l = self.layout;
		let s = &self.storage;
		let (w, exp, imp, soc) = (
			s.power_w.round() as i16 as u16,
			s.exported_wh.floor() as u64,
			s.imported_wh.floor() as u64,
			s.soc_percent(),
		);
		self.put(l.measure + der_measure::W, &[w]);
		self.put(l.measure + der_measure::TOT_WH_INJ, &map::uint64_regs(exp));
		self.put(l.measure + der_measure::TOT_WH_ABS, &map::uint64_regs(imp));
		let soc_raw = map::unapply(soc, PCT_SF as i32) as u16;
		let soc_at = match self.config.soc_model {
			SocModel::DerStorage713 => der_storage::SOC,
			SocModel::Battery802 => battery::SOC,
		};
		self.put(l.capacity + soc_at, &[soc_raw]);
		self.put(l.storage + storage::CHA_STATE, &[soc_raw]);
	}

	/// Reads `count` registers from `addr`.
	pub fn read(&mut self, addr: u16, count: u16) -> Result<Vec<u16>, ExceptionCode> {
		let start =
			addr.checked_sub(map::BASE_ADDRESS).ok_or(ExceptionCode::IllegalDataAddress)? as usize;
		if count == 0 || count > 125 || start + count as usize > self.regs.len() {
			return Err(ExceptionCode::IllegalDataAddress);
		}
		self.refresh();
		Ok(self.regs[start..start + count as usize].to_vec())
	}

	fn writable(&self, addr: u16) -> bool {
		let (c, s) = (self.layout.control, self.layout.storage);
		let control = [
			der_control::WSET_ENA,
			der_control::WSET_MOD,
			der_control::WSET,
			der_control::WSET + 1,
			der_control::WSET_RVRT,
			der_control::WSET_RVRT + 1,
			der_control::WSET_RVRT_TMS,
			der_control::WSET_RVRT_TMS + 1,
		];
		let stor = [
			storage::STOR_CTL_MOD,
			storage::MIN_RSV_PCT,
			storage::OUT_W_RTE,
			storage::IN_W_RTE,
			storage::IN_OUT_W_RTE_RVRT_TMS,
		];
		let reserve_802 = self.config.soc_model == SocModel::Battery802
			&& addr == self.layout.capacity + battery::SOC_RSV_MIN;
		control.iter().any(|o| c + o == addr) || stor.iter().any(|o| s + o == addr) || reserve_802
	}

	/// Writes registers from `addr` and applies the resulting setpoint.
	pub fn write(&mut self, addr: u16, values: &[u16]) -> Result<(), ExceptionCode> {
		if values.is_empty()
			|| !(0..values.len() as u16).all(|i| self.writable(addr.wrapping_add(i)))
		{
			return Err(ExceptionCode::IllegalDataAddress);
		}
		let backup = self.regs.clone();
		self.put(addr, values);
		if let Err(e) = self.apply() {
			self.regs = backup;
			return Err(e);
		}
		Ok(())
	}

	fn apply(&mut self) -> Result<(), ExceptionCode> {
		let (c, s) = (self.layout.control, self.layout.storage);
		let pct = |raw: u16| map::apply(raw as i16 as i64, PCT_SF as i32);
		let mut reserve = pct(self.get(s + storage::MIN_RSV_PCT));
		if self.config.soc_model == SocModel::Battery802 {
			reserve = reserve.max(pct(self.get(self.layout.capacity + battery::SOC_RSV_MIN)));
		}
		if !(0.0..=100.0).contains(&reserve) {
			return Err(ExceptionCode::IllegalDataValue);
		}
		if !self.own_floor {
			reserve = 0.0;
		}
		let max = self.config.max_power_w;
		let (setpoint, revert_s) = if self.get(c + der_control::WSET_ENA) == 1 {
			if self.get(c + der_control::WSET_MOD) != 1 {
				return Err(ExceptionCode::IllegalDataValue);
			}
			let at = (c + der_control::WSET - map::BASE_ADDRESS) as usize;
			let w = map::int32(&self.regs[at..at + 2]) as f64;
			let at = (c + der_control::WSET_RVRT_TMS - map::BASE_ADDRESS) as usize;
			(w, map::uint32(&self.regs[at..at + 2]))
		} else {
			let mode = self.get(s + storage::STOR_CTL_MOD);
			let rvrt = self.get(s + storage::IN_OUT_W_RTE_RVRT_TMS) as u64;
			match mode & 0b11 {
				0 => (0.0, 0),
				0b10 => (pct(self.get(s + storage::OUT_W_RTE)) / 100.0 * max, rvrt),
				0b01 => (-pct(self.get(s + storage::IN_W_RTE)) / 100.0 * max, rvrt),
				_ => return Err(ExceptionCode::IllegalDataValue),
			}
		};
		if setpoint.abs() > max + 0.5 {
			return Err(ExceptionCode::IllegalDataValue);
		}
		let now = self.config.clock.now_ms();
		self.storage.reserve_soc = reserve.max(self.config.reserve_soc_percent) / 100.0;
		self.storage.command(now, setpoint, Some(revert_s));
		self.revert_at_ms = (revert_s > 0).then_some(now + revert_s * 1000);
		self.refresh();
		Ok(())
	}

	fn handle(&mut self, req: SlaveRequest<'_>) -> Result<Response, ExceptionCode> {
		if !self.online {
			return Err(ExceptionCode::ServerDeviceBusy);
		}
		if req.slave != self.config.unit_id {
			return Err(ExceptionCode::GatewayTargetDevice);
		}
		match req.request {
			Request::ReadHoldingRegisters(addr, n) => {
				self.read(addr, n).map(Response::ReadHoldingRegisters)
			},
			Request::WriteSingleRegister(addr, v) => {
				self.write(addr, &[v]).map(|_| Response::WriteSingleRegister(addr, v))
			},
			Request::WriteMultipleRegisters(addr, values) => {
				let n = values.len() as u16;
				self.write(addr, &values).map(|_| Response::WriteMultipleRegisters(addr, n))
			},
			_ => Err(ExceptionCode::IllegalFunction),
		}
	}
}

/// A battery shared between the Modbus server and its owner.
pub type SharedBattery = Arc<Mutex<Battery>>;

#[derive(Clone)]
struct BatteryService(SharedBattery);

impl Service for BatteryService {
	type Request = SlaveRequest<'static>;
	type Response = Response;
	type Exception = ExceptionCode;
	type Future = Ready<Result<Response, ExceptionCode>>;

	fn call(&self, req: Self::Request) -> Self::Future {
		let result = match self.0.lock() {
			Ok(mut b) => b.handle(req),
			Err(_) => Err(ExceptionCode::ServerDeviceFailure),
		};
		ready(result)
	}
}

/// Serves the battery over Modbus TCP on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, battery: SharedBattery) -> std::io::Result<()> {
	let server = Server::new(listener);
	let on_connected = |stream, addr: SocketAddr| {
		let battery = battery.clone();
		async move {
			tokio_modbus::server::tcp::accept_tcp_connection(stream, addr, |_| {
				Ok(Some(BatteryService(battery.clone())))
			})
		}
	};
	server
		.serve(
			&on_connected,
			|err| tracing::warn!(target: "sim-battery", "connection ended: {err}"),
		)
		.await
}

#[cfg(test)]
mod tests {
	use super::*;

	fn battery() -> Battery {
		Battery::new(BatteryConfig {
			capacity_wh: 13_500.0,
			initial_soc_percent: 73.4,
			max_power_w: 10_000.0,
			reserve_soc_percent: 5.0,
			unit_id: 1,
			serial: "B-1".into(),
			clock: Clock::real(),
			soc_model: Default::default(),
		})
	}

	#[test]
	fn the_map_walks_from_40000_to_the_end() {
		let mut b = battery();
		assert_eq!(b.read(40000, 2).unwrap(), map::MARKER.to_vec());
		let mut addr = 40002;
		let mut ids = Vec::new();
		loop {
			let h = b.read(addr, 2).unwrap();
			if h[0] == map::END_MODEL {
				break;
			}
			ids.push(h[0]);
			addr += 2 + h[1];
		}
		assert_eq!(ids, vec![1, 701, 704, 713, 124]);
		assert_eq!(b.read(39999, 2), Err(ExceptionCode::IllegalDataAddress));
		assert_eq!(b.read(addr, 3), Err(ExceptionCode::IllegalDataAddress));
	}

	#[test]
	fn writes_only_to_control_points_with_valid_values() {
		let mut b = battery();
		let l = b.layout();
		assert_eq!(
			b.write(l.measure + der_measure::W, &[5]),
			Err(ExceptionCode::IllegalDataAddress)
		);
		// 20 kW is beyond the battery's 10 kW: refused and nothing changes.
		let mut v = vec![1, 1];
		v.extend(map::int32_regs(20_000));
		assert_eq!(
			b.write(l.control + der_control::WSET_ENA, &v),
			Err(ExceptionCode::IllegalDataValue)
		);
		assert_eq!(b.get(l.control + der_control::WSET_ENA), 0);
		let mut v = vec![1, 1];
		v.extend(map::int32_regs(10_000));
		b.write(l.control + der_control::WSET_ENA, &v).unwrap();
		assert_eq!(b.storage.setpoint_w, 10_000.0);
		assert_eq!(b.read(l.measure + der_measure::W, 1).unwrap(), vec![10_000]);
		// 124: discharge at 50 % of WChaMax.
		b.write(l.control + der_control::WSET_ENA, &[0]).unwrap();
		b.write(l.storage + storage::OUT_W_RTE, &[500]).unwrap();
		b.write(l.storage + storage::STOR_CTL_MOD, &[0b10]).unwrap();
		assert_eq!(b.storage.setpoint_w, 5_000.0);
	}
}
