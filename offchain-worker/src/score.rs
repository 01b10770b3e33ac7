//! Feasibility and score of a solution: the one check the chain runs.

use crate::{Candidate, Demand, Fill, Pricing};
use alloc::{
	collections::{BTreeMap, BTreeSet},
	vec::Vec,
};
use core::cmp::Ordering;

/// How good a solution is. Ordered so that `a > b` means `a` is better:
/// more useful cover, then lower cost, then fewer fills, then the
/// lexicographically smaller list of offer ids (a stable tie-break).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Score {
	/// Useful cover in watts: the fills' total power, capped at the requested power
	/// (power accepted above the request, see [`Demand::max_over_w`], covers nothing
	/// more).
	pub covered_w: u32,
	/// Σ power_w × price over the fills (for pay-as-clear, the fills' total power ×
	/// clearing price), saturating at `u128::MAX`. Proportional to the money paid for
	/// one window, so comparable between solutions.
	pub cost: u128,
	/// Offer ids of the fills, ascending.
	pub offer_ids: Vec<u64>,
}

impl Ord for Score {
	fn cmp(&self, other: &Self) -> Ordering {
		self.covered_w
			.cmp(&other.covered_w)
			.then_with(|| other.cost.cmp(&self.cost))
			.then_with(|| other.offer_ids.len().cmp(&self.offer_ids.len()))
			.then_with(|| other.offer_ids.cmp(&self.offer_ids))
	}
}

impl PartialOrd for Score {
	fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
		Some(self.cmp(other))
	}
}

impl Score {
	/// Whether `self` beats `other` by at least `margin_cost` in cost at equal cover,
	/// or covers more power. A margin of zero means "strictly better".
	pub fn beats(&self, other: &Score, margin_cost: u128) -> bool {
		match self.covered_w.cmp(&other.covered_w) {
			Ordering::Greater => true,
			Ordering::Less => false,
			Ordering::Equal if margin_cost == 0 => self > other,
			Ordering::Equal => self.cost.saturating_add(margin_cost) <= other.cost,
		}
	}
}

/// Why a solution is not feasible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Infeasible {
	/// The solution has no fills or covers nothing.
	Empty,
	/// A fill points outside the candidate list.
	UnknownCandidate,
	/// Two fills take the same candidate.
	DuplicateCandidate,
	/// A fill is below the offer's minimum, above its power, or not whole for all-or-nothing.
	FillOutOfRange,
	/// An offer's price is above the request's ceiling.
	PriceAboveMaximum,
	/// Fills of one asset exceed its free power.
	GroupOverCommitted,
	/// The fills add up to more than the requested power plus the allowed excess.
	OverCovered,
	/// The fills cover less than requested and the request needs a full cover.
	NotFullyCovered,
}

/// The highest offer price among the fills (0 for none).
pub fn clearing_price(candidates: &[Candidate], fills: &[Fill]) -> u128 {
	fills.iter().filter_map(|f| candidates.get(f.index)).map(|c| c.price).max().unwrap_or(0)
}

