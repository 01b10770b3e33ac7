//! The least-cost cover by branch and bound, with a work budget.
//!
//! The usable offers ("items") are sorted once, cheapest first, and decided in that
//! order, depth first: taken (then filled between its minimum and its power) or
//! left. For a set of taken items the best fill is greedy: every taken item at its
//! minimum, then topped up cheapest first within each asset's headroom up to the
//! request (the constraints are nested, so greedy is optimal).
//!
//! **The bound** relaxes every undecided item to "divisible from zero". Its value is
//! the greedy fill of that relaxation: the taken minimums, then the "extras" in
//! price order: what each taken item may add above its minimum, then each undecided
//! item's power, until the request is met. An item's extra or power is its
//! *allocation*, capped by the headroom its asset has left after the taken
//! minimums and the earlier items of the asset; only assets whose offers together
//! exceed their headroom ("shared" assets) need this, all others allocate the
//! item's power. Allocations are kept in Fenwick trees over the price order (with
//! the minimums of left items, whose allocation is zero, added back so that one
//! tree serves the decided prefix and the undecided rest alike). So the bound is a
//! prefix sum plus a search for the item where the sum crosses the request (the
//! *critical* item), O(log n); deciding an item changes the allocations of its own
//! asset only, O(k log n) for an asset with k offers. The bound is exact for the
//! relaxation, so a valid lower bound on the cost (and upper bound on the cover)
//! of any completion. Over-cover (`max_over_w`) only lets the taken minimums
//! exceed the request (up to the cap); the relaxation never fills beyond it.
//!
//! **The search** dives without spending nodes where the relaxation already
//! decides: undecided items it uses whole are taken in one step (this changes no
//! allocation, so the bound stays). It stops to decide one item at a time at the
//! critical item, at items the relaxation uses but cannot use at their minimum
//! (their asset's headroom is mostly taken by cheaper offers), and at items of
//! shared assets the plan (see `plan`: the best set of each asset's offers at the
//! root's marginal price) leaves out. It tries first the planned choice, else the
//! choice whose bound is better ("take" on a tie; an item allocated nothing is
//! left first), and keeps diving while that choice can still beat the best.
//! Backtracking tries the other choice of the deepest decision, so the search is
//! complete: without a budget the result is optimal. A node is the bound of one
//! set of decisions; it is cut when it cannot beat the best solution found, and is
//! a leaf when the relaxation needs no undecided item (then leaving them all is the
//! best completion). With a budget the answer is the best found, never worse than
//! the merit order, which seeds it.

//! For pay-as-clear the bound's cost is the fill's total at the price of the
//! dearest item the relaxation uses: no cheaper items can cover as much.
//!
//! Sums of power are `u64` (exact for fewer than 2^32 offers); sums of power ×
//! price are exact 256-bit [`Wide`]s, saturated to `u128` when compared with scores.

use crate::{
	book::{Book, UNSHARED},
	check,
	fenwick::Fenwick,
	merit_order,
	plan::plan,
	wide::Wide,
	Candidate, Demand, Fill, Pricing, Solution,
};
use alloc::{vec, vec::Vec};

mod bound;

/// How much search the solver may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
	/// Most search nodes (bounds of a set of decisions) to expand. A node costs
	/// O(log offers), O(k log offers) if it decides an offer of an asset with k
	/// offers sharing headroom; so does each offer the dive between nodes stops at,
	/// while it takes the offers in between in one step.
	pub nodes: u64,
}

