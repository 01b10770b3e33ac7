//! SunSpec register maps: the model chain, point offsets and scale factors.
//!
//! Offsets count from a model's id register (its first point is at +2), as in the
//! SunSpec model definitions. Only the points the bridge uses are named here.

/// Where the SunSpec map starts.
pub const BASE_ADDRESS: u16 = 40000;
/// `SunS` marker.
pub const MARKER: [u16; 2] = [0x5375, 0x6E53];
/// Model id that ends the chain.
pub const END_MODEL: u16 = 0xFFFF;
/// Raw int16 value meaning "not implemented" (also for scale factors).
pub const NOT_IMPLEMENTED_I16: u16 = 0x8000;
/// Raw uint16 value meaning "not implemented".
pub const NOT_IMPLEMENTED_U16: u16 = 0xFFFF;
/// Most models the discovery walks before giving up.
pub const MAX_MODELS: usize = 64;

/// Model 1, common: manufacturer, model, serial number.
pub mod common {
	/// Model id.
	pub const ID: u16 = 1;
	/// Length without header.
	pub const LEN: u16 = 66;
	/// Manufacturer, 16 registers of text.
	pub const MN: u16 = 2;
	/// Model, 16 registers of text.
	pub const MD: u16 = 18;
	/// Serial number, 16 registers of text.
	pub const SN: u16 = 50;
}

/// Model 701, DER AC measurement.
pub mod der_measure {
	/// Model id.
	pub const ID: u16 = 701;
	/// Length without header.
	pub const LEN: u16 = 153;
	/// Active power, int16, positive = export.
	pub const W: u16 = 10;
	/// Total energy injected, uint64.
	pub const TOT_WH_INJ: u16 = 19;
	/// Total energy absorbed, uint64.
	pub const TOT_WH_ABS: u16 = 23;
	/// Scale factor of `W`.
	pub const W_SF: u16 = 116;
	/// Scale factor of the energy totals.
	pub const TOT_WH_SF: u16 = 120;
}

/// Model 704, DER AC controls.
pub mod der_control {
	/// Model id.
	pub const ID: u16 = 704;
	/// Length without header.
	pub const LEN: u16 = 65;
	/// Active power setpoint enable (1 = enabled).
	pub const WSET_ENA: u16 = 22;
	/// Setpoint mode (1 = watts).
	pub const WSET_MOD: u16 = 23;
	/// Setpoint, int32 watts (positive = export).
	pub const WSET: u16 = 24;
	/// Reversion setpoint, int32.
	pub const WSET_RVRT: u16 = 26;
	/// Reversion timeout in seconds, uint32.
	pub const WSET_RVRT_TMS: u16 = 31;
	/// Scale factor of the setpoints.
	pub const WSET_SF: u16 = 55;
}

/// Model 713, DER storage capacity.
pub mod der_storage {
	/// Model id.
	pub const ID: u16 = 713;
	/// Length without header.
	pub const LEN: u16 = 7;
	/// Energy rating in Wh.
	pub const WH_RTG: u16 = 2;
	/// State of charge in percent.
	pub const SOC: u16 = 4;
	/// Scale factor of `WH_RTG`.
	pub const WH_SF: u16 = 7;
	/// Scale factor of the percentages.
	pub const PCT_SF: u16 = 8;
}

/// Model 802, battery base model (offsets from the id register).
pub mod battery {
	/// Model id.
	pub const ID: u16 = 802;
	/// Length without header.
	pub const LEN: u16 = 62;
	/// Energy rating in Wh.
	pub const WH_RTG: u16 = 3;
	/// Minimum reserve in percent (writable).
	pub const SOC_RSV_MIN: u16 = 10;
	/// State of charge in percent.
	pub const SOC: u16 = 11;
	/// Scale factor of `WH_RTG`.
	pub const WH_RTG_SF: u16 = 53;
	/// Scale factor of the state-of-charge points.
	pub const SOC_SF: u16 = 56;
}

