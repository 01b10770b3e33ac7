//! The demo's phases, in the order they run over one [`crate::context::Run`]:
//!
//! 1. [`chain`]: the dev chain, or [`network`]: four validators and an RPC node;
//! 2. [`cast`]: the genesis took (clock, parameters, DSO), the window placed;
//! 3. [`assets`]: the FSPs register their assets at their endpoints;
//! 4. [`devices`] and the bridge start; [`trade`]: prequalify, request, offer, match, buy;
//! 5. [`window`]: progress while the devices deliver;
//! 6. [`settlement`]: delivery reports and settlement, and on a network
//!    [`consensus`]: every node saw the same;
//! 7. [`report`]: Table III, the transformer, the balances, the charts.

pub mod assets;
pub mod cast;
pub mod chain;
pub mod consensus;
pub mod devices;
pub mod network;
pub mod report;
pub mod settlement;
pub mod trade;
pub mod window;