/// Checks `fills` against the demand, the candidates and each group's `headroom`
/// (free power in watts), and returns the solution's score.
pub fn check(
	demand: &Demand,
	candidates: &[Candidate],
	headroom: &[u32],
	fills: &[Fill],
) -> Result<Score, Infeasible> {
	if fills.is_empty() {
		return Err(Infeasible::Empty);
	}
	let mut used_groups: BTreeMap<usize, u64> = BTreeMap::new();
	let mut taken: BTreeSet<usize> = BTreeSet::new();
	let mut total: u64 = 0;
	let mut bid_cost: u128 = 0;
	for fill in fills {
		let c = candidates.get(fill.index).ok_or(Infeasible::UnknownCandidate)?;
		if !taken.insert(fill.index) {
			return Err(Infeasible::DuplicateCandidate);
		}
		if fill.power_w == 0 || fill.power_w > c.power_w || fill.power_w < c.min_power_w {
			return Err(Infeasible::FillOutOfRange);
		}
		if c.price > demand.max_price {
			return Err(Infeasible::PriceAboveMaximum);
		}
		let limit = *headroom.get(c.group).ok_or(Infeasible::UnknownCandidate)? as u64;
		let used = used_groups.entry(c.group).or_insert(0);
		*used = used.saturating_add(fill.power_w.into());
		if *used > limit {
			return Err(Infeasible::GroupOverCommitted);
		}
		total = total.saturating_add(fill.power_w.into());
		bid_cost = bid_cost.saturating_add(u128::from(fill.power_w).saturating_mul(c.price));
	}
	let want = u64::from(demand.power_w);
	if total > want.saturating_add(demand.max_over_w.into()) {
		return Err(Infeasible::OverCovered);
	}
	let covered_w = total.min(want) as u32;
	if covered_w == 0 {
		return Err(Infeasible::Empty);
	}
	if !demand.partial && total < want {
		return Err(Infeasible::NotFullyCovered);
	}
	let cost = match demand.pricing {
		Pricing::PayAsBid => bid_cost,
		Pricing::PayAsClear => u128::from(total).saturating_mul(clearing_price(candidates, fills)),
	};
	let mut offer_ids: Vec<u64> = fills.iter().map(|f| candidates[f.index].id).collect();
	offer_ids.sort_unstable();
	Ok(Score { covered_w, cost, offer_ids })
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	fn cand(id: u64, power_w: u32, min_power_w: u32, price: u128, group: usize) -> Candidate {
		Candidate { id, power_w, min_power_w, price, group }
	}

	fn demand(power_w: u32, partial: bool) -> Demand {
		Demand { power_w, max_price: 100, partial, max_over_w: 0, pricing: Pricing::PayAsBid }
	}

	#[test]
	fn pilot_cover_scores_cost_and_power() {
		let c = vec![cand(1, 10_000, 0, 10, 0), cand(2, 10_000, 0, 10, 1)];
		let fills = [Fill { index: 0, power_w: 10_000 }, Fill { index: 1, power_w: 10_000 }];
		let s = check(&demand(20_000, false), &c, &[10_000, 10_000], &fills).unwrap();
		assert_eq!(s.covered_w, 20_000);
		assert_eq!(s.cost, 200_000);
		assert_eq!(s.offer_ids, vec![1, 2]);
	}

	#[test]
	fn rejects_each_infeasibility() {
		let c = vec![cand(1, 10, 10, 10, 0), cand(2, 10, 2, 200, 0), cand(3, 10, 2, 5, 0)];
		let d = demand(15, false);
		let h = [12];
		let f = |i, p| Fill { index: i, power_w: p };
		assert_eq!(check(&d, &c, &h, &[]), Err(Infeasible::Empty));
		assert_eq!(check(&d, &c, &h, &[f(7, 1)]), Err(Infeasible::UnknownCandidate));
		assert_eq!(check(&d, &c, &h, &[f(2, 5), f(2, 5)]), Err(Infeasible::DuplicateCandidate));
		assert_eq!(check(&d, &c, &h, &[f(0, 5)]), Err(Infeasible::FillOutOfRange));
		assert_eq!(check(&d, &c, &h, &[f(2, 1)]), Err(Infeasible::FillOutOfRange));
		assert_eq!(check(&d, &c, &h, &[f(1, 5)]), Err(Infeasible::PriceAboveMaximum));
		assert_eq!(check(&d, &c, &h, &[f(0, 10), f(2, 5)]), Err(Infeasible::GroupOverCommitted));
		assert_eq!(check(&d, &c, &[40], &[f(0, 10), f(2, 10)]), Err(Infeasible::OverCovered));
		assert_eq!(check(&d, &c, &h, &[f(2, 10)]), Err(Infeasible::NotFullyCovered));
		assert!(check(&demand(15, true), &c, &h, &[f(2, 10)]).is_ok());
	}

	#[test]
	fn pay_as_clear_prices_every_fill_at_the_highest_price() {
		let c = vec![cand(1, 10, 0, 4, 0), cand(2, 10, 0, 9, 1)];
		let d = Demand {
			power_w: 20,
			max_price: 10,
			partial: false,
			max_over_w: 0,
			pricing: Pricing::PayAsClear,
		};
		let fills = [Fill { index: 0, power_w: 10 }, Fill { index: 1, power_w: 10 }];
		assert_eq!(check(&d, &c, &[10, 10], &fills).unwrap().cost, 20 * 9);
	}

	#[test]
	fn over_cover_counts_up_to_the_request_and_pays_for_all() {
		let c = vec![cand(1, 90, 90, 10, 0), cand(2, 50, 1, 12, 1)];
		let f = |i, p| Fill { index: i, power_w: p };
		let over = |max_over_w, pricing| Demand { max_over_w, pricing, ..demand(87, false) };
		let d = over(3, Pricing::PayAsBid);
		let s = check(&d, &c, &[90, 50], &[f(0, 90)]).unwrap();
		assert_eq!((s.covered_w, s.cost), (87, 900));
		assert_eq!(
			check(&over(2, Pricing::PayAsBid), &c, &[90, 50], &[f(0, 90)]),
			Err(Infeasible::OverCovered)
		);
		assert_eq!(check(&d, &c, &[90, 50], &[f(1, 50)]), Err(Infeasible::NotFullyCovered));
		let c = vec![cand(1, 40, 1, 10, 0), cand(2, 50, 50, 12, 1)];
		let s = check(&over(3, Pricing::PayAsClear), &c, &[90, 50], &[f(0, 40), f(1, 50)]).unwrap();
		assert_eq!((s.covered_w, s.cost), (87, 90 * 12));
		let zero = Demand { power_w: 0, ..d.clone() };
		assert_eq!(check(&zero, &c, &[90, 50], &[f(0, 1)]), Err(Infeasible::Empty));
	}

	#[test]
	fn huge_prices_and_powers_saturate() {
		let c = vec![cand(1, u32::MAX, 1, u128::MAX, 0), cand(2, u32::MAX, 1, u128::MAX, 1)];
		let d = Demand {
			power_w: u32::MAX,
			max_price: u128::MAX,
			partial: true,
			max_over_w: u32::MAX,
			pricing: Pricing::PayAsBid,
		};
		let fills = [Fill { index: 0, power_w: u32::MAX }, Fill { index: 1, power_w: u32::MAX }];
		let s = check(&d, &c, &[u32::MAX; 2], &fills).unwrap();
		assert_eq!((s.covered_w, s.cost), (u32::MAX, u128::MAX));
		let d = Demand { pricing: Pricing::PayAsClear, ..d };
		assert_eq!(check(&d, &c, &[u32::MAX; 2], &fills).unwrap().cost, u128::MAX);
	}

	#[test]
	fn more_cover_beats_lower_cost_and_ties_break_stably() {
		let a = Score { covered_w: 10, cost: 100, offer_ids: vec![1] };
		let b = Score { covered_w: 9, cost: 1, offer_ids: vec![2] };
		assert!(a > b && a.beats(&b, 1_000));
		let c = Score { covered_w: 10, cost: 90, offer_ids: vec![3, 4] };
		assert!(c > a);
		assert!(c.beats(&a, 10) && !c.beats(&a, 11));
		let d = Score { covered_w: 10, cost: 90, offer_ids: vec![2, 5] };
		assert!(d > c && d.beats(&c, 0) && !c.beats(&d, 0));
	}
}