impl Budget {
	/// Enough for an exact answer on random books of a few hundred offers.
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

/// Finds the best cover of `demand` (most useful power, then least cost) from
/// `candidates` within `budget`. `None` if nothing feasible exists (or none was
/// found in budget).
pub fn solve(
	demand: &Demand,
	candidates: &[Candidate],
	headroom: &[u32],
	budget: Budget,
) -> (Option<Solution>, Stats) {
	let greedy = merit_order(demand, candidates, headroom);
	let book = Book::new(demand, candidates, headroom);
	let mut search = Search::new(&book, demand, budget);
	search.best =
		greedy.as_ref().map(|s| Value { covered: s.score.covered_w.into(), cost: s.score.cost });
	let root = search.relax();
	search.stats.lower_bound = root.cost.saturate();
	search.set_plan(root.critical.filter(|&s| s < book.len()).map(|s| book.price[s]));
	search.run();
	let found = search.solution(demand, candidates, headroom);
	let best = match (greedy, found) {
		(Some(g), Some(f)) => Some(if f.score > g.score { f } else { g }),
		(g, f) => g.or(f),
	};
	(best, search.stats)
}

/// The first item from `from` on with a count of one in `counts` (`len` if none).
fn first_counted(counts: &Fenwick<u64>, from: usize, len: usize) -> usize {
	let before = counts.prefix(from);
	counts.last_where(len, |_, count| count <= before).0
}

/// A decision on the path from the root, in item order.
#[derive(Clone, Copy, Debug)]
enum Frame {
	/// Items `from..to` taken in one step; each one's "leave" is still to try.
	Run { from: usize, to: usize, before: Option<usize> },
	/// Item `pos` taken or left; `retry` if the other choice is still to try.
	Pick { pos: usize, take: bool, retry: bool, before: Option<usize> },
}

impl Frame {
	/// The last item taken up to and including this frame (`before`: up to the one
	/// below it).
	fn last_taken(&self) -> Option<usize> {
		match *self {
			Frame::Run { from, to, before } => (to > from).then(|| to - 1).or(before),
			Frame::Pick { pos, take, before, .. } => take.then_some(pos).or(before),
		}
	}
}

/// Useful cover and saturated score cost of a solution (or a bound on them).
#[derive(Clone, Copy, Debug)]
struct Value {
	covered: u64,
	cost: u128,
}

impl Value {
	/// Whether `self` is strictly better: more cover, or as much for less.
	fn beats(&self, other: &Option<Value>) -> bool {
		other.is_none_or(|o| {
			self.covered > o.covered || (self.covered == o.covered && self.cost < o.cost)
		})
	}
}

/// What to do with a node.
enum Step {
	Prune,
	Leaf(Value),
	Branch,
}

/// A branch-and-bound search over a book: the decisions so far and the state of
/// the relaxation under them.
struct Search<'a> {
	book: &'a Book,
	/// Requested power, and the most the fills may add up to.
	want: u64,
	cap: u64,
	partial: bool,
	clear: bool,
	/// Items `0..decided` are decided; the others are not.
	decided: usize,
	left: Vec<bool>,
	/// Σ min and Σ min × price over the left items.
	left_min: u64,
	left_min_cost: Wide,
	/// Each item's allocation (see the module docs).
	alloc: Vec<u32>,
	/// Fenwick trees over alloc + min × left, and that × price.
	supply: Fenwick<u64>,
	supply_cost: Fenwick<Wide>,
	/// Undecided items allocated less than their minimum.
	odd: Vec<bool>,
	odd_count: Fenwick<u64>,
	/// The child to explore first for items of shared groups (see `plan`), and a
	/// count of the items to leave first.
	plan: Vec<Option<bool>>,
	shunned: Fenwick<u64>,
	/// Shared groups whose taken minimums exceed their headroom.
	over: Vec<bool>,
	over_count: usize,
	frames: Vec<Frame>,
	best: Option<Value>,
	best_frames: Option<Vec<Frame>>,
	stats: Stats,
	budget: u64,
}

impl<'a> Search<'a> {
	fn new(book: &'a Book, demand: &Demand, budget: Budget) -> Self {
		let mut alloc = book.power.clone();
		for g in 0..book.headroom.len() as u32 {
			let mut room = book.headroom[g as usize];
			for &pos in book.members(g) {
				alloc[pos] = alloc[pos].min(room);
				room -= alloc[pos];
			}
		}
		let odd: Vec<bool> = (0..book.len()).map(|pos| alloc[pos] < book.min[pos]).collect();
		let want = u64::from(demand.power_w);
		Search {
			book,
			want,
			cap: want + u64::from(demand.max_over_w),
			partial: demand.partial,
			clear: demand.pricing == Pricing::PayAsClear,
			decided: 0,
			left: vec![false; book.len()],
			left_min: 0,
			left_min_cost: Wide::ZERO,
			supply: Fenwick::new(alloc.iter().map(|&a| u64::from(a))),
			supply_cost: Fenwick::new(
				alloc.iter().zip(&book.price).map(|(&a, &p)| Wide::product(a.into(), p)),
			),
			alloc,
			odd_count: Fenwick::new(odd.iter().map(|&o| u64::from(o))),
			odd,
			plan: Vec::new(),
			shunned: Fenwick::new(core::iter::empty()),
			over: vec![false; book.headroom.len()],
			over_count: 0,
			frames: Vec::new(),
			best: None,
			best_frames: None,
			stats: Stats::default(),
			budget: budget.nodes,
		}
	}

