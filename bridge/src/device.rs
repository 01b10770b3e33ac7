//! The devices the bridge commands: a SunSpec battery or an OCPP charger behind one
//! interface (setpoint until a time, release, reserve, reading, a fresh reading).

use crate::{
	floor::Snapshot,
	ocpp::central::{CentralSystem, OcppError},
	sunspec::client::{DeviceError, SunSpecDevice},
};
use std::sync::Arc;

/// Market seconds after which a Modbus setpoint reverts unless refreshed.
pub const REVERT_S: u32 = 180;
/// Market seconds a Modbus setpoint's reversion timer may run past its window's end
/// (the refresh is one Modbus call away from it).
pub const REVERT_SLACK_S: u64 = 2;

/// Why a command to a device failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
	/// The SunSpec battery.
	#[error(transparent)]
	Modbus(#[from] DeviceError),
	/// The OCPP charger.
	#[error(transparent)]
	Ocpp(#[from] OcppError),
}

/// A device the bridge commands.
#[derive(Clone)]
pub enum DeviceLink {
	/// A SunSpec battery.
	Modbus(Arc<tokio::sync::Mutex<SunSpecDevice>>),
	/// An OCPP charger.
	Ocpp {
		/// The central system it is connected to.
		central: CentralSystem,
		/// Its charge point id.
		id: String,
	},
}

impl DeviceLink {
	/// A link to a SunSpec battery, behind the lock its calls take turns on.
	pub fn modbus(device: SunSpecDevice) -> Self {
		DeviceLink::Modbus(Arc::new(tokio::sync::Mutex::new(device)))
	}

	/// Commands `watts` (positive = export) at market time `now_ms` until `until_ms`:
	/// the battery's reversion timer and the charger's profile end it there on their
	/// own, whatever becomes of the bridge.
	pub async fn command(&self, watts: f64, now_ms: u64, until_ms: u64) -> Result<(), LinkError> {
		match self {
			DeviceLink::Modbus(d) => {
				let left_s = until_ms.saturating_sub(now_ms).div_ceil(1_000) + REVERT_SLACK_S;
				let revert = (REVERT_S as u64).min(left_s) as u32;
				Ok(d.lock().await.set_power(watts, revert).await?)
			},
			DeviceLink::Ocpp { central, id } => {
				Ok(central.set_power_until(id, watts, Some(until_ms)).await?)
			},
		}
	}

	/// Returns the device to its own control.
	pub async fn release(&self) -> Result<(), LinkError> {
		match self {
			DeviceLink::Modbus(d) => Ok(d.lock().await.release().await?),
			DeviceLink::Ocpp { central, id } => Ok(central.set_power(id, 0.0).await?),
		}
	}

	/// Writes the device's own reserve where it offers a point for it; returns the
	/// points written (none for a charger).
	pub async fn set_reserve(&self, percent: f64) -> Result<Vec<&'static str>, LinkError> {
		match self {
			DeviceLink::Modbus(d) => Ok(d.lock().await.set_reserve(percent).await?),
			DeviceLink::Ocpp { .. } => Ok(Vec::new()),
		}
	}

	/// Reads a battery now, at market time `at_ms` (chargers send their readings
	/// themselves: `None`).
	pub async fn read(&self, at_ms: u64) -> Option<Result<Snapshot, LinkError>> {
		match self {
			DeviceLink::Modbus(d) => {
				Some(d.lock().await.reading().await.map_err(LinkError::from).map(|r| Snapshot {
					at_ms,
					exported_wh: r.exported_wh as f64,
					imported_wh: r.imported_wh as f64,
					power_w: r.power_w as f64,
					soc_percent: r.soc_percent,
					capacity_wh: r.capacity_wh,
				}))
			},
			DeviceLink::Ocpp { .. } => None,
		}
	}

	/// Asks a charger for a reading now (it arrives as its meter values); nothing for a
	/// battery, which is read directly.
	pub async fn trigger(&self) -> Result<(), LinkError> {
		match self {
			DeviceLink::Modbus(_) => Ok(()),
			DeviceLink::Ocpp { central, id } => Ok(central.trigger_meter_values(id).await?),
		}
	}

	/// Whether the device is connected now (a battery busy with a call counts as
	/// connected).
	pub fn is_connected(&self) -> bool {
		match self {
			DeviceLink::Modbus(d) => d.try_lock().map(|d| d.is_connected()).unwrap_or(true),
			DeviceLink::Ocpp { central, id } => central.is_connected(id),
		}
	}
}
