//! SunSpec over Modbus TCP: the register maps and the client the bridge drives batteries with.

pub mod client;
pub mod map;
