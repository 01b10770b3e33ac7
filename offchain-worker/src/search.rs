//! The least-cost cover by branch and bound, with a work budget.
//!
//! Offers are decided one by one, cheapest first: taken (then filled between its
//! minimum and its power) or left. For a fixed set of taken offers the best fill is
//! greedy: every taken offer at its minimum, then the rest topped up cheapest first
//! within each asset's headroom (the constraints are nested, so greedy is optimal).
//! The bound relaxes every undecided offer to "divisible from zero": if even that
//! cannot beat the best solution found, the subtree is cut. Without a budget the
//! result is optimal; with one, it is the best found within it, never worse than
//! the merit order, which seeds the search. Improvement steps (drop a fill, refill
//! greedily) then polish the answer within the same budget.

use crate::{check, merit_order, merit_order::take_greedily, Candidate, Demand, Fill, Solution};
use alloc::vec::Vec;

/// How much search the solver may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
	/// Most search nodes to expand (each costs O(offers)).
	pub nodes: u64,
}

impl Budget {
	/// Enough for an exact answer on books of a few dozen offers.
	pub const EXACT_SMALL: Budget = Budget { nodes: 1_000_000 };
}

/// What a search did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stats {
	/// Search nodes expanded.
	pub nodes: u64,
	/// Whether the budget ran out before the search was complete (the answer may
	/// then not be optimal).
	pub exhausted: bool,
	/// A lower bound on the cost of any solution covering as much as the answer
	/// (pay-as-bid score cost), from the root relaxation.
	pub lower_bound: u128,
}

/// Finds the best cover of `demand` (most power, then least cost) from `candidates`
/// within `budget`. `None` if nothing feasible exists (or none was found in budget).
pub fn solve(
	demand: &Demand,
	candidates: &[Candidate],
	headroom: &[u32],
	budget: Budget,
) -> (Option<Solution>, Stats) {
	let mut order: Vec<usize> =
		(0..candidates.len()).filter(|&i| candidates[i].price <= demand.max_price).collect();
	order.sort_by_key(|&i| (candidates[i].price, candidates[i].id));
	let mut s = Search {
		demand,
		candidates,
		headroom,
		order,
		taken: Vec::new(),
		best: merit_order(demand, candidates, headroom),
		stats: Stats::default(),
		budget,
	};
	s.stats.lower_bound = s.relaxed(0).map(|(_, cost, _)| cost).unwrap_or(0);
	s.run();
	improve(demand, candidates, headroom, &s.order, &mut s.best, budget.nodes);
	(s.best, s.stats)
}

struct Search<'a> {
	demand: &'a Demand,
	candidates: &'a [Candidate],
	headroom: &'a [u32],
	/// Eligible candidate indices, cheapest first.
	order: Vec<usize>,
	/// Decisions so far: for each depth, whether `order[depth]` is taken.
	taken: Vec<bool>,
	best: Option<Solution>,
	stats: Stats,
	budget: Budget,
}

impl Search<'_> {
	/// Depth-first, "take" before "leave", with an explicit stack.
	fn run(&mut self) {
		// Each frame: the depth whose decision is next, and whether "leave" was tried.
		let mut stack: Vec<bool> = Vec::new();
		loop {
			if self.stats.nodes >= self.budget.nodes {
				self.stats.exhausted = true;
				return;
			}
			self.stats.nodes += 1;
			let depth = self.taken.len();
			match self.promising(depth) {
				// The relaxation needs an undecided offer: branch on the next one.
				Some(true) if depth < self.order.len() => {
					self.taken.push(true);
					stack.push(false);
					continue;
				},
				// The relaxation is met by the taken offers alone: leaving every
				// undecided offer is the best completion.
				Some(_) => self.consider_leaf(),
				None => {},
			}
			// Backtrack to the deepest "take" whose "leave" is untried.
			loop {
				match stack.pop() {
					None => return,
					Some(true) => {
						self.taken.pop();
					},
					Some(false) => {
						let last = self.taken.len() - 1;
						self.taken[last] = false;
						stack.push(true);
						break;
					},
				}
			}
		}
	}

	/// Whether the subtree under the current decisions can still beat the best:
	/// `None` if not, else whether its relaxation uses an undecided offer. Under
	/// pay-as-clear the bound's pay-as-bid cost is still a lower bound of any
	/// completion's score cost (no fill is paid less than its bid).
	fn promising(&self, depth: usize) -> Option<bool> {
		let (covered, cost, uses_undecided) = self.relaxed(depth)?;
		if covered == 0 || (!self.demand.partial && covered < self.demand.power_w) {
			return None;
		}
		let beats = match &self.best {
			None => true,
			Some(best) => {
				covered > best.score.covered_w
					|| (covered == best.score.covered_w && cost < best.score.cost)
			},
		};
		beats.then_some(uses_undecided)
	}

	/// Greedy fill with decided offers fixed and undecided ones relaxed to
	/// "divisible from zero": the most power and least pay-as-bid cost any completion
	/// could reach, and whether that needs an undecided offer. `None` if the taken
	/// minimums do not fit.
	fn relaxed(&self, depth: usize) -> Option<(u32, u128, bool)> {
		let mut left = self.headroom.to_vec();
		let mut missing = self.demand.power_w as u64;
		let mut cost: u128 = 0;
		let mut room: Vec<(usize, u32, bool)> = Vec::with_capacity(self.order.len());
		for (pos, &i) in self.order.iter().enumerate() {
			let c = &self.candidates[i];
			if pos < depth {
				if !self.taken[pos] {
					continue;
				}
				let g = left.get_mut(c.group)?;
				if *g < c.min_power_w || missing < c.min_power_w as u64 {
					return None;
				}
				*g -= c.min_power_w;
				missing -= c.min_power_w as u64;
				cost += c.min_power_w as u128 * c.price;
				room.push((i, c.power_w - c.min_power_w, false));
			} else {
				room.push((i, c.power_w, true));
			}
		}
		// `order` is cheapest first, so `room` is too.
		let mut uses_undecided = false;
		for (i, extra, undecided) in room {
			if missing == 0 {
				break;
			}
			let c = &self.candidates[i];
			let Some(g) = left.get_mut(c.group) else { continue };
			let add = (extra as u64).min(*g as u64).min(missing) as u32;
			*g -= add;
			missing -= add as u64;
			cost += add as u128 * c.price;
			uses_undecided |= undecided && add > 0;
		}
		Some(((self.demand.power_w as u64 - missing) as u32, cost, uses_undecided))
	}

	/// Offers decided (undecided ones left): fill the taken ones greedily and keep
	/// the result if better.
	fn consider_leaf(&mut self) {
		let taken: Vec<usize> =
			self.order.iter().zip(&self.taken).filter(|(_, t)| **t).map(|(i, _)| *i).collect();
		if let Some(solution) = fill(self.demand, self.candidates, self.headroom, &taken) {
			if self.best.as_ref().is_none_or(|b| solution.score > b.score) {
				self.best = Some(solution);
			}
		}
	}
}

