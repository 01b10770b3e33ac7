//! The greedy merit order: cheapest offers first, each taken as far as it fits.

use crate::{check, Candidate, Demand, Fill, Solution};
use alloc::vec::Vec;

/// Covers `demand` from `candidates` cheapest first (ties by offer id), respecting
/// each group's `headroom`. Divisible offers are cut to what is still missing when
/// that stays above their minimum; all-or-nothing offers are taken only whole.
/// Returns `None` when nothing, or (for a request needing full cover) too little,
/// can be covered.
pub fn merit_order(
	demand: &Demand,
	candidates: &[Candidate],
	headroom: &[u32],
) -> Option<Solution> {
	let mut order: Vec<usize> =
		(0..candidates.len()).filter(|&i| candidates[i].price <= demand.max_price).collect();
	order.sort_by_key(|&i| (candidates[i].price, candidates[i].id));

	let mut left: Vec<u32> = headroom.to_vec();
	let mut missing = demand.power_w;
	let mut fills = Vec::new();
	take_greedily(candidates, order.into_iter(), &mut left, &mut missing, &mut fills);
	fills.sort_by_key(|f| f.index);
	let score = check(demand, candidates, headroom, &fills).ok()?;
	Some(Solution { fills, score })
}

/// Takes offers in the given order, each as far as it fits what is `missing` and its
/// group's `left` headroom: divisible ones cut (not below their minimum),
/// all-or-nothing ones only whole. The rule the merit order and the solver's
/// improvement steps share.
pub(crate) fn take_greedily(
	candidates: &[Candidate],
	order: impl Iterator<Item = usize>,
	left: &mut [u32],
	missing: &mut u32,
	fills: &mut Vec<Fill>,
) {
	for i in order {
		if *missing == 0 {
			break;
		}
		let c = &candidates[i];
		let Some(free) = left.get(c.group).copied() else { continue };
		let room = c.power_w.min(free).min(*missing);
		let take = if c.all_or_nothing() {
			if room >= c.power_w {
				c.power_w
			} else {
				continue;
			}
		} else if room >= c.min_power_w.max(1) {
			room
		} else {
			continue;
		};
		left[c.group] -= take;
		*missing -= take;
		fills.push(Fill { index: i, power_w: take });
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
		Demand { power_w, max_price: 21, partial, pricing: Pricing::PayAsBid }
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
	fn all_or_nothing_too_big_is_skipped() {
		let c = vec![cand(0, 15, 15, 1), cand(1, 10, 10, 9)];
		let s = merit_order(&demand(10, false), &c, &[15, 10]).unwrap();
		assert_eq!(s.fills, vec![Fill { index: 1, power_w: 10 }]);
	}
}