/// Model 124, basic storage controls.
pub mod storage {
	/// Model id.
	pub const ID: u16 = 124;
	/// Length without header.
	pub const LEN: u16 = 24;
	/// Maximum charge/discharge rate in W.
	pub const W_CHA_MAX: u16 = 2;
	/// Control mode bits: 0 charge limit, 1 discharge limit.
	pub const STOR_CTL_MOD: u16 = 5;
	/// Minimum reserve in percent.
	pub const MIN_RSV_PCT: u16 = 7;
	/// State of charge in percent.
	pub const CHA_STATE: u16 = 8;
	/// Discharge rate in percent of `W_CHA_MAX`, int16.
	pub const OUT_W_RTE: u16 = 12;
	/// Charge rate in percent of `W_CHA_MAX`, int16.
	pub const IN_W_RTE: u16 = 13;
	/// Reversion timeout of the rates in seconds.
	pub const IN_OUT_W_RTE_RVRT_TMS: u16 = 15;
	/// Scale factor of `W_CHA_MAX`.
	pub const W_CHA_MAX_SF: u16 = 18;
	/// Scale factor of `MIN_RSV_PCT`.
	pub const MIN_RSV_PCT_SF: u16 = 21;
	/// Scale factor of `CHA_STATE`.
	pub const CHA_STATE_SF: u16 = 22;
	/// Scale factor of the rates.
	pub const IN_OUT_W_RTE_SF: u16 = 25;
}

/// A scale factor register as an exponent, `None` when not implemented.
pub fn sf(raw: u16) -> Option<i32> {
	(raw != NOT_IMPLEMENTED_I16).then_some(raw as i16 as i32)
}

/// `raw × 10^sf`.
pub fn apply(raw: i64, sf: i32) -> f64 {
	raw as f64 * 10f64.powi(sf)
}

/// The raw integer that represents `value` under `sf`, rounded.
pub fn unapply(value: f64, sf: i32) -> i64 {
	(value / 10f64.powi(sf)).round() as i64
}

/// An int16 point, `None` when not implemented.
pub fn int16(raw: u16) -> Option<i64> {
	(raw != NOT_IMPLEMENTED_I16).then_some(raw as i16 as i64)
}

/// A uint16 point, `None` when not implemented.
pub fn uint16(raw: u16) -> Option<i64> {
	(raw != NOT_IMPLEMENTED_U16).then_some(raw as i64)
}

/// An int32 point from two registers, high word first.
pub fn int32(regs: &[u16]) -> i64 {
	(((regs[0] as u32) << 16) | regs[1] as u32) as i32 as i64
}

/// A uint32 point from two registers, high word first.
pub fn uint32(regs: &[u16]) -> u64 {
	((regs[0] as u64) << 16) | regs[1] as u64
}

/// A uint64 point from four registers, high word first.
pub fn uint64(regs: &[u16]) -> u64 {
	regs[..4].iter().fold(0u64, |acc, r| (acc << 16) | *r as u64)
}

/// Two registers holding an int32.
pub fn int32_regs(v: i32) -> [u16; 2] {
	let u = v as u32;
	[(u >> 16) as u16, u as u16]
}

/// Two registers holding a uint32.
pub fn uint32_regs(v: u32) -> [u16; 2] {
	[(v >> 16) as u16, v as u16]
}

/// Four registers holding a uint64.
pub fn uint64_regs(v: u64) -> [u16; 4] {
	[(v >> 48) as u16, (v >> 32) as u16, (v >> 16) as u16, v as u16]
}

/// Text packed two bytes per register, padded with NULs.
pub fn text_regs(s: &str, regs: usize) -> Vec<u16> {
	let mut bytes = s.as_bytes().to_vec();
	bytes.resize(regs * 2, 0);
	bytes.chunks(2).map(|c| ((c[0] as u16) << 8) | c[1] as u16).collect()
}

/// Text from registers, without trailing NULs.
pub fn text(regs: &[u16]) -> String {
	let bytes: Vec<u8> = regs.iter().flat_map(|r| [(r >> 8) as u8, *r as u8]).collect();
	String::from_utf8_lossy(&bytes).trim_end_matches('\0').trim().to_string()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn scale_factors() {
		assert_eq!(sf(0xFFFE), Some(-2));
		assert_eq!(sf(3), Some(3));
		assert_eq!(sf(NOT_IMPLEMENTED_I16), None);
		assert!((apply(7210, -1) - 721.0).abs() < 1e-9);
		assert_eq!(apply(72, 2), 7200.0);
		assert_eq!(unapply(-10_000.0, 1), -1000);
		assert_eq!(unapply(57.35, -2), 5735);
	}

	#[test]
	fn multi_register_points() {
		assert_eq!(int32(&int32_regs(-10_000)), -10_000);
		assert_eq!(uint32(&uint32_regs(3_000_000_000)), 3_000_000_000);
		assert_eq!(uint64(&uint64_regs(123_456_789_012)), 123_456_789_012);
		assert_eq!(int16(0xFFFF), Some(-1));
		assert_eq!(int16(NOT_IMPLEMENTED_I16), None);
		assert_eq!(uint16(NOT_IMPLEMENTED_U16), None);
		assert_eq!(text(&text_regs("Flexchain", 16)), "Flexchain");
		assert_eq!(text_regs("AB", 2), vec![0x4142, 0]);
	}
}
