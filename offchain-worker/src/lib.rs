//! Matching logic of the flexibility market, free of chain types.
//!
//! A request asks for `power_w` at a price ceiling, optionally accepting up to
//! `max_over_w` more; eligible offers are [`Candidate`]s. A solution is a list of
//! [`Fill`]s. This crate holds what the runtime and the off-chain worker must agree
//! on exactly:
//!
//! - [`check`]: is a solution feasible, and what is its [`Score`] (useful cover,
//!   then cost);
//! - [`merit_order`]: the greedy least-price-first cover the runtime runs on chain;
//! - [`solve`]: branch and bound with a work budget, seeded by the merit order;
//!   exact when the budget suffices. The offers are sorted by price once. The
//!   bound is the greedy fill of the relaxation where undecided offers are
//!   divisible from zero, each offer's share of its asset's headroom kept up to
//!   date in Fenwick trees over the price order: a prefix sum and a binary search
//!   for the offer where the fill crosses the request. A search node costs
//!   O(log n) whatever the book's size, plus O(k log n) when it decides an offer
//!   of an asset with k offers sharing headroom (see the `search` module).
//!
//! Everything is integer arithmetic, deterministic for the same input and free of
//! overflow for any input: sums of power are `u64`, costs saturate at `u128::MAX`
//! (the bound sums exact 256-bit power × price products internally).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod book;
mod fenwick;
mod merit_order;
mod plan;
mod score;
mod search;
mod wide;

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
	/// The most watts the fills may add up to above `power_w` (0: never more than
	/// requested). Lets an all-or-nothing offer, or a divisible one's minimum, cover
	/// the rest when that is cheaper; only the power up to `power_w` counts as
	/// cover, all of it is paid.
	pub max_over_w: u32,
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
