//! Simulated devices: a SunSpec battery and an OCPP 1.6J V2G charge point.

pub mod battery;
pub mod charger;
pub mod physics;