	/// Plans the shared groups' items at the root's marginal price `margin`.
	fn set_plan(&mut self, margin: Option<u128>) {
		self.plan = plan(self.book, margin);
		self.shunned = Fenwick::new(self.plan.iter().map(|&p| u64::from(p == Some(false))));
	}

	/// Depth first, each node bounded once, until the tree or the budget is spent.
	fn run(&mut self) {
		loop {
			#[cfg(test)]
			self.assert_consistent();
			if self.stats.nodes >= self.budget {
				self.stats.exhausted = true;
				return;
			}
			self.stats.nodes += 1;
			match self.evaluate() {
				Step::Branch => {
					self.descend();
					continue;
				},
				Step::Leaf(value) => {
					self.best = Some(value);
					self.best_frames = Some(self.frames.clone());
				},
				Step::Prune => {},
			}
			if !self.backtrack() {
				return;
			}
		}
	}

	/// Bounds the current node.
	fn evaluate(&self) -> Step {
		match self.bound(self.last_taken()) {
			Some((bound, critical)) if bound.beats(&self.best) => match critical {
				Some(_) => Step::Branch,
				None => Step::Leaf(bound),
			},
			_ => Step::Prune,
		}
	}

	/// The bound of the current decisions (the last taken item being `last_taken`)
	/// and the relaxation's critical item; `None` if no completion is feasible.
	fn bound(&self, last_taken: Option<usize>) -> Option<(Value, Option<usize>)> {
		if self.over_count > 0 || self.taken_min() > self.cap {
			return None;
		}
		let r = self.relax();
		if r.covered == 0 || (!self.partial && r.covered < self.want) {
			return None;
		}
		Some((Value { covered: r.covered, cost: self.score_cost(&r, last_taken) }, r.critical))
	}

	/// From a node whose relaxation needs undecided items: takes those it uses
	/// whole and decides the others (see the module docs) one by one up to the
	/// critical item, each choice to be revised on backtracking.
	fn descend(&mut self) {
		let n = self.book.len();
		loop {
			let Some(critical) = self.relax().critical else { return };
			let odd = self.next_odd();
			let stop = critical.min(odd).min(self.next_shunned());
			self.take_run(stop);
			if stop >= n {
				return;
			}
			let (take, promising) = self.choose(stop);
			self.push_pick(stop, take);
			if stop == critical || !promising {
				return;
			}
		}
	}

	/// Whether to take the next item, `pos`, first (as planned, else if that bounds
	/// better than leaving it, or as well); and whether that child can still beat
	/// the best. An item allocated nothing is left first unless planned: leaving it
	/// keeps the bound, taking it cannot improve it.
	fn choose(&mut self, pos: usize) -> (bool, bool) {
		let planned = self.plan[pos];
		if self.alloc[pos] == 0 && planned != Some(true) {
			return (false, true);
		}
		self.decided = pos + 1;
		let take = self.child_bound(pos, true);
		let leave = self.child_bound(pos, false);
		self.decided = pos;
		self.set_left(pos, false);
		self.refresh(pos);
		let take_first = match (planned, take, leave) {
			(Some(true), Some(_), _) => true,
			(Some(false), _, Some(_)) => false,
			(_, Some(take), leave) => !leave.is_some_and(|leave| leave.beats(&Some(take))),
			(_, None, leave) => leave.is_none(),
		};
		let first = if take_first { take } else { leave };
		(take_first, first.is_some_and(|bound| bound.beats(&self.best)))
	}

	/// The bound with the next item, `pos`, taken or left; `None` if infeasible.
	fn child_bound(&mut self, pos: usize, take: bool) -> Option<Value> {
		self.set_left(pos, !take);
		self.refresh(pos);
		let last = if take { Some(pos) } else { self.last_taken() };
		self.bound(last).map(|(bound, _)| bound)
	}

	/// The first undecided item allocated less than its minimum (the item count if none).
	fn next_odd(&self) -> usize {
		first_counted(&self.odd_count, self.decided, self.book.len())
	}

	/// The first undecided item planned to be left first (the item count if none).
	fn next_shunned(&self) -> usize {
		first_counted(&self.shunned, self.decided, self.book.len())
	}

