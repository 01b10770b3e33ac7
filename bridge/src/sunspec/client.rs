//! A SunSpec device over Modbus TCP: model discovery, setpoints, meter readings.
//!
//! Every call runs under a timeout; a transport failure drops the connection and the
//! next call reconnects after a backoff that doubles up to a ceiling.

use crate::sunspec::map::{self, battery, der_control, der_measure, der_storage, storage};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, net::SocketAddr, time::Duration};
use tokio::time::{timeout, Instant};
use tokio_modbus::{
	client::{tcp, Context, Reader, Writer},
	prelude::{ExceptionCode, Slave},
};

/// Which SunSpec controls command the power.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlProfile {
	/// Model 704 active power setpoint (`WSet`), the default.
	#[default]
	Der704,
	/// Model 124 basic storage controls (`OutWRte` / `InWRte` in percent of `WChaMax`).
	Storage124,
}

/// What went wrong talking to a device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
	/// The device did not answer in time.
	#[error("no answer within {0:?}")]
	Timeout(Duration),
	/// The TCP connection failed.
	#[error("connection failed: {0}")]
	Transport(String),
	/// Waiting before the next connection attempt.
	#[error("reconnecting, next attempt in {0:?}")]
	Backoff(Duration),
	/// The device answered with a Modbus exception.
	#[error("device exception {0:?}")]
	Exception(ExceptionCode),
	/// No `SunS` marker at 40000.
	#[error("no SunSpec map at 40000")]
	NotSunSpec,
	/// A model the operation needs is missing.
	#[error("the device lacks SunSpec model {0}")]
	MissingModel(u16),
	/// A point the operation needs reads as not implemented.
	#[error("point {0} is not implemented")]
	NotImplemented(&'static str),
}

/// One reading of the meter and the battery.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
	/// Energy exported since manufacture, Wh.
	pub exported_wh: u64,
	/// Energy imported since manufacture, Wh.
	pub imported_wh: u64,
	/// Active power now, W (positive = export).
	pub power_w: i64,
	/// State of charge in percent, if the device tells.
	pub soc_percent: Option<f64>,
}

/// The model chain found on a device: model id to the address of its id register.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Models(pub BTreeMap<u16, u16>);

impl Models {
	/// Address of `id`'s id register.
	pub fn start(&self, id: u16) -> Result<u16, DeviceError> {
		self.0.get(&id).copied().ok_or(DeviceError::MissingModel(id))
	}
}

/// A SunSpec device at a Modbus TCP address.
pub struct SunSpecDevice {
	addr: SocketAddr,
	unit: u8,
	profile: ControlProfile,
	call_timeout: Duration,
	ctx: Option<Context>,
	models: Option<Models>,
	backoff: Duration,
	next_attempt: Option<Instant>,
}

