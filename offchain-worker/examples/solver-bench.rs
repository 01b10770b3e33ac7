//! Solver time and cost gap on seeded random books, printed as a markdown table:
//!
//!     cargo run --release -p flex-solver --example solver-bench
//!
//! Two families of pseudo-random but fixed books (a seeded generator):
//!
//! - "pairs": 1 000 to 100 000 offers of 1-10 kW at 5-30 cents/kWh, divisible or
//!   all-or-nothing, two offers per asset sharing 10 kW; a tenth of the book's power
//!   asked for, at a budget of 200 nodes;
//! - "market": 1 000 to 100 000 offers of 3.7-100 kW at eight price levels, divisible
//!   with a minimum or all-or-nothing, a fifth of the assets holding two offers that
//!   share less headroom than they offer together; requests for 5 %, 15 % and 33 % of
//!   the book's power at the runtime's budget of 2 000 nodes, the last one also with
//!   up to 50 kW over the request allowed.
//!
//! The gap is measured against the root relaxation (a lower bound on any cover's
//! cost) and against the greedy merit order the runtime would run.

use flex_solver::{merit_order, solve, Budget, Candidate, Demand, Pricing};
use std::time::Instant;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
	}
	fn range(&mut self, lo: u64, hi: u64) -> u64 {
		lo + self.next() % (hi - lo + 1)
	}
}

/// Cents per kWh in the smallest currency unit.
const CENT: u128 = 10_000_000_000;

/// The "pairs" book: 1-10 kW offers, two per asset sharing 10 kW.
fn pairs_book(n: usize, seed: u64) -> (Vec<Candidate>, Vec<u32>) {
	let mut rng = Rng(seed);
	let groups = n.div_ceil(2);
	let candidates = (0..n)
		.map(|i| {
			let power_w = rng.range(1, 10) as u32 * 1_000;
			let aon = rng.range(0, 2) == 0;
			Candidate {
				id: i as u64,
				power_w,
				min_power_w: if aon {
					power_w
				} else {
					rng.range(1, power_w as u64 / 1_000) as u32 * 1_000
				},
				price: rng.range(5, 30) as u128 * CENT,
				group: i / 2,
			}
		})
		.collect();
	(candidates, vec![10_000; groups])
}

/// One offer of the "market" book: 3.7-100 kW, 40 % all-or-nothing, the others
/// divisible down to 10-60 % of their power, at one of eight price levels.
fn market_offer(rng: &mut Rng, id: u64, group: usize) -> Candidate {
	const LEVELS: [u128; 8] = [8, 9, 10, 11, 12, 14, 16, 20];
	let power_w = rng.range(37, 1_000) as u32 * 100;
	let min_power_w = if rng.range(0, 4) < 2 {
		power_w
	} else {
		(power_w as u64 * rng.range(10, 60) / 100) as u32
	};
	let price = LEVELS[rng.range(0, 7) as usize] * CENT;
	Candidate { id, power_w, min_power_w, price, group }
}

/// The "market" book: assets with one offer, or (one in five) two offers sharing
/// less headroom than their sum.
fn market_book(n: usize, seed: u64) -> (Vec<Candidate>, Vec<u32>) {
	let mut rng = Rng(seed);
	let mut candidates = Vec::with_capacity(n);
	let mut headroom = Vec::new();
	while candidates.len() < n {
		let group = headroom.len();
		let a = market_offer(&mut rng, candidates.len() as u64, group);
		if candidates.len() + 1 < n && rng.range(0, 4) == 0 {
			let b = market_offer(&mut rng, candidates.len() as u64 + 1, group);
			let (lo, hi) = (a.power_w.max(b.power_w), a.power_w + b.power_w - 100);
			headroom.push(rng.range(lo as u64, hi as u64) as u32);
			candidates.extend([a, b]);
		} else {
			headroom.push(a.power_w + rng.range(0, 20) as u32 * 1_000);
			candidates.push(a);
		}
	}
	(candidates, headroom)
}

struct Case {
	name: &'static str,
	candidates: Vec<Candidate>,
	headroom: Vec<u32>,
	demand: Demand,
	budget: Budget,
}

fn cases() -> Vec<Case> {
	let mut cases = Vec::new();
	for &n in &[1_000usize, 10_000, 100_000] {
		let (candidates, headroom) = pairs_book(n, 0x5eed ^ n as u64);
		let total: u64 = candidates.iter().map(|c| c.power_w as u64).sum();
		let demand = Demand {
			power_w: (total / 10) as u32,
			max_price: 25 * CENT,
			partial: false,
			max_over_w: 0,
			pricing: Pricing::PayAsBid,
		};
		cases.push(Case {
			name: "pairs",
			candidates,
			headroom,
			demand,
			budget: Budget { nodes: 200 },
		});
	}
	for &n in &[1_000usize, 10_000, 100_000] {
		// The last book again, accepting up to 50 kW above the request.
		for (k, (percent, max_over_w)) in
			[(5, 0), (15, 0), (33, 0), (33, 50_000)].into_iter().enumerate()
		{
			let (candidates, headroom) = market_book(n, 0xb00c ^ (n as u64) << 8 ^ k.min(2) as u64);
			let total: u64 = candidates.iter().map(|c| c.power_w as u64).sum();
			let demand = Demand {
				power_w: (total * percent / 100 / 100 * 100) as u32,
				max_price: 16 * CENT,
				partial: false,
				max_over_w,
				pricing: Pricing::PayAsBid,
			};
			let budget = Budget { nodes: 2_000 };
			cases.push(Case { name: "market", candidates, headroom, demand, budget });
		}
	}
	cases
}

fn main() {
	println!("| book | offers | demand | budget (nodes) | time | nodes | exhausted | cost vs lower bound | saving vs merit order |");
	println!("|---|---|---|---|---|---|---|---|---|");
	for case in cases() {
		let Case { name, candidates, headroom, demand, budget } = case;
		let n = candidates.len();
		let runs = if n <= 10_000 { 5 } else { 1 };
		let start = Instant::now();
		let mut result = None;
		for _ in 0..runs {
			result = Some(solve(&demand, &candidates, &headroom, budget));
		}
		let per_run = start.elapsed() / runs;
		let (solution, stats) = result.unwrap();
		let solution = solution.expect("a cover exists");
		let greedy = merit_order(&demand, &candidates, &headroom).map(|s| s.score.cost);
		let gap =
			100.0 * (solution.score.cost - stats.lower_bound) as f64 / stats.lower_bound as f64;
		let saving = greedy
			.map(|g| format!("{:.3} %", 100.0 * (g as f64 - solution.score.cost as f64) / g as f64))
			.unwrap_or_else(|| "greedy finds none".into());
		println!(
			"| {name} | {n} | {:.1} kW{} | {} | {:.1} ms | {} | {} | +{gap:.3} % | {saving} |",
			demand.power_w as f64 / 1_000.0,
			match demand.max_over_w {
				0 => String::new(),
				over => format!(" (+{} kW over)", over / 1_000),
			},
			budget.nodes,
			per_run.as_secs_f64() * 1e3,
			stats.nodes,
			stats.exhausted,
		);
	}
}
