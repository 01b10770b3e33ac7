//! OCPP 1.6J: framing, meter readings and the central system.

pub mod central;
pub mod frame;
pub mod meter;
