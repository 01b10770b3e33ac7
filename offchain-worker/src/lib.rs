//! Matching logic of the flexibility market, free of chain types.
//!
//! A request asks for `power_w` at a price ceiling; eligible offers are
//! [`Candidate`]s. A solution is a list of [`Fill`]s. This crate holds what the
//! runtime and the off-chain worker must agree on exactly:
//!
//! - [`check`]: is a solution feasible, and what is its [`Score`];
//! - [`merit_order`]: the greedy least-price-first cover the runtime runs on chain;
//! - [`solve`]: branch and bound with a work budget, seeded by the merit order and
//!   followed by improvement steps; exact when the budget suffices.
//!
//! Everything is integer arithmetic and deterministic for the same input.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod merit_order;
mod score;
mod search;

pub use merit_order::merit_order;
pub use score::{check, clearing_price, Infeasible, Score};
pub use search::{solve, Budget, Stats};

use alloc::vec::Vec;

/// How accepted offers are paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pricing {
	/// Each fill is paid its own offer price.
	PayAsBid,
	/// Every fill is paid the highest accepted offer price (the clearing price).
	PayAsClear,
}

/// What a request asks for, in the units the chain uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Demand {
	/// Requested power in watts.
	pub power_w: u32,
	/// Highest acceptable price per kWh, in the smallest currency unit.
	pub max_price: u128,
	/// Whether a cover below `power_w` is acceptable.
	pub partial: bool,
	/// How fills are priced.
	pub pricing: Pricing,
}

/// One eligible offer, already filtered for location, window, direction and price.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
	/// The offer's id on chain; also the stable tie-break.
	pub id: u64,
	/// Offered power in watts.
	pub power_w: u32,
	/// Smallest acceptable fill in watts; equal to `power_w` for all-or-nothing offers.
	pub min_power_w: u32,
	/// Price per kWh in the smallest currency unit.
	pub price: u128,
	/// Index into the `headroom` slice: offers of one asset share its free power.
	pub group: usize,
}

impl Candidate {
	/// Whether the offer can only be taken whole.
	pub fn all_or_nothing(&self) -> bool {
		self.min_power_w >= self.power_w
	}
}

/// A part of a solution: `power_w` taken from the candidate at `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
	/// Position of the candidate in the slice given to [`check`] or [`merit_order`].
	pub index: usize,
	/// Accepted power in watts.
	pub power_w: u32,
}

/// A feasible solution and its score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Solution {
	/// Fills, sorted by candidate index.
	pub fills: Vec<Fill>,
	/// The solution's score.
	pub score: Score,
}
