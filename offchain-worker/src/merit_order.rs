//! The greedy merit order: cheapest offers first, each taken as far as it fits.

use crate::{check, Candidate, Demand, Fill, Solution};
use alloc::vec::Vec;

/// Covers `demand` from `candidates` cheapest first (ties by offer id), respecting
/// each group's `headroom`, until the request is met. Divisible offers are cut to
/// what is still missing when that is not below their minimum; an all-or-nothing
/// offer (or a divisible one's minimum) may overshoot what is missing as long as
/// the total stays within `power_w + max_over_w`. With `max_over_w == 0` nothing
/// overshoots. Returns `None` when nothing, or (for a request needing full cover)
/// too little, can be covered.
pub fn merit_order(
	demand: &Demand,
	candidates: &[Candidate],
	headroom: &[u32],
) -> Option<Solution> {
	let mut order: Vec<usize> =
		(0..candidates.len()).filter(|&i| candidates[i].price <= demand.max_price).collect();
	order.sort_by_key(|&i| (candidates[i].price, candidates[i].id));

	let want = u64::from(demand.power_w);
	let cap = want.saturating_add(demand.max_over_w.into());
	let mut left: Vec<u32> = headroom.to_vec();
	let mut total = 0u64;
	let mut fills = Vec::new();
	for i in order {
		if total >= want {
			break;
		}
		let c = &candidates[i];
		let Some(free) = left.get(c.group).copied() else { continue };
		let Some(take) = greedy_take(c, free, want - total, cap - total) else { continue };
		left[c.group] -= take;
		total += u64::from(take);
		fills.push(Fill { index: i, power_w: take });
	}
	fills.sort_by_key(|f| f.index);
	let score = check(demand, candidates, headroom, &fills).ok()?;
	Some(Solution { fills, score })
}

/// What the merit order takes of offer `c`, given its group's `free` power, the
/// power still `missing` and the `room` left below the cap (at least `missing`):
/// a divisible offer cut to what is missing if that reaches its minimum, else its
/// minimum (or, all-or-nothing, its power) if that fits the room; `None` if nothing.
fn greedy_take(c: &Candidate, free: u32, missing: u64, room: u64) -> Option<u32> {
	let most = c.power_w.min(free);
	if c.all_or_nothing() {
		return (most >= c.power_w && u64::from(c.power_w) <= room).then_some(c.power_w);
	}
	let min = c.min_power_w.max(1);
	let cut = u64::from(most).min(missing) as u32;
	if cut >= min {
		Some(cut)
	} else {
		(most >= min && u64::from(min) <= room).then_some(min)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::Pricing;
	use alloc::vec;

	fn cand(id: u64, power_w: u32, min_power_w: u32, price: u128) -> Candidate {
		Candidate { id, power_w, min_power_w, price, group: id as usize }
	}

	fn demand(power_w: u32, partial: bool) -> Demand {
		Demand { power_w, max_price: 21, partial, max_over_w: 0, pricing: Pricing::PayAsBid }
	}

	#[test]
	fn pilot_two_offers_cover_twenty_kilowatts() {
		let c = vec![cand(0, 10_000, 10_000, 10), cand(1, 10_000, 10_000, 10)];
		let s = merit_order(&demand(20_000, false), &c, &[10_000, 10_000]).unwrap();
		assert_eq!(s.score.covered_w, 20_000);
		assert_eq!(s.fills.len(), 2);
	}

	#[test]
	fn cheapest_first_and_divisible_offer_cut_to_fit() {
		let c = vec![cand(0, 10, 2, 20), cand(1, 8, 1, 5), cand(2, 6, 6, 7)];
		let s = merit_order(&demand(18, false), &c, &[10, 8, 6]).unwrap();
		assert_eq!(
			s.fills,
			vec![
				Fill { index: 0, power_w: 4 },
				Fill { index: 1, power_w: 8 },
				Fill { index: 2, power_w: 6 }
			]
		);
		assert_eq!(s.score.cost, 4 * 20 + 8 * 5 + 6 * 7);
	}

	#[test]
	fn skips_offers_above_the_ceiling_and_respects_headroom() {
		let c = vec![cand(0, 10, 1, 30), cand(1, 10, 1, 5)];
		let s = merit_order(&demand(10, true), &c, &[10, 4]).unwrap();
		assert_eq!(s.fills, vec![Fill { index: 1, power_w: 4 }]);
		assert_eq!(merit_order(&demand(10, false), &c, &[10, 4]), None);
	}

	#[test]
	fn over_cover_takes_a_whole_offer_or_a_minimum_within_the_cap() {
		let over = |max_over_w| Demand { max_over_w, ..demand(86_700, false) };
		let c = vec![cand(0, 90_000, 90_000, 10), cand(1, 60_000, 20_000, 11)];
		let h = [90_000, 60_000];
		let s = merit_order(&over(3_300), &c, &h).unwrap();
		assert_eq!(s.fills, vec![Fill { index: 0, power_w: 90_000 }]);
		assert_eq!((s.score.covered_w, s.score.cost), (86_700, 900_000));
		// 3.3 kW too much: the divisible offer alone cannot cover the request.
		assert_eq!(merit_order(&over(3_299), &c, &h), None);
		let c = vec![cand(0, 8, 1, 1), cand(1, 5, 4, 2), cand(2, 9, 9, 3)];
		let d = |max_over_w| Demand { max_over_w, ..demand(10, true) };
		let s = merit_order(&d(2), &c, &[8, 5, 9]).unwrap();
		assert_eq!(s.fills, vec![Fill { index: 0, power_w: 8 }, Fill { index: 1, power_w: 4 }]);
		let s = merit_order(&d(1), &c, &[8, 5, 9]).unwrap();
		assert_eq!(s.fills, vec![Fill { index: 0, power_w: 8 }]);
	}

	#[test]
	fn all_or_nothing_too_big_is_skipped() {
		let c = vec![cand(0, 15, 15, 1), cand(1, 10, 10, 9)];
		let s = merit_order(&demand(10, false), &c, &[15, 10]).unwrap();
		assert_eq!(s.fills, vec![Fill { index: 1, power_w: 10 }]);
	}
}
