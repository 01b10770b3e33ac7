//! Simulated devices: a SunSpec battery and an OCPP 1.6J V2G charge point.

pub mod battery;
pub mod charger;
pub mod physics;

/// Checks the storage and clock arguments both simulators take.
pub fn check_args(
	scale: f64,
	capacity_wh: f64,
	soc: f64,
	reserve: f64,
) -> Result<(), &'static str> {
	let percent = |p: f64| (0.0..=100.0).contains(&p);
	if scale.is_nan()
		|| scale <= 0.0
		|| capacity_wh.is_nan()
		|| capacity_wh <= 0.0
		|| !percent(soc)
		|| !percent(reserve)
	{
		return Err(
			"--scale and --capacity-wh must be above 0, --soc and --reserve between 0 and 100",
		);
	}
	Ok(())
}
