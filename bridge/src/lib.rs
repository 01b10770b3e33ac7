//! The DSO's bridge between the flexibility market and the devices.
//!
//! - [`ocpp`]: an OCPP 1.6J central system for V2G chargers;
//! - [`sunspec`]: a SunSpec Modbus TCP client for batteries;
//! - [`sim`]: simulated devices speaking those protocols, with state-of-charge physics;
//! - [`metering`] and [`store`]: one-minute samples kept durably, delivery per fill;
//! - [`clock`]: the market clock every process shares, possibly accelerated.

// The WebSocket handshake callback's error type is tungstenite's HTTP response.
#![allow(clippy::result_large_err)]

pub mod chain;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod dispatch;
pub mod http;
pub mod metering;
pub mod metrics;
pub mod notify;
pub mod ocpp;
pub mod sim;
pub mod store;
pub mod sunspec;
