//! A SunSpec device over Modbus TCP: model discovery, setpoints, meter readings.
//!
//! Every call runs under a timeout; a transport failure drops the connection and the
//! next call reconnects after a backoff that doubles up to a ceiling. The model map a
//! device advertises is untrusted: register arithmetic is checked, and a map whose
//! models run past the last register, or are too short for the points read, is an
//! error of that device ([`DeviceError::BadMap`]), never a panic.

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
	/// The device's model map cannot be right.
	#[error("bad SunSpec model map: {0}")]
	BadMap(#[from] MapError),
}

/// What is wrong with a device's model map.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
	/// A model runs past register 65535 (or leaves no room for the next header).
	#[error("model {model} at {start} with {len} registers runs past the last register")]
	Overflow {
		/// Model id.
		model: u16,
		/// Address of its id register.
		start: u16,
		/// Its length.
		len: u16,
	},
	/// A model is shorter than a point the bridge reads.
	#[error("model {model} has {len} registers; the point at offset {offset} needs {count}")]
	TooShort {
		/// Model id.
		model: u16,
		/// Its length.
		len: u16,
		/// The point's offset from the id register.
		offset: u16,
		/// Registers read there.
		count: u16,
	},
	/// No end marker after the most models the bridge walks.
	#[error("no end marker within {0} models")]
	NoEnd(usize),
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
	/// Usable capacity in Wh (713 or 802 `WHRtg`), if the device tells.
	#[serde(default)]
	pub capacity_wh: Option<f64>,
}

/// Where a model sits in the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelAt {
	/// Address of its id register.
	pub start: u16,
	/// Its length (registers after the two-register header).
	pub len: u16,
}

/// The model chain found on a device, by model id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Models(pub BTreeMap<u16, ModelAt>);

impl Models {
	/// Adds the model whose header `[id, len]` sits at `start`; returns where the next
	/// header is.
	pub fn push(&mut self, start: u16, id: u16, len: u16) -> Result<u16, MapError> {
		// The next header's two registers must fit below 65536 as well.
		let next = start as u32 + 2 + len as u32;
		if next + 2 > 1 << 16 {
			return Err(MapError::Overflow { model: id, start, len });
		}
		self.0.entry(id).or_insert(ModelAt { start, len });
		Ok(next as u16)
	}

	/// Address of `id`'s id register.
	pub fn start(&self, id: u16) -> Result<u16, DeviceError> {
		self.0.get(&id).map(|m| m.start).ok_or(DeviceError::MissingModel(id))
	}

