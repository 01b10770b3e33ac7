//! The solver against brute force on random small books, against an exact dynamic
//! program on random books of up to 200 offers, against the greedy merit order on
//! books where greedy is known to overpay, and on inputs at the limits of the types.

use flex_solver::{
	check, merit_order, solve, Budget, Candidate, Demand, Fill, Pricing, Score, Solution,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

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

/// Every (total power in `unit`s, least bid cost) one asset's offers can fill within
/// its headroom, its offers filled in steps of `unit` watts.
fn asset_options(offers: &[&Candidate], headroom: u32, unit: u32) -> BTreeMap<u32, u128> {
	let mut options = BTreeMap::from([(0u32, 0u128)]);
	for c in offers {
		let mut next = options.clone();
		let mut p = c.min_power_w.max(1).div_ceil(unit) * unit;
		while p <= c.power_w {
			for (&total, &cost) in &options {
				if (total + p / unit) * unit <= headroom {
					let cost = cost + p as u128 * c.price;
					let e = next.entry(total + p / unit).or_insert(u128::MAX);
					*e = (*e).min(cost);
				}
			}
			p += unit;
		}
		options = next;
	}
	options
}

/// Least bid cost of each total (in `unit`s, up to `cap`) from the offers `usable`.
fn least_costs(
	c: &[Candidate],
	headroom: &[u32],
	unit: u32,
	cap: u32,
	usable: impl Fn(&Candidate) -> bool,
) -> Vec<Option<u128>> {
	let mut best = vec![None; cap as usize + 1];
	best[0] = Some(0u128);
	for (group, &room) in headroom.iter().enumerate() {
		let offers: Vec<&Candidate> = c.iter().filter(|x| x.group == group && usable(x)).collect();
		let options = asset_options(&offers, room, unit);
		let mut next = best.clone();
		for (t, cost) in best.iter().enumerate().filter_map(|(t, c)| Some((t, (*c)?))) {
			if t as u32 == cap {
				continue;
			}
			for (&add, &more) in options.range(1..=cap - t as u32) {
				let e = &mut next[t + add as usize];
				*e = Some(e.map_or(cost + more, |x| x.min(cost + more)));
			}
		}
		best = next;
	}
	best
}

/// The optimum (useful cover, cost) by dynamic programming over totals on a grid of
/// `unit` watts (every power, minimum, headroom and request a multiple of it). Pay as
/// clear: the least total reachable with the offers up to each price, paid at it.
fn dp_optimum(
	demand: &Demand,
	c: &[Candidate],
	headroom: &[u32],
	unit: u32,
) -> Option<(u32, u128)> {
	let cap = (demand.power_w as u64 + demand.max_over_w as u64) / unit as u64;
	let cap = cap as u32;
	let eligible = |x: &Candidate| x.price <= demand.max_price;
	let rank = |t: usize, cost: u128| {
		let total = t as u32 * unit;
		let ok = t > 0 && (demand.partial || total >= demand.power_w);
		ok.then_some((total.min(demand.power_w), std::cmp::Reverse(cost)))
	};
	let best = match demand.pricing {
		Pricing::PayAsBid => least_costs(c, headroom, unit, cap, eligible)
			.iter()
			.enumerate()
			.filter_map(|(t, cost)| rank(t, (*cost)?))
			.max(),
		Pricing::PayAsClear => {
			let mut prices: Vec<u128> = c.iter().filter(|x| eligible(x)).map(|x| x.price).collect();
			prices.sort_unstable();
			prices.dedup();
			prices
				.iter()
				.flat_map(|&p| {
					let reach =
						least_costs(c, headroom, unit, cap, |x| eligible(x) && x.price <= p);
					let totals = reach.into_iter().enumerate().filter(|(_, c)| c.is_some());
					totals.filter_map(move |(t, _)| rank(t, (t as u128 * unit as u128) * p))
				})
				.max()
		},
	};
	best.map(|(covered, cost)| (covered, cost.0))
}

fn candidate(id: u64, kw: u32, min_kw: u32, aon: bool, price: u128, group: usize) -> Candidate {
	let power_w = kw * 1000;
	let min_power_w = if aon { power_w } else { min_kw.clamp(1, kw) * 1000 };
	Candidate { id, power_w, min_power_w, price, group }
}

fn book() -> impl Strategy<Value = (Vec<Candidate>, Vec<u32>)> {
	(1usize..=4).prop_flat_map(|groups| {
		(
			prop::collection::vec(
				(1u32..=6, 1u128..=30, any::<bool>(), 1u32..=6, 0..groups),
				1..=6,
			),
			prop::collection::vec(1u32..=10, groups),
		)
			.prop_map(|(offers, caps)| {
				let c = offers
					.into_iter()
					.enumerate()
					.map(|(i, (kw, price, aon, min_kw, group))| {
						candidate(i as u64, kw, min_kw, aon, price, group)
					})
					.collect();
				(c, caps.into_iter().map(|kw| kw * 1000).collect())
			})
	})
}

/// A book like the bench's "market" books, in whole kW: `n` offers of 4-40 kW at
/// eight prices, 40 % all-or-nothing, a fifth of the assets with two offers sharing
/// less headroom than they offer.
fn market_book(n: usize) -> impl Strategy<Value = (Vec<Candidate>, Vec<u32>)> {
	let offer = (4u32..=40, 1u32..=6, 0u32..5, 0usize..8);
	let asset = (offer.clone(), prop::option::weighted(0.2, offer), 0u32..=100);
	prop::collection::vec(asset, n / 2..=n).prop_map(move |assets| {
		let (mut c, mut headroom) = (Vec::new(), Vec::new());
		for (a, b, share) in assets {
			if c.len() >= n {
				break;
			}
			let group = headroom.len();
			let a_kw = market_offer(&mut c, a, group);
			let room = match b {
				Some(b) if c.len() < n => {
					let b_kw = market_offer(&mut c, b, group);
					a_kw.max(b_kw) + (a_kw.min(b_kw) - 1) * share / 100
				},
				_ => a_kw + share % 6,
			};
			headroom.push(room * 1000);
		}
		(c, headroom)
	})
}

/// Appends an offer of `kw` kW, divisible down to `tenths` of it unless `aon < 2`,
/// at price level `level`; returns its power in kW.
fn market_offer(
	c: &mut Vec<Candidate>,
	(kw, tenths, aon, level): (u32, u32, u32, usize),
	group: usize,
) -> u32 {
	const PRICES: [u128; 8] = [8, 9, 10, 11, 12, 14, 16, 20];
	c.push(candidate(c.len() as u64, kw, kw * tenths / 10, aon < 2, PRICES[level], group));
	kw
}

fn demand(kw: u32, over_kw: u32, partial: bool, clear: bool, max_price: u128) -> Demand {
	Demand {
		power_w: kw * 1000,
		max_price,
		partial,
		max_over_w: over_kw * 1000,
		pricing: if clear { Pricing::PayAsClear } else { Pricing::PayAsBid },
	}
}

/// The solver's answer is feasible, scored by `check`, and has the expected optimum.
fn assert_optimal(
	demand: &Demand,
	c: &[Candidate],
	headroom: &[u32],
	found: Option<Solution>,
	expected: Option<(u32, u128)>,
) -> Result<(), TestCaseError> {
	match (expected, found) {
		(None, None) => {},
		(Some(e), Some(f)) => {
			prop_assert_eq!((f.score.covered_w, f.score.cost), e);
			prop_assert_eq!(check(demand, c, headroom, &f.fills), Ok(f.score.clone()));
		},
		(e, f) => prop_assert!(false, "expected {:?}, solver {:?}", e, f),
	}
	Ok(())
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(400))]

	/// Exact on small books: same cover and same cost as brute force, with and
	/// without over-cover.
	#[test]
	fn solver_matches_brute_force(
		(c, headroom) in book(),
		kw in 1u32..=20,
		over_kw in prop::sample::select(vec![0u32, 0, 1, 2, 5]),
		partial in any::<bool>(),
		clear in any::<bool>(),
	) {
		let demand = demand(kw, over_kw, partial, clear, 25);
		let expected = brute_force(&demand, &c, &headroom).map(|s| (s.covered_w, s.cost));
		let (found, stats) = solve(&demand, &c, &headroom, Budget::EXACT_SMALL);
		prop_assert!(!stats.exhausted);
		assert_optimal(&demand, &c, &headroom, found, expected)?;
	}

	/// The dynamic program used on bigger books agrees with brute force.
	#[test]
	fn dynamic_program_matches_brute_force(
		(c, headroom) in book(),
		kw in 1u32..=20,
		over_kw in 0u32..=3,
		partial in any::<bool>(),
		clear in any::<bool>(),
	) {
		let demand = demand(kw, over_kw, partial, clear, 25);
		let expected = brute_force(&demand, &c, &headroom).map(|s| (s.covered_w, s.cost));
		prop_assert_eq!(dp_optimum(&demand, &c, &headroom, 1000), expected);
	}

	/// Never worse than the merit order, and deterministic.
	#[test]
	fn solver_beats_or_equals_merit_order((c, headroom) in book(), kw in 1u32..=20, over_kw in 0u32..=3) {
		let demand = demand(kw, over_kw, true, false, 25);
		let (found, _) = solve(&demand, &c, &headroom, Budget { nodes: 50 });
		let (again, _) = solve(&demand, &c, &headroom, Budget { nodes: 50 });
		prop_assert_eq!(&found, &again);
		if let Some(greedy) = merit_order(&demand, &c, &headroom) {
			prop_assert!(found.unwrap().score >= greedy.score);
		}
	}
}

