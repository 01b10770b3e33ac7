//! The DSO's bridge between the flexibility market and the devices.
//!
//! - [`ocpp`]: an OCPP 1.6J central system for V2G chargers;
//! - [`sunspec`]: a SunSpec Modbus TCP client for batteries;
//! - [`sim`]: simulated devices speaking those protocols, with state-of-charge physics;
//! - [`dispatch`], [`device`], [`floor`] and [`reporting`]: each fill driven through its
//!   window, stopped at its floor, reported until the chain's deadline;
//! - [`metering`], [`store`] and [`writer`]: one-minute samples kept durably, written
//!   off the async workers;
//! - [`daemon`] and [`tasks`]: the chain follower and every task, owned and watched;
//! - [`intake`] and [`anomaly`]: readings stamped with the bridge's clock and checked,
//!   what is refused counted and kept;
//! - [`retention`]: old records pruned;
//! - [`clock`]: the market clock every process shares, possibly accelerated;
//! - [`http`] and [`cors`]: read-only views, readable from the web app's origin.

// The WebSocket handshake callback's error type is tungstenite's HTTP response.
#![allow(clippy::result_large_err)]

pub mod anomaly;
pub mod chain;
pub mod clock;
pub mod config;
pub mod cors;
pub mod daemon;
pub mod device;
pub mod dispatch;
pub mod floor;
pub mod follower;
pub mod http;
pub mod intake;
pub mod metering;
pub mod metrics;
pub mod notify;
pub mod ocpp;
pub mod reporting;
pub mod retention;
pub mod sim;
pub mod store;
pub mod sunspec;
pub mod tasks;
pub mod writer;