/// The best fill of exactly the offers `taken` (cheapest first): each at its
/// minimum, then topped up cheapest first. `None` if infeasible or if an offer
/// would stay unused.
fn fill(
	demand: &Demand,
	candidates: &[Candidate],
	headroom: &[u32],
	taken: &[usize],
) -> Option<Solution> {
	let mut left = headroom.to_vec();
	let mut missing = demand.power_w;
	let mut fills: Vec<Fill> = Vec::with_capacity(taken.len());
	for &i in taken {
		let c = &candidates[i];
		let g = left.get_mut(c.group)?;
		let min = c.min_power_w.max(1);
		if *g < min || missing < min {
			return None;
		}
		*g -= min;
		missing -= min;
		fills.push(Fill { index: i, power_w: min });
	}
	for f in fills.iter_mut() {
		let c = &candidates[f.index];
		let add = (c.power_w - f.power_w).min(left[c.group]).min(missing);
		left[c.group] -= add;
		missing -= add;
		f.power_w += add;
	}
	fills.sort_by_key(|f| f.index);
	let score = check(demand, candidates, headroom, &fills).ok()?;
	Some(Solution { fills, score })
}

/// Improvement steps on a solution: drop one fill (the dearest first) and refill
/// the gap greedily from the offers not taken, keeping any change that improves the
/// score, until none does or `budget` refills were tried. Each refill is O(offers).
fn improve(
	demand: &Demand,
	candidates: &[Candidate],
	headroom: &[u32],
	order: &[usize],
	best: &mut Option<Solution>,
	budget: u64,
) {
	let Some(mut current) = best.clone() else { return };
	let mut work = 0u64;
	'rounds: loop {
		let mut drops: Vec<usize> = current.fills.iter().map(|f| f.index).collect();
		drops.sort_by_key(|&i| core::cmp::Reverse((candidates[i].price, candidates[i].id)));
		for banned in drops {
			if work >= budget {
				break 'rounds;
			}
			work += 1;
			if let Some(candidate) = refill(demand, candidates, headroom, order, &current, banned) {
				if candidate.score > current.score {
					current = candidate;
					continue 'rounds;
				}
			}
		}
		break;
	}
	*best = Some(current);
}

/// `current` without the fill of offer `banned`, topped up greedily (cheapest first)
/// from the offers it does not use.
fn refill(
	demand: &Demand,
	candidates: &[Candidate],
	headroom: &[u32],
	order: &[usize],
	current: &Solution,
	banned: usize,
) -> Option<Solution> {
	let mut used = alloc::vec![false; candidates.len()];
	let mut left = headroom.to_vec();
	let mut missing = demand.power_w;
	let mut fills: Vec<Fill> = Vec::with_capacity(current.fills.len() + 4);
	for f in current.fills.iter().filter(|f| f.index != banned) {
		let g = left.get_mut(candidates[f.index].group)?;
		*g = g.checked_sub(f.power_w)?;
		missing = missing.checked_sub(f.power_w)?;
		used[f.index] = true;
		fills.push(*f);
	}
	used[banned] = true;
	let free = order.iter().copied().filter(|&i| !used[i]);
	take_greedily(candidates, free, &mut left, &mut missing, &mut fills);
	fills.sort_by_key(|f| f.index);
	let score = check(demand, candidates, headroom, &fills).ok()?;
	Some(Solution { fills, score })
}