/// The merit order as it was before over-cover (`max_over_w` did not exist): with
/// `max_over_w == 0` the new one must give the same answer.
fn merit_order_before(demand: &Demand, c: &[Candidate], headroom: &[u32]) -> Option<Solution> {
	let mut order: Vec<usize> = (0..c.len()).filter(|&i| c[i].price <= demand.max_price).collect();
	order.sort_by_key(|&i| (c[i].price, c[i].id));
	let mut left: Vec<u32> = headroom.to_vec();
	let mut missing = demand.power_w;
	let mut fills = Vec::new();
	for i in order {
		if missing == 0 {
			break;
		}
		let Some(free) = left.get(c[i].group).copied() else { continue };
		let room = c[i].power_w.min(free).min(missing);
		let take = if c[i].all_or_nothing() {
			if room >= c[i].power_w {
				c[i].power_w
			} else {
				continue;
			}
		} else if room >= c[i].min_power_w.max(1) {
			room
		} else {
			continue;
		};
		left[c[i].group] -= take;
		missing -= take;
		fills.push(Fill { index: i, power_w: take });
	}
	fills.sort_by_key(|f| f.index);
	let score = check(demand, c, headroom, &fills).ok()?;
	Some(Solution { fills, score })
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(1000))]

	/// Without over-cover the merit order is unchanged, odd inputs included (a
	/// minimum above the power, an unknown group, duplicate ids, zero power).
	#[test]
	fn merit_order_without_over_cover_is_unchanged(
		offers in prop::collection::vec((0u32..=8, 0u32..=9, 0u128..=6, 0usize..5, 0u64..6), 0..=12),
		headroom in prop::collection::vec(0u32..=12, 0..=4),
		kw in 0u32..=30,
		partial in any::<bool>(),
		clear in any::<bool>(),
	) {
		let c: Vec<Candidate> = offers
			.into_iter()
			.map(|(kw, min_kw, price, group, id)| Candidate {
				id,
				power_w: kw * 1000,
				min_power_w: min_kw * 1000,
				price,
				group,
			})
			.collect();
		let headroom: Vec<u32> = headroom.into_iter().map(|kw| kw * 1000).collect();
		let demand = demand(kw, 0, partial, clear, 5);
		prop_assert_eq!(merit_order(&demand, &c, &headroom), merit_order_before(&demand, &c, &headroom));
	}
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	/// Exact on random books of up to 200 offers with an ample budget, with and
	/// without over-cover, against the dynamic program.
	#[test]
	fn solver_is_exact_on_books_of_up_to_200_offers(
		(c, headroom) in market_book(200),
		percent in 5u64..=33,
		over_kw in prop::sample::select(vec![0u32, 3, 10]),
		partial in any::<bool>(),
		clear in prop::sample::select(vec![false, false, false, true]),
	) {
		let total: u64 = c.iter().map(|x| x.power_w as u64 / 1000).sum();
		let demand = demand((total * percent / 100) as u32, over_kw, partial, clear, 16);
		let (found, stats) = solve(&demand, &c, &headroom, Budget { nodes: 20_000_000 });
		prop_assert!(!stats.exhausted, "{} nodes", stats.nodes);
		let expected = dp_optimum(&demand, &c, &headroom, 1000);
		assert_optimal(&demand, &c, &headroom, found, expected)?;
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
		let c = vec![
			candidate(0, 12 + k, 0, true, 10, 0),
			candidate(1, 10, 0, true, 12, 1),
			candidate(2, 10, 0, true, 12, 2),
			candidate(3, 20, 1, false, 40, 3),
		];
		let headroom = vec![30_000; 4];
		let demand = demand(20, 0, false, false, 50);
		// With the 13+ kW offer taken, 20 kW can only be reached by the expensive top-up.
		let greedy = merit_order(&demand, &c, &headroom);
		let (best, stats) = solve(&demand, &c, &headroom, Budget::EXACT_SMALL);
		let best = best.unwrap();
		assert!(!stats.exhausted);
		assert_eq!(best.score.cost, 20_000 * 12, "two 10 kW offers at 12");
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

/// One all-or-nothing 90 kW offer covers an 86.7 kW request 5.8 % cheaper than the
/// best exact cover, once 3.3 kW over the request are allowed.
#[test]
fn over_cover_by_a_whole_offer_is_cheaper() {
	let c = vec![
		Candidate { id: 0, power_w: 90_000, min_power_w: 90_000, price: 1_000, group: 0 },
		Candidate { id: 1, power_w: 50_000, min_power_w: 50_000, price: 1_102, group: 1 },
		Candidate { id: 2, power_w: 60_000, min_power_w: 20_000, price: 1_102, group: 2 },
	];
	let headroom = [90_000, 50_000, 60_000];
	let request = |max_over_w| Demand {
		power_w: 86_700,
		max_price: 2_000,
		partial: false,
		max_over_w,
		pricing: Pricing::PayAsBid,
	};
	let exact = solve(&request(0), &c, &headroom, Budget::EXACT_SMALL).0.unwrap();
	assert_eq!((exact.score.covered_w, exact.score.cost), (86_700, 86_700 * 1_102));
	assert_eq!(dp_optimum(&request(0), &c, &headroom, 100), Some((86_700, 86_700 * 1_102)));
	for over in [3_300, 10_000] {
		let over_cover = solve(&request(over), &c, &headroom, Budget::EXACT_SMALL).0.unwrap();
		assert_eq!(over_cover.fills, vec![Fill { index: 0, power_w: 90_000 }]);
		assert_eq!((over_cover.score.covered_w, over_cover.score.cost), (86_700, 90_000 * 1_000));
		assert_eq!(dp_optimum(&request(over), &c, &headroom, 100), Some((86_700, 90_000_000)));
	}
	assert!(
		solve(&request(3_200), &c, &headroom, Budget::EXACT_SMALL).0.unwrap().score == exact.score
	);
	let saving: f64 = 1.0 - 90_000_000.0 / (86_700.0 * 1_102.0);
	assert!((saving - 0.058).abs() < 0.0005, "{saving}");
}

/// Over-cover by a divisible offer's minimum; and greedy overshooting with a dear
/// all-or-nothing offer where an exact cover is cheaper.
#[test]
fn over_cover_by_a_minimum() {
	let c = vec![
		candidate(0, 8, 0, true, 10, 0),
		candidate(1, 6, 4, false, 11, 1),
		candidate(2, 3, 0, true, 30, 2),
		candidate(3, 10, 1, false, 40, 3),
	];
	let headroom = [8_000, 6_000, 3_000, 10_000];
	// Exactly: 8 kW + 2 kW at 40 (1 kW over: greedy adds the 3 kW at 30 instead);
	// 2 kW over: 8 kW + the 4 kW minimum at 11.
	let exact = 8 * 10 + 2 * 40;
	for (over_kw, best, greedy) in
		[(0, exact, exact), (1, exact, 8 * 10 + 3 * 30), (2, 8 * 10 + 4 * 11, 8 * 10 + 4 * 11)]
	{
		let d = demand(10, over_kw, false, false, 50);
		let (found, _) = solve(&d, &c, &headroom, Budget::EXACT_SMALL);
		assert_eq!(found.unwrap().score.cost, best * 1000, "{over_kw} kW over");
		assert_eq!(dp_optimum(&d, &c, &headroom, 1000).map(|o| o.1), Some(best * 1000));
		assert_eq!(merit_order(&d, &c, &headroom).unwrap().score.cost, greedy * 1000);
	}
}

/// Prices up to u128::MAX and powers up to u32::MAX, on thousands of offers: no
/// arithmetic panics, and the answers are still feasible.
#[test]
fn huge_prices_and_powers_do_not_panic() {
	let mut seed = 0x9e37_79b9_7f4a_7c15u64;
	let mut next = move || {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		seed
	};
	let n = 3_000;
	let c: Vec<Candidate> = (0..n)
		.map(|i| {
			let power_w = (next() as u32) | 1;
			let min_power_w = if next() % 3 == 0 { power_w } else { (next() as u32) % power_w };
			let price = match next() % 3 {
				0 => u128::MAX - u128::from(next() % 4),
				1 => (u128::from(next()) << 64) | u128::from(next()),
				_ => u128::from(next()),
			};
			Candidate {
				id: i as u64,
				power_w,
				min_power_w,
				price,
				group: (next() % 2_000) as usize,
			}
		})
		.collect();
	let headroom: Vec<u32> = (0..2_000).map(|_| next() as u32 | 1 << 31).collect();
	for (partial, pricing, max_over_w) in [
		(false, Pricing::PayAsBid, 0),
		(true, Pricing::PayAsBid, u32::MAX),
		(true, Pricing::PayAsClear, 7),
		(false, Pricing::PayAsClear, u32::MAX),
	] {
		let d = Demand { power_w: u32::MAX, max_price: u128::MAX, partial, max_over_w, pricing };
		let greedy = merit_order(&d, &c, &headroom);
		let (found, stats) = solve(&d, &c, &headroom, Budget { nodes: 5_000 });
		let found = found.expect("a cover exists");
		assert_eq!(check(&d, &c, &headroom, &found.fills), Ok(found.score.clone()));
		assert!(greedy.is_none_or(|g| found.score >= g.score));
		assert!(stats.lower_bound <= found.score.cost);
	}
}
