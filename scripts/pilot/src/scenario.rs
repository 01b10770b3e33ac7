//! The scenarios the demo can run: the field pilot, and a competitive market.

/// How a simulated device is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
	/// A stationary battery behind a SunSpec Modbus TCP server (`sim-battery`).
	ModbusBattery,
	/// A V2G charge point speaking OCPP 1.6J (`sim-charger`).
	OcppCharger,
}

/// One FSP with one asset and its offer.
#[derive(Clone, Debug)]
pub struct AssetPlan {
	/// Name in the report.
	pub name: &'static str,
	/// The FSP's key (a secret URI derived from the dev seed).
	pub fsp: &'static str,
	/// The device.
	pub device: Device,
	/// Usable capacity, Wh.
	pub capacity_wh: f64,
	/// State of charge at start, percent.
	pub soc_percent: f64,
	/// Minimum state of charge registered with the asset, percent.
	pub min_soc_percent: u8,
	/// Offered (and maximum) power, W.
	pub offer_w: u32,
	/// Offered price, thousandths of a FLEX per kWh.
	pub price_milli: u128,
	/// Divisible down to this power, W (all-or-nothing otherwise).
	pub divisible_min_w: Option<u32>,
	/// Drops off the network this many minutes into the window, for this many minutes.
	pub offline: Option<(u64, u64)>,
	/// What this asset shows.
	pub role: &'static str,
}

/// A scenario: the DSO's request and the FSPs' assets.
#[derive(Clone, Debug)]
pub struct Scenario {
	/// Its name on the command line.
	pub name: &'static str,
	/// One line about it.
	pub title: &'static str,
	/// Requested power, W.
	pub request_w: u32,
	/// The DSO's price ceiling, thousandths of a FLEX per kWh.
	pub max_price_milli: u128,
	/// Whether a partial cover is acceptable.
	pub partial: bool,
	/// Window length, minutes.
	pub window_min: u64,
	/// Penalty below this delivery rate (percent), at this share (percent) of the
	/// undelivered energy's value; none in the pilot.
	pub penalty: Option<(u32, u32)>,
	/// The transformer's base load factor on the shipped profile.
	pub base_scale: f64,
	/// The assets.
	pub assets: Vec<AssetPlan>,
}

/// The EFLEX field pilot (2 October 2023): 20 kW for 45 minutes from a battery and a
/// V2G charger, both at 0.10 per kWh; both stop early at their state-of-charge floors.
pub fn pilot() -> Scenario {
	Scenario {
		name: "pilot",
		title: "EFLEX field pilot: 20 kW for 45 minutes from a battery (Modbus) and a V2G charger (OCPP 1.6J)",
		request_w: 20_000,
		max_price_milli: 210,
		partial: false,
		window_min: 45,
		penalty: None,
		base_scale: 1.8,
		assets: vec![
			AssetPlan {
				name: "Battery (Modbus)",
				fsp: "//FSP-battery",
				device: Device::ModbusBattery,
				// 7,209 Wh above the 20 % floor.
				capacity_wh: 13_500.0,
				soc_percent: 73.4,
				min_soc_percent: 20,
				offer_w: 10_000,
				price_milli: 100,
				divisible_min_w: None,
				offline: None,
				role: "stops at its 20 % floor",
			},
			AssetPlan {
				name: "V2G charger (OCPP)",
				fsp: "//FSP-v2g",
				device: Device::OcppCharger,
				// 6,970 Wh above the car's 30 % floor.
				capacity_wh: 40_000.0,
				soc_percent: 47.425,
				min_soc_percent: 30,
				offer_w: 10_000,
				price_milli: 100,
				divisible_min_w: None,
				offline: None,
				role: "stops at the car's 30 % floor",
			},
		],
	}
}

/// Five FSPs compete for 35 kW: merit order picks the cheapest, one device drops off
/// the network for ten minutes, one car runs out of charge, and both are penalised.
pub fn competition() -> Scenario {
	let battery = |name, fsp, soc, price_milli, role| AssetPlan {
		name,
		fsp,
		device: Device::ModbusBattery,
		capacity_wh: 13_500.0,
		soc_percent: soc,
		min_soc_percent: 20,
		offer_w: 10_000,
		price_milli,
		divisible_min_w: None,
		offline: None,
		role,
	};
	let car = |name, fsp, soc, price_milli, role| AssetPlan {
		name,
		fsp,
		device: Device::OcppCharger,
		capacity_wh: 40_000.0,
		soc_percent: soc,
		min_soc_percent: 30,
		offer_w: 10_000,
		price_milli,
		divisible_min_w: None,
		offline: None,
		role,
	};
	Scenario {
		name: "competition",
		title: "Five FSPs compete for 35 kW; one drops offline, one runs out of charge (penalty 20 % below 90 %)",
		request_w: 35_000,
		max_price_milli: 210,
		partial: false,
		window_min: 45,
		penalty: Some((90, 20)),
		base_scale: 1.8,
		assets: vec![
			battery("Battery A (Modbus)", "//FSP-a", 90.0, 80, "cheapest, delivers in full"),
			AssetPlan {
				offline: Some((15, 10)),
				..battery("Battery B (Modbus)", "//FSP-b", 90.0, 90, "offline minutes 15-25")
			},
			car("V2G C (OCPP)", "//FSP-c", 36.0, 110, "car reaches its 30 % floor early"),
			AssetPlan {
				divisible_min_w: Some(2_000),
				..battery("Battery D (Modbus)", "//FSP-d", 80.0, 140, "divisible, takes the rest")
			},
			car("V2G E (OCPP)", "//FSP-e", 80.0, 250, "above the DSO's 0.21 ceiling"),
		],
	}
}

/// The scenario called `name`.
pub fn by_name(name: &str) -> Option<Scenario> {
	[pilot(), competition()].into_iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_pilot_matches_its_figures() {
		let p = pilot();
		let above_floor =
			|a: &AssetPlan| a.capacity_wh * (a.soc_percent - a.min_soc_percent as f64) / 100.0;
		assert!((above_floor(&p.assets[0]) - 7_209.0).abs() < 0.5);
		assert!((above_floor(&p.assets[1]) - 6_970.0).abs() < 0.5);
		assert_eq!(p.assets.iter().map(|a| a.offer_w).sum::<u32>(), p.request_w);
		assert!(by_name("competition").is_some() && by_name("nope").is_none());
	}
}
