//! OCPP 1.6J: framing, meter readings, the central system and what guards it
//! (authentication, TLS, limits).

pub mod actions;
pub mod auth;
pub mod central;
pub mod frame;
pub mod limits;
pub mod meter;
pub mod tls;