	/// Takes the undecided items up to `stop`, all allocated at least their minimum:
	/// no allocation changes (the minimums reserved fit where the extras were).
	fn take_run(&mut self, stop: usize) {
		if stop <= self.decided {
			return;
		}
		match self.frames.last_mut() {
			Some(Frame::Run { to, .. }) if *to == self.decided => *to = stop,
			_ => {
				let before = self.last_taken();
				self.frames.push(Frame::Run { from: self.decided, to: stop, before });
			},
		}
		self.decided = stop;
	}

	fn last_taken(&self) -> Option<usize> {
		self.frames.last().and_then(Frame::last_taken)
	}

	/// Decides the next item, `take` or leave, the other choice to be tried later.
	fn push_pick(&mut self, pos: usize, take: bool) {
		let before = self.last_taken();
		self.frames.push(Frame::Pick { pos, take, retry: true, before });
		self.decided = pos + 1;
		self.set_left(pos, !take);
		if take || self.alloc[pos] > 0 {
			self.refresh(pos);
		} else {
			// Allocated nothing, so its asset's allocations stay as they are.
			self.set_odd(pos, false);
		}
	}

	/// Moves to the next untried choice of the deepest decision that has one;
	/// `false` when none is left.
	fn backtrack(&mut self) -> bool {
		while let Some(frame) = self.frames.last_mut() {
			match *frame {
				Frame::Pick { pos, take, retry: true, before } => {
					*frame = Frame::Pick { pos, take: !take, retry: false, before };
					self.set_left(pos, take);
					self.refresh(pos);
					return true;
				},
				Frame::Pick { pos, .. } => {
					self.frames.pop();
					self.decided = pos;
					self.set_left(pos, false);
					self.refresh(pos);
				},
				Frame::Run { from, to, before } if to > from => {
					*frame = Frame::Run { from, to: to - 1, before };
					let before = self.last_taken();
					self.frames.push(Frame::Pick {
						pos: to - 1,
						take: false,
						retry: false,
						before,
					});
					self.set_left(to - 1, true);
					self.refresh(to - 1);
					return true;
				},
				Frame::Run { .. } => {
					self.frames.pop();
				},
			}
		}
		false
	}

	/// The best leaf found, filled and scored; `None` if the search found none.
	fn solution(
		&self,
		demand: &Demand,
		candidates: &[Candidate],
		headroom: &[u32],
	) -> Option<Solution> {
		let taken: Vec<usize> = self
			.best_frames
			.as_ref()?
			.iter()
			.flat_map(|f| match *f {
				Frame::Run { from, to, .. } => from..to,
				Frame::Pick { pos, take: true, .. } => pos..pos + 1,
				Frame::Pick { .. } => 0..0,
			})
			.collect();
		let fills = self.fill(&taken);
		let score = check(demand, candidates, headroom, &fills).ok()?;
		#[cfg(test)]
		assert!(self
			.best
			.is_some_and(|b| (b.covered, b.cost) == (score.covered_w.into(), score.cost)));
		Some(Solution { fills, score })
	}

