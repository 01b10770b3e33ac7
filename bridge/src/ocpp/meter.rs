//! Meter readings out of OCPP 1.6 `MeterValues`.
//!
//! A reading carries two times: the one the device wrote (kept only as information
//! and checked against the bridge's clock) and the one the bridge read on its own
//! clock when the reading arrived, which is the time the bridge files it under.

use rust_ocpp::v1_6::{
	messages::meter_values::MeterValuesRequest,
	types::{Measurand, ReadingContext, SampledValue, UnitOfMeasure},
};
use serde::{Deserialize, Serialize};

/// What one `MeterValue` of a charger says about export, in the bridge's units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MeterSample {
	/// When the device says it measured (market time, Unix ms): information only.
	pub timestamp_ms: u64,
	/// When the reading reached the bridge, on the bridge's market clock (Unix ms).
	pub received_ms: u64,
	/// `Energy.Active.Export.Register` in Wh.
	pub exported_wh: Option<f64>,
	/// `Energy.Active.Import.Register` in Wh.
	pub imported_wh: Option<f64>,
	/// `Power.Active.Export` in W.
	pub power_w: Option<f64>,
	/// `SoC` in percent.
	pub soc_percent: Option<f64>,
	/// Whether the reading is clock-aligned (`Sample.Clock`).
	pub clock_aligned: bool,
}

/// Why a sampled value cannot be used.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum MeterError {
	/// The value is not a number.
	#[error("sampled value {0:?} is not a number")]
	NotANumber(String),
	/// The unit does not fit the measurand.
	#[error("unit {unit:?} does not fit {measurand}")]
	WrongUnit {
		/// The measurand.
		measurand: &'static str,
		/// The unit given.
		unit: UnitOfMeasure,
	},
}

fn number(v: &SampledValue) -> Result<f64, MeterError> {
	v.value
		.trim()
		.parse::<f64>()
		.ok()
		.filter(|x| x.is_finite())
		.ok_or_else(|| MeterError::NotANumber(v.value.clone()))
}

fn energy_wh(v: &SampledValue, measurand: &'static str) -> Result<f64, MeterError> {
	let factor = match v.unit {
		None | Some(UnitOfMeasure::Wh) => 1.0,
		Some(UnitOfMeasure::KWh) => 1000.0,
		Some(ref u) => return Err(MeterError::WrongUnit { measurand, unit: u.clone() }),
	};
	Ok(number(v)? * factor)
}

/// Reads every `MeterValue` of a request; values of other measurands are skipped.
pub fn samples(req: &MeterValuesRequest) -> Result<Vec<MeterSample>, MeterError> {
	let mut out = Vec::with_capacity(req.meter_value.len());
	for mv in &req.meter_value {
		let mut s = MeterSample {
			timestamp_ms: mv.timestamp.timestamp_millis().max(0) as u64,
			..Default::default()
		};
		for v in &mv.sampled_value {
			s.clock_aligned |= v.context == Some(ReadingContext::SampleClock);
			match v.measurand {
				Some(Measurand::EnergyActiveExportRegister) => {
					s.exported_wh = Some(energy_wh(v, "Energy.Active.Export.Register")?);
				},
				Some(Measurand::EnergyActiveImportRegister) => {
					s.imported_wh = Some(energy_wh(v, "Energy.Active.Import.Register")?);
				},
				Some(Measurand::PowerActiveExport) => {
					let factor = match v.unit {
						None | Some(UnitOfMeasure::W) => 1.0,
						Some(UnitOfMeasure::Kw) => 1000.0,
						Some(ref u) => {
							return Err(MeterError::WrongUnit {
								measurand: "Power.Active.Export",
								unit: u.clone(),
							})
						},
					};
					s.power_w = Some(number(v)? * factor);
				},
				Some(Measurand::SoC) => s.soc_percent = Some(number(v)?),
				_ => {},
			}
		}
		out.push(s);
	}
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn reads_export_power_and_soc_in_any_unit() {
		let req: MeterValuesRequest = serde_json::from_value(serde_json::json!({
			"connectorId": 1,
			"meterValue": [{
				"timestamp": "2023-10-02T13:01:00Z",
				"sampledValue": [
					{"value": "1.25", "measurand": "Energy.Active.Export.Register", "unit": "kWh", "context": "Sample.Clock"},
					{"value": "10000", "measurand": "Power.Active.Export", "unit": "W"},
					{"value": "45.5", "measurand": "SoC", "unit": "Percent"},
					{"value": "999"}
				]
			}, {
				"timestamp": "2023-10-02T13:02:00Z",
				"sampledValue": [{"value": "1417", "measurand": "Energy.Active.Export.Register"}]
			}]
		}))
		.unwrap();
		let s = samples(&req).unwrap();
		assert_eq!(s[0].exported_wh, Some(1250.0));
		assert_eq!(s[0].power_w, Some(10_000.0));
		assert_eq!(s[0].soc_percent, Some(45.5));
		assert!(s[0].clock_aligned);
		assert_eq!(s[0].timestamp_ms, 1_696_251_660_000);
		assert_eq!(s[1].exported_wh, Some(1417.0));
		assert!(!s[1].clock_aligned);
	}

	#[test]
	fn rejects_bad_numbers_and_units() {
		let bad = |value: &str, unit: &str| -> MeterValuesRequest {
			serde_json::from_value(serde_json::json!({"connectorId": 1, "meterValue": [{
				"timestamp": "2023-10-02T13:01:00Z",
				"sampledValue": [{"value": value, "measurand": "Energy.Active.Export.Register", "unit": unit}]
			}]}))
			.unwrap()
		};
		assert_eq!(samples(&bad("abc", "Wh")), Err(MeterError::NotANumber("abc".into())));
		assert!(matches!(samples(&bad("1", "A")), Err(MeterError::WrongUnit { .. })));
	}
}
