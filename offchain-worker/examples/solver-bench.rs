//! Solver time and cost gap on books of 1 000, 10 000 and 100 000 offers in one
//! location, printed as a table:
//!
//!     cargo run --release -p flex-solver --example solver-bench
//!
//! Books are pseudo-random but fixed (a seeded generator): a mix of divisible and
//! all-or-nothing offers of 1-10 kW at 5-30 cents/kWh, two offers per asset. The gap
//! is measured against the root relaxation (a lower bound on any cover's cost) and
//! against the greedy merit order the runtime would run.

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

fn book(n: usize, seed: u64) -> (Vec<Candidate>, Vec<u32>) {
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
				price: rng.range(5, 30) as u128 * 10_000_000_000,
				group: i / 2,
			}
		})
		.collect();
	(candidates, vec![10_000; groups])
}

fn main() {
	println!("| offers | demand | budget (nodes) | time | nodes | exhausted | cost vs lower bound | saving vs merit order |");
	println!("|---|---|---|---|---|---|---|---|");
	for &n in &[1_000usize, 10_000, 100_000] {
		let (candidates, headroom) = book(n, 0x5eed ^ n as u64);
		// Ask for about a tenth of the book's power, full cover required.
		let total: u64 = candidates.iter().map(|c| c.power_w as u64).sum();
		let demand = Demand {
			power_w: (total / 10) as u32,
			max_price: 25 * 10_000_000_000,
			partial: false,
			pricing: Pricing::PayAsBid,
		};
		let budget = Budget { nodes: 200 };
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
			"| {n} | {} kW | {} | {:.1} ms | {} | {} | +{gap:.3} % | {saving} |",
			demand.power_w / 1_000,
			budget.nodes,
			per_run.as_secs_f64() * 1e3,
			stats.nodes,
			stats.exhausted,
		);
	}
}