	/// Address of the point `offset` registers from `id`'s id register, checked to leave
	/// room for `count` registers inside the model.
	pub fn point(&self, id: u16, offset: u16, count: u16) -> Result<u16, DeviceError> {
		let m = self.0.get(&id).ok_or(DeviceError::MissingModel(id))?;
		if offset as u32 + count as u32 > m.len as u32 + 2 {
			return Err(MapError::TooShort { model: id, len: m.len, offset, count }.into());
		}
		// `push` keeps start + 2 + len below 65536, so this fits.
		u16::try_from(m.start as u32 + offset as u32)
			.map_err(|_| MapError::Overflow { model: id, start: m.start, len: m.len }.into())
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
			addr = models.push(addr, header[0], header[1])?;
		}
		Err(MapError::NoEnd(map::MAX_MODELS).into())
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
				let c = |offset, count| models.point(der_control::ID, offset, count);
				let sf = self.scale(c(der_control::WSET_SF, 1)?, "WSet_SF").await?;
				let raw = map::unapply(watts, sf).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
				let revert = map::uint32_regs(revert_s);
				self.write(c(der_control::WSET_RVRT_TMS, 2)?, &revert).await?;
				let [hi, lo] = map::int32_regs(raw);
				self.write(c(der_control::WSET_ENA, 4)?, &[1, 1, hi, lo]).await
			},
			ControlProfile::Storage124 => {
				let s = |offset| models.point(storage::ID, offset, 1);
				let max_raw = self.read(s(storage::W_CHA_MAX)?, 1).await?[0];
				let max_sf = self.scale(s(storage::W_CHA_MAX_SF)?, "WChaMax_SF").await?;
				let rate_sf = self.scale(s(storage::IN_OUT_W_RTE_SF)?, "InOutWRte_SF").await?;
				let max = map::apply(
					map::uint16(max_raw).ok_or(DeviceError::NotImplemented("WChaMax"))?,
					max_sf,
				);
				if max <= 0.0 {
					return Err(DeviceError::NotImplemented("WChaMax"));
				}
				let pct =
					map::unapply((watts.abs() / max * 100.0).min(100.0), rate_sf) as i16 as u16;
				let revert = [revert_s.min(u16::MAX as u32 - 1) as u16];
				self.write(s(storage::IN_OUT_W_RTE_RVRT_TMS)?, &revert).await?;
				let mode = s(storage::STOR_CTL_MOD)?;
				if watts > 0.0 {
					self.write(s(storage::OUT_W_RTE)?, &[pct]).await?;
					self.write(mode, &[0b10]).await
				} else if watts < 0.0 {
					self.write(s(storage::IN_W_RTE)?, &[pct]).await?;
					self.write(mode, &[0b01]).await
				} else {
					self.write(mode, &[0]).await
				}
			},
		}
	}

	/// Returns the device to its own control.
	pub async fn release(&mut self) -> Result<(), DeviceError> {
		let models = self.discover().await?;
		match self.profile {
			ControlProfile::Der704 => {
				self.write(models.point(der_control::ID, der_control::WSET_ENA, 1)?, &[0]).await
			},
			ControlProfile::Storage124 => {
				self.write(models.point(storage::ID, storage::STOR_CTL_MOD, 1)?, &[0]).await
			},
		}
	}

	/// Writes the battery's minimum reserve wherever it offers a point for it: model
	/// 124 `MinRsvPct` and model 802 `SoCRsvMin`. Returns the points written; a device
	/// with neither is [`DeviceError::MissingModel`].
	pub async fn set_reserve(&mut self, percent: f64) -> Result<Vec<&'static str>, DeviceError> {
		let models = self.discover().await?;
		let mut written = Vec::new();
		if models.0.contains_key(&storage::ID) {
			let s = |offset| models.point(storage::ID, offset, 1);
			let sf = self.scale(s(storage::MIN_RSV_PCT_SF)?, "MinRsvPct_SF").await?;
			self.write(s(storage::MIN_RSV_PCT)?, &[map::unapply(percent, sf) as u16]).await?;
			written.push("MinRsvPct");
		}
		if models.0.contains_key(&battery::ID) {
			let b = |offset| models.point(battery::ID, offset, 1);
			let sf = self.scale(b(battery::SOC_SF)?, "SoC_SF").await?;
			self.write(b(battery::SOC_RSV_MIN)?, &[map::unapply(percent, sf) as u16]).await?;
			written.push("SoCRsvMin");
		}
		if written.is_empty() {
			return Err(DeviceError::MissingModel(storage::ID));
		}
		Ok(written)
	}

	/// Reads exported and imported energy, power and state of charge.
	pub async fn reading(&mut self) -> Result<Reading, DeviceError> {
		let models = self.discover().await?;
		let span = der_measure::TOT_WH_ABS + 4 - der_measure::W;
		let regs = self.read(models.point(der_measure::ID, der_measure::W, span)?, span).await?;
		let at = |o: u16| (o - der_measure::W) as usize;
		let sf_span = der_measure::TOT_WH_SF - der_measure::W_SF + 1;
		let sfs =
			self.read(models.point(der_measure::ID, der_measure::W_SF, sf_span)?, sf_span).await?;
		let w_sf = map::sf(sfs[0]).ok_or(DeviceError::NotImplemented("W_SF"))?;
		let wh_sf = map::sf(sfs[(der_measure::TOT_WH_SF - der_measure::W_SF) as usize])
			.ok_or(DeviceError::NotImplemented("TotWh_SF"))?;
		let power = map::int16(regs[at(der_measure::W)]).ok_or(DeviceError::NotImplemented("W"))?;
		let wh = |o: u16| map::apply(map::uint64(&regs[at(o)..]) as i64, wh_sf).round() as u64;
		let (soc_percent, capacity_wh) = self.state_of_charge(&models).await?;
		Ok(Reading {
			exported_wh: wh(der_measure::TOT_WH_INJ),
			imported_wh: wh(der_measure::TOT_WH_ABS),
			power_w: map::apply(power, w_sf).round() as i64,
			soc_percent,
			capacity_wh,
		})
	}

	/// State of charge (percent) and capacity (Wh) from model 713, else 802, else
	/// 124's `ChaState` (without a capacity).
	async fn state_of_charge(
		&mut self,
		models: &Models,
	) -> Result<(Option<f64>, Option<f64>), DeviceError> {
		for points in [SocPoints::DER_STORAGE, SocPoints::BATTERY] {
			if models.0.contains_key(&points.model) {
				let n = points.last() - points.wh_rtg + 1;
				let r = self.read(models.point(points.model, points.wh_rtg, n)?, n).await?;
				let at = |o: u16| r[(o - points.wh_rtg) as usize];
				return Ok((
					scaled(at(points.soc), at(points.soc_sf)),
					scaled(at(points.wh_rtg), at(points.wh_rtg_sf)),
				));
			}
		}
		if models.0.contains_key(&storage::ID) {
			let v = self.read(models.point(storage::ID, storage::CHA_STATE, 1)?, 1).await?[0];
			let sf = self.read(models.point(storage::ID, storage::CHA_STATE_SF, 1)?, 1).await?[0];
			Ok((scaled(v, sf), None))
		} else {
			Ok((None, None))
		}
	}
}

