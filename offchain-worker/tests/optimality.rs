//! The solver against brute force on random small books, and against the greedy
//! merit order on books where greedy is known to overpay.

use flex_solver::{check, merit_order, solve, Budget, Candidate, Demand, Fill, Pricing, Score};
use proptest::prelude::*;

/// Best score over every subset of offers and every fill of it, on a grid of 1 kW
/// steps (all powers in the tests are whole kW).
fn brute_force(demand: &Demand, c: &[Candidate], headroom: &[u32]) -> Option<Score> {
	let mut best: Option<Score> = None;
	let mut fills: Vec<Fill> = Vec::new();
	fn go(
		i: usize,
		demand: &Demand,
		c: &[Candidate],
		headroom: &[u32],
		fills: &mut Vec<Fill>,
		best: &mut Option<Score>,
	) {
		if i == c.len() {
			if let Ok(s) = check(demand, c, headroom, fills) {
				if best.as_ref().is_none_or(|b| {
					s.covered_w > b.covered_w || (s.covered_w == b.covered_w && s.cost < b.cost)
				}) {
					*best = Some(s);
				}
			}
			return;
		}
		go(i + 1, demand, c, headroom, fills, best);
		let mut p = c[i].min_power_w.max(1000);
		while p <= c[i].power_w {
			fills.push(Fill { index: i, power_w: p });
			go(i + 1, demand, c, headroom, fills, best);
			fills.pop();
			p += 1000;
		}
	}
	go(0, demand, c, headroom, &mut fills, &mut best);
	best
}

fn book() -> impl Strategy<Value = (Vec<Candidate>, Vec<u32>)> {
	(1usize..=4).prop_flat_map(|groups| {
		(
			prop::collection::vec(
				(1u32..=6, 1u128..=30, any::<bool>(), 1u32..=6, 0..groups)
					.prop_map(|(kw, price, aon, min_kw, group)| (kw, price, aon, min_kw, group)),
				1..=6,
			),
			prop::collection::vec(1u32..=10, groups),
		)
			.prop_map(|(offers, caps)| {
				let c = offers
					.into_iter()
					.enumerate()
					.map(|(i, (kw, price, aon, min_kw, group))| Candidate {
						id: i as u64,
						power_w: kw * 1000,
						min_power_w: if aon { kw * 1000 } else { min_kw.min(kw) * 1000 },
						price,
						group,
					})
					.collect();
				(c, caps.into_iter().map(|kw| kw * 1000).collect())
			})
	})
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(400))]

	/// Exact on small books: same cover and same cost as brute force.
	#[test]
	fn solver_matches_brute_force((c, headroom) in book(), kw in 1u32..=20, partial in any::<bool>(), clear in any::<bool>()) {
		let demand = Demand {
			power_w: kw * 1000,
			max_price: 25,
			partial,
			pricing: if clear { Pricing::PayAsClear } else { Pricing::PayAsBid },
		};
		let expected = brute_force(&demand, &c, &headroom);
		let (found, stats) = solve(&demand, &c, &headroom, Budget::EXACT_SMALL);
		prop_assert!(!stats.exhausted);
		match (expected, found) {
			(None, None) => {},
			(Some(e), Some(f)) => {
				prop_assert_eq!(f.score.covered_w, e.covered_w);
				prop_assert_eq!(f.score.cost, e.cost);
				prop_assert_eq!(check(&demand, &c, &headroom, &f.fills), Ok(f.score.clone()));
			},
			(e, f) => prop_assert!(false, "brute force {:?}, solver {:?}", e, f),
		}
	}

	/// Never worse than the merit order, and deterministic.
	#[test]
	fn solver_beats_or_equals_merit_order((c, headroom) in book(), kw in 1u32..=20) {
		let demand = Demand { power_w: kw * 1000, max_price: 25, partial: true, pricing: Pricing::PayAsBid };
		let (found, _) = solve(&demand, &c, &headroom, Budget { nodes: 50 });
		let (again, _) = solve(&demand, &c, &headroom, Budget { nodes: 50 });
		prop_assert_eq!(&found, &again);
		if let Some(greedy) = merit_order(&demand, &c, &headroom) {
			prop_assert!(found.unwrap().score >= greedy.score);
		}
	}
}

/// The classic trap for greedy: the cheapest all-or-nothing offer is too big to
/// combine, so greedy needs an expensive divisible top-up; two mid-priced offers
/// cover exactly. Prints the saving.
#[test]
fn all_or_nothing_books_where_greedy_overpays() {
	let mut total_greedy = 0u128;
	let mut total_solver = 0u128;
	for k in 1..=6u32 {
		let kw = |x: u32| x * 1000;
		let c = vec![
			Candidate { id: 0, power_w: kw(12 + k), min_power_w: kw(12 + k), price: 10, group: 0 },
			Candidate { id: 1, power_w: kw(10), min_power_w: kw(10), price: 12, group: 1 },
			Candidate { id: 2, power_w: kw(10), min_power_w: kw(10), price: 12, group: 2 },
			Candidate { id: 3, power_w: kw(20), min_power_w: kw(1), price: 40, group: 3 },
		];
		let headroom = vec![kw(30); 4];
		let demand =
			Demand { power_w: kw(20), max_price: 50, partial: false, pricing: Pricing::PayAsBid };
		// With the 13+ kW offer taken, 20 kW can only be reached by the expensive top-up.
		let greedy = merit_order(&demand, &c, &headroom);
		let (best, stats) = solve(&demand, &c, &headroom, Budget::EXACT_SMALL);
		let best = best.unwrap();
		assert!(!stats.exhausted);
		assert_eq!(best.score.cost, kw(20) as u128 * 12, "two 10 kW offers at 12");
		let greedy_cost = greedy.map(|g| g.score.cost).unwrap_or(u128::MAX);
		assert!(greedy_cost > best.score.cost);
		total_greedy += greedy_cost;
		total_solver += best.score.cost;
	}
	println!(
		"greedy merit order pays {total_greedy}, the solver {total_solver}: {:.1} % less",
		100.0 * (total_greedy - total_solver) as f64 / total_greedy as f64
	);
}