/// Shortest wait before reconnecting.
const MIN_BACKOFF: Duration = Duration::from_millis(200);
/// Longest wait before reconnecting.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl SunSpecDevice {
	/// A device that connects on first use.
	pub fn new(
		addr: SocketAddr,
		unit: u8,
		profile: ControlProfile,
		call_timeout: Duration,
	) -> Self {
		Self {
			addr,
			unit,
			profile,
			call_timeout,
			ctx: None,
			models: None,
			backoff: MIN_BACKOFF,
			next_attempt: None,
		}
	}

	/// Whether a connection is open.
	pub fn is_connected(&self) -> bool {
		self.ctx.is_some()
	}

	async fn context(&mut self) -> Result<&mut Context, DeviceError> {
		if self.ctx.is_none() {
			if let Some(at) = self.next_attempt {
				let now = Instant::now();
				if at > now {
					return Err(DeviceError::Backoff(at - now));
				}
			}
			match timeout(self.call_timeout, tcp::connect_slave(self.addr, Slave(self.unit))).await
			{
				Ok(Ok(ctx)) => {
					self.ctx = Some(ctx);
					self.backoff = MIN_BACKOFF;
					self.next_attempt = None;
				},
				Ok(Err(e)) => return Err(self.failed(DeviceError::Transport(e.to_string()))),
				Err(_) => return Err(self.failed(DeviceError::Timeout(self.call_timeout))),
			}
		}
		Ok(self.ctx.as_mut().expect("connected above"))
	}

	fn failed(&mut self, err: DeviceError) -> DeviceError {
		self.ctx = None;
		self.models = None;
		self.next_attempt = Some(Instant::now() + self.backoff);
		self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
		err
	}

	/// Reads `count` holding registers.
	pub async fn read(&mut self, addr: u16, count: u16) -> Result<Vec<u16>, DeviceError> {
		let limit = self.call_timeout;
		let ctx = self.context().await?;
		match timeout(limit, ctx.read_holding_registers(addr, count)).await {
			Ok(Ok(Ok(regs))) if regs.len() == count as usize => Ok(regs),
			Ok(Ok(Ok(_))) => Err(self.failed(DeviceError::Transport("short read".into()))),
			Ok(Ok(Err(code))) => Err(DeviceError::Exception(code)),
			Ok(Err(e)) => Err(self.failed(DeviceError::Transport(e.to_string()))),
			Err(_) => Err(self.failed(DeviceError::Timeout(limit))),
		}
	}

	/// Writes holding registers.
	pub async fn write(&mut self, addr: u16, values: &[u16]) -> Result<(), DeviceError> {
		let limit = self.call_timeout;
		let ctx = self.context().await?;
		match timeout(limit, ctx.write_multiple_registers(addr, values)).await {
			Ok(Ok(Ok(()))) => Ok(()),
			Ok(Ok(Err(code))) => Err(DeviceError::Exception(code)),
			Ok(Err(e)) => Err(self.failed(DeviceError::Transport(e.to_string()))),
			Err(_) => Err(self.failed(DeviceError::Timeout(limit))),
		}
	}

	/// Walks the model chain from 40000 (cached until the connection drops).
	pub async fn discover(&mut self) -> Result<Models, DeviceError> {
		if let Some(m) = &self.models {
			return Ok(m.clone());
		}
		if self.read(map::BASE_ADDRESS, 2).await? != map::MARKER {
			return Err(DeviceError::NotSunSpec);
		}
		let mut models = Models::default();
		let mut addr = map::BASE_ADDRESS + 2;
		for _ in 0..map::MAX_MODELS {
			let header = self.read(addr, 2).await?;
			if header[0] == map::END_MODEL {
				self.models = Some(models.clone());
				return Ok(models);
			}
			models.0.entry(header[0]).or_insert(addr);
			addr = addr.checked_add(2 + header[1]).ok_or(DeviceError::NotSunSpec)?;
		}
		Err(DeviceError::NotSunSpec)
	}

	async fn scale(&mut self, addr: u16, name: &'static str) -> Result<i32, DeviceError> {
		map::sf(self.read(addr, 1).await?[0]).ok_or(DeviceError::NotImplemented(name))
	}

	/// Commands `watts` (positive = export / discharge), reverting to zero after
	/// `revert_s` seconds unless commanded again.
	pub async fn set_power(&mut self, watts: f64, revert_s: u32) -> Result<(), DeviceError> {
		let models = self.discover().await?;
		match self.profile {
			ControlProfile::Der704 => {
				let c = models.start(der_control::ID)?;
				let sf = self.scale(c + der_control::WSET_SF, "WSet_SF").await?;
				let raw = map::unapply(watts, sf).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
				self.write(c + der_control::WSET_RVRT_TMS, &map::uint32_regs(revert_s)).await?;
				let [hi, lo] = map::int32_regs(raw);
				self.write(c + der_control::WSET_ENA, &[1, 1, hi, lo]).await
			},
			ControlProfile::Storage124 => {
				let s = models.start(storage::ID)?;
				let max_raw = self.read(s + storage::W_CHA_MAX, 1).await?[0];
				let max_sf = self.scale(s + storage::W_CHA_MAX_SF, "WChaMax_SF").await?;
				let rate_sf = self.scale(s + storage::IN_OUT_W_RTE_SF, "InOutWRte_SF").await?;
				let max = map::apply(
					map::uint16(max_raw).ok_or(DeviceError::NotImplemented("WChaMax"))?,
					max_sf,
				);
				if max <= 0.0 {
					return Err(DeviceError::NotImplemented("WChaMax"));
				}
				let pct =
					map::unapply((watts.abs() / max * 100.0).min(100.0), rate_sf) as i16 as u16;
				self.write(
					s + storage::IN_OUT_W_RTE_RVRT_TMS,
					&[revert_s.min(u16::MAX as u32 - 1) as u16],
				)
				.await?;
				if watts > 0.0 {
					self.write(s + storage::OUT_W_RTE, &[pct]).await?;
					self.write(s + storage::STOR_CTL_MOD, &[0b10]).await
				} else if watts < 0.0 {
					self.write(s + storage::IN_W_RTE, &[pct]).await?;
					self.write(s + storage::STOR_CTL_MOD, &[0b01]).await
				} else {
					self.write(s + storage::STOR_CTL_MOD, &[0]).await
				}
			},
		}
	}

	/// Returns the device to its own control.
	pub async fn release(&mut self) -> Result<(), DeviceError> {
		let models = self.discover().await?;
		match self.profile {
			ControlProfile::Der704 => {
				self.write(models.start(der_control::ID)? + der_control::WSET_ENA, &[0]).await
			},
			ControlProfile::Storage124 => {
				self.write(models.start(storage::ID)? + storage::STOR_CTL_MOD, &[0]).await
			},
		}
	}

	/// Sets the battery's minimum reserve (model 124 `MinRsvPct`), if it has one.
	pub async fn set_reserve(&mut self, percent: f64) -> Result<(), DeviceError> {
		let s = self.discover().await?.start(storage::ID)?;
		let sf = self.scale(s + storage::MIN_RSV_PCT_SF, "MinRsvPct_SF").await?;
		self.write(s + storage::MIN_RSV_PCT, &[map::unapply(percent, sf) as u16]).await
	}

	/// Reads exported and imported energy, power and state of charge.
	pub async fn reading(&mut self) -> Result<Reading, DeviceError> {
		let models = self.discover().await?;
		let m = models.start(der_measure::ID)?;
		let regs =
			self.read(m + der_measure::W, der_measure::TOT_WH_ABS + 4 - der_measure::W).await?;
		let at = |o: u16| (o - der_measure::W) as usize;
		let sfs = self
			.read(m + der_measure::W_SF, der_measure::TOT_WH_SF - der_measure::W_SF + 1)
			.await?;
		let w_sf = map::sf(sfs[0]).ok_or(DeviceError::NotImplemented("W_SF"))?;
		let wh_sf = map::sf(sfs[(der_measure::TOT_WH_SF - der_measure::W_SF) as usize])
			.ok_or(DeviceError::NotImplemented("TotWh_SF"))?;
		let power = map::int16(regs[at(der_measure::W)]).ok_or(DeviceError::NotImplemented("W"))?;
		let wh = |o: u16| map::apply(map::uint64(&regs[at(o)..]) as i64, wh_sf).round() as u64;
		let soc_percent = if let Ok(c) = models.start(der_storage::ID) {
			let r =
				self.read(c + der_storage::SOC, der_storage::PCT_SF - der_storage::SOC + 1).await?;
			match (map::uint16(r[0]), map::sf(r[(der_storage::PCT_SF - der_storage::SOC) as usize]))
			{
				(Some(v), Some(sf)) => Some(map::apply(v, sf)),
				_ => None,
			}
		} else if let Ok(b) = models.start(battery::ID) {
			let r = self.read(b + battery::SOC, battery::SOC_SF - battery::SOC + 1).await?;
			match (map::uint16(r[0]), map::sf(r[(battery::SOC_SF - battery::SOC) as usize])) {
				(Some(v), Some(sf)) => Some(map::apply(v, sf)),
				_ => None,
			}
		} else if let Ok(s) = models.start(storage::ID) {
			let v = self.read(s + storage::CHA_STATE, 1).await?[0];
			let sf = self.read(s + storage::CHA_STATE_SF, 1).await?[0];
			map::uint16(v).zip(map::sf(sf)).map(|(v, sf)| map::apply(v, sf))
		} else {
			None
		};
		Ok(Reading {
			exported_wh: wh(der_measure::TOT_WH_INJ),
			imported_wh: wh(der_measure::TOT_WH_ABS),
			power_w: map::apply(power, w_sf).round() as i64,
			soc_percent,
		})
	}
}