/// An unsigned point scaled by its scale factor; `None` where either is not implemented.
fn scaled(v: u16, sf: u16) -> Option<f64> {
	map::uint16(v).zip(map::sf(sf)).map(|(v, sf)| map::apply(v, sf))
}

/// Where a model keeps the state of charge and the rated capacity, and their scale
/// factors (offsets in the model; the capacity comes first).
struct SocPoints {
	model: u16,
	wh_rtg: u16,
	wh_rtg_sf: u16,
	soc: u16,
	soc_sf: u16,
}

impl SocPoints {
	/// Model 713, DER storage capacity.
	const DER_STORAGE: SocPoints = SocPoints {
		model: der_storage::ID,
		wh_rtg: der_storage::WH_RTG,
		wh_rtg_sf: der_storage::WH_SF,
		soc: der_storage::SOC,
		soc_sf: der_storage::PCT_SF,
	};
	/// Model 802, battery base.
	const BATTERY: SocPoints = SocPoints {
		model: battery::ID,
		wh_rtg: battery::WH_RTG,
		wh_rtg_sf: battery::WH_RTG_SF,
		soc: battery::SOC,
		soc_sf: battery::SOC_SF,
	};

	/// The last of the points: one read from `wh_rtg` to it takes them all.
	fn last(&self) -> u16 {
		self.wh_rtg_sf.max(self.soc).max(self.soc_sf)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn models_near_the_last_register_are_refused_not_wrapped() {
		let mut m = Models::default();
		assert_eq!(m.push(40002, 1, 66), Ok(40070));
		// Lengths that run past 65535 (or leave no room for the next header).
		for (start, len) in [(40070, 0xFFFF), (40070, 0xFFFE), (0xFFF0, 13), (0xFFFE, 0)] {
			assert_eq!(
				m.push(start, 701, len),
				Err(MapError::Overflow { model: 701, start, len }),
				"{start} {len}"
			);
		}
		assert_eq!(m.push(0xFFF0, 713, 10), Ok(0xFFFC));
		// A model too short for the points read from it.
		assert_eq!(m.point(713, 4, 6).unwrap(), 0xFFF4);
		assert!(matches!(
			m.point(713, 8, 5),
			Err(DeviceError::BadMap(MapError::TooShort {
				model: 713,
				len: 10,
				offset: 8,
				count: 5
			}))
		));
		assert!(matches!(m.point(701, 0, 1), Err(DeviceError::MissingModel(701))));
		assert_eq!(m.point(1, 2, 66).unwrap(), 40004);
		assert!(m.point(1, 2, 67).is_err());
	}
}