	/// The best fill of the `taken` items (ascending): each at its minimum, then
	/// topped up cheapest first within the shared headroom, up to the request.
	fn fill(&self, taken: &[usize]) -> Vec<Fill> {
		let b = self.book;
		let mut room: Vec<u64> = b.headroom.iter().map(|&h| u64::from(h)).collect();
		let mut mins = 0u64;
		for &pos in taken {
			mins = mins.saturating_add(b.min[pos].into());
			if b.shared[pos] != UNSHARED {
				let r = &mut room[b.shared[pos] as usize];
				*r = r.saturating_sub(b.min[pos].into());
			}
		}
		let mut missing = self.want.saturating_sub(mins);
		let mut fills: Vec<Fill> = taken
			.iter()
			.map(|&pos| {
				let (min, power) = (b.min[pos], b.power[pos]);
				let mut extra = u64::from(power - min).min(missing);
				if b.shared[pos] != UNSHARED {
					let r = &mut room[b.shared[pos] as usize];
					extra = extra.min(*r);
					*r -= extra;
				}
				missing -= extra;
				Fill { index: b.index[pos], power_w: min + extra as u32 }
			})
			.collect();
		fills.sort_by_key(|f| f.index);
		fills
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	impl Search<'_> {
		/// Recomputes from scratch what the search keeps up to date incrementally.
		pub(super) fn assert_consistent(&self) {
			let b = self.book;
			let taken = self.taken_by_frames();
			let last = (0..self.decided).rev().find(|&pos| taken[pos]);
			assert_eq!(self.last_taken(), last);
			for (pos, &left) in self.left.iter().enumerate() {
				assert_eq!(left, pos < self.decided && !taken[pos]);
			}
			let alloc = self.recomputed_alloc(&taken);
			assert_eq!(alloc, self.alloc);
			let mut sum = 0u64;
			for (pos, &a) in alloc.iter().enumerate() {
				assert_eq!(self.supply.prefix(pos), sum);
				sum += u64::from(a) + u64::from(self.left[pos]) * u64::from(b.min[pos]);
				assert_eq!(self.odd[pos], pos >= self.decided && a < b.min[pos]);
			}
			assert_eq!(self.supply.prefix(b.len()), sum);
			let left_min: u64 =
				(0..b.len()).filter(|&p| self.left[p]).map(|p| u64::from(b.min[p])).sum();
			assert_eq!(self.left_min, left_min);
		}

		/// Which items the frames take; they must cover `0..decided` in order.
		fn taken_by_frames(&self) -> Vec<bool> {
			let mut taken = vec![false; self.book.len()];
			let mut next = 0;
			for frame in &self.frames {
				let (from, to, take) = match *frame {
					Frame::Run { from, to, .. } => (from, to, true),
					Frame::Pick { pos, take, .. } => (pos, pos + 1, take),
				};
				assert_eq!(from, next, "frames follow each other");
				taken[from..to].iter_mut().for_each(|t| *t = take);
				next = to;
			}
			assert_eq!(next, self.decided);
			taken
		}

		/// Each item's allocation, recomputed group by group (checking `over`).
		fn recomputed_alloc(&self, taken: &[bool]) -> Vec<u32> {
			let b = self.book;
			let mut alloc: Vec<u32> =
				(0..b.len()).map(|pos| if self.left[pos] { 0 } else { b.power[pos] }).collect();
			for g in 0..b.headroom.len() as u32 {
				let members = b.members(g);
				let reserved: u32 = members.iter().filter(|&&p| taken[p]).map(|&p| b.min[p]).sum();
				assert_eq!(self.over[g as usize], reserved > b.headroom[g as usize]);
				let mut room = b.headroom[g as usize].saturating_sub(reserved);
				for &pos in members.iter().filter(|&&p| !self.left[p]) {
					let floor = if taken[pos] { b.min[pos] } else { 0 };
					let more = (b.power[pos] - floor).min(room);
					room -= more;
					alloc[pos] = floor + more;
				}
			}
			alloc
		}
	}

	fn book() -> impl Strategy<Value = (Vec<Candidate>, Vec<u32>)> {
		let offer = (1u32..=8, 1u32..=8, any::<bool>(), 1u128..=6, 0usize..6);
		(prop::collection::vec(offer, 1..=30), prop::collection::vec(2u32..=14, 6)).prop_map(
			|(offers, headroom)| {
				let c = offers
					.into_iter()
					.enumerate()
					.map(|(i, (kw, min_kw, aon, price, group))| Candidate {
						id: i as u64,
						power_w: kw * 1000,
						min_power_w: if aon { kw * 1000 } else { min_kw.min(kw) * 1000 },
						price,
						group,
					})
					.collect();
				(c, headroom.into_iter().map(|kw| kw * 1000).collect())
			},
		)
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(300))]

		/// Every step of the search keeps its incremental state equal to a
		/// recomputation, and the best leaf's value equals its solution's score.
		#[test]
		fn incremental_state_matches_a_recomputation(
			(c, headroom) in book(),
			kw in 1u32..=60,
			over_kw in 0u32..=4,
			partial in any::<bool>(),
			clear in any::<bool>(),
			nodes in 1u64..=400,
		) {
			let demand = Demand {
				power_w: kw * 1000,
				max_price: 5,
				partial,
				max_over_w: over_kw * 1000,
				pricing: if clear { Pricing::PayAsClear } else { Pricing::PayAsBid },
			};
			let (found, stats) = solve(&demand, &c, &headroom, Budget { nodes });
			prop_assert!(stats.nodes <= nodes);
			if let Some(found) = found {
				prop_assert_eq!(check(&demand, &c, &headroom, &found.fills), Ok(found.score));
			}
		}
	}
}
