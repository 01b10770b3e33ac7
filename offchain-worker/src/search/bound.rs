//! The bound: the greedy fill of the relaxation, and the allocations it is read
//! from, kept up to date as items are decided (see the parent module's docs).

use super::{Search, UNSHARED};
use crate::wide::Wide;

/// The relaxation of the current node.
pub(super) struct Relaxed {
	/// Useful cover (at most the request).
	pub(super) covered: u64,
	/// Fill power: the cover, or the taken minimums when they exceed the request.
	pub(super) total: u64,
	/// Pay-as-bid cost.
	pub(super) cost: Wide,
	/// The undecided item where the fill crosses the request (the item count if it
	/// never does), or `None` if the fill needs no undecided item.
	pub(super) critical: Option<usize>,
	/// The dearest undecided item the fill uses, if any.
	pub(super) top: Option<usize>,
}

impl Search<'_> {
	/// A lower bound on the score cost of the node's completions covering as much
	/// as its relaxation, exact at a leaf. Pay as bid: the relaxation's cost. Pay as
	/// clear: the fill's total at the price of the dearest item the relaxation
	/// uses, as no cheaper items cover as much.
	pub(super) fn score_cost(&self, r: &Relaxed, last_taken: Option<usize>) -> u128 {
		if !self.clear {
			return r.cost.saturate();
		}
		let dearest = r.top.or(last_taken);
		let price = dearest.map_or(0, |pos| self.book.price[pos]);
		u128::from(r.total).saturating_mul(price)
	}

	/// Σ min over the taken items.
	pub(super) fn taken_min(&self) -> u64 {
		self.book.min_sum[self.decided].saturating_sub(self.left_min)
	}

	/// The greedy fill of the relaxation: the taken minimums, then the extras in
	/// price order up to the request.
	pub(super) fn relax(&self) -> Relaxed {
		let (b, d) = (self.book, self.decided);
		let mins = self.taken_min();
		let min_cost = b.min_cost[d] - self.left_min_cost;
		if mins >= self.want {
			let (covered, total, cost) = (self.want, mins, min_cost);
			return Relaxed { covered, total, cost, critical: None, top: None };
		}
		let need = self.want - mins;
		let at_d = self.supply.prefix(d);
		let extra = at_d.saturating_sub(b.min_sum[d]);
		if extra >= need {
			return self.trimmed(need, min_cost);
		}
		let base = min_cost + (self.supply_cost.prefix(d) - b.min_cost[d]);
		let target = at_d + (need - extra);
		let (s, at_s) = self.supply.last_where(b.len(), |_, sum| sum < target);
		let used = self.supply_cost.prefix(s) - self.supply_cost.prefix(d);
		if s == b.len() {
			let covered = mins + extra + (at_s - at_d);
			// The last item with supply, if any undecided one has.
			let top = (at_s > at_d).then(|| self.supply.last_where(s, |_, sum| sum < at_s).0);
			let critical = top.map(|_| s);
			return Relaxed { covered, total: covered, cost: base + used, critical, top };
		}
		let cost = base + used + Wide::product(target - at_s, b.price[s]);
		Relaxed { covered: self.want, total: self.want, cost, critical: Some(s), top: Some(s) }
	}

	/// The relaxation when the taken items' extras alone cover the `need` above
	/// their minimums: the cheapest extras up to it.
	fn trimmed(&self, need: u64, min_cost: Wide) -> Relaxed {
		let b = self.book;
		let extra_before = |q: usize, sum: u64| sum.saturating_sub(b.min_sum[q]);
		let (c, sum) = self.supply.last_where(self.decided, |q, sum| extra_before(q, sum) < need);
		let cheaper = self.supply_cost.prefix(c) - b.min_cost[c];
		let part = Wide::product(need - extra_before(c, sum), b.price[c]);
		Relaxed {
			covered: self.want,
			total: self.want,
			cost: min_cost + cheaper + part,
			critical: None,
			top: None,
		}
	}

	/// Marks item `pos` left (or not), with the minimum it then adds back to the trees.
	pub(super) fn set_left(&mut self, pos: usize, left: bool) {
		if self.left[pos] == left {
			return;
		}
		self.left[pos] = left;
		let min = u64::from(self.book.min[pos]);
		let cost = Wide::product(min, self.book.price[pos]);
		if left {
			self.supply.add(pos, min);
			self.supply_cost.add(pos, cost);
			(self.left_min, self.left_min_cost) = (self.left_min + min, self.left_min_cost + cost);
		} else {
			self.supply.sub(pos, min);
			self.supply_cost.sub(pos, cost);
			(self.left_min, self.left_min_cost) = (self.left_min - min, self.left_min_cost - cost);
		}
	}

	/// Recomputes the allocations item `pos`'s decision may have changed.
	pub(super) fn refresh(&mut self, pos: usize) {
		match self.book.shared[pos] {
			UNSHARED => self.set_alloc(pos, if self.left[pos] { 0 } else { self.book.power[pos] }),
			g => self.regroup(g),
		}
	}

	/// Allocates shared group `g`'s headroom: taken minimums first, then extras and
	/// undecided powers in price order.
	fn regroup(&mut self, g: u32) {
		let b = self.book;
		let members = b.members(g);
		let taken = |s: &Self, pos: usize| pos < s.decided && !s.left[pos];
		let reserved = members
			.iter()
			.filter(|&&pos| taken(self, pos))
			.fold(0u64, |sum, &pos| sum.saturating_add(b.min[pos].into()));
		let headroom = u64::from(b.headroom[g as usize]);
		self.set_over(g, reserved > headroom);
		let mut room = headroom.saturating_sub(reserved);
		for &pos in members {
			let (min, power) = (u64::from(b.min[pos]), u64::from(b.power[pos]));
			// The allocation, and what it takes from the room.
			let (alloc, used) = if self.left[pos] {
				(0, 0)
			} else if pos < self.decided {
				let extra = (power - min).min(room);
				(min + extra, extra)
			} else {
				let take = power.min(room);
				(take, take)
			};
			room -= used;
			self.set_alloc(pos, alloc as u32);
			self.set_odd(pos, pos >= self.decided && alloc < min);
		}
	}

	/// Sets item `pos`'s allocation, updating the trees by the difference.
	fn set_alloc(&mut self, pos: usize, alloc: u32) {
		let old = self.alloc[pos];
		if old == alloc {
			return;
		}
		let price = self.book.price[pos];
		if alloc > old {
			let delta = u64::from(alloc - old);
			self.supply.add(pos, delta);
			self.supply_cost.add(pos, Wide::product(delta, price));
		} else {
			let delta = u64::from(old - alloc);
			self.supply.sub(pos, delta);
			self.supply_cost.sub(pos, Wide::product(delta, price));
		}
		self.alloc[pos] = alloc;
	}

	/// Marks item `pos` as allocated less than its minimum while undecided (or not).
	pub(super) fn set_odd(&mut self, pos: usize, odd: bool) {
		if self.odd[pos] != odd {
			self.odd[pos] = odd;
			if odd {
				self.odd_count.add(pos, 1);
			} else {
				self.odd_count.sub(pos, 1);
			}
		}
	}

	/// Marks shared group `g` as reserving more minimums than its headroom (or not).
	fn set_over(&mut self, g: u32, over: bool) {
		let g = g as usize;
		if self.over[g] != over {
			self.over[g] = over;
			if over {
				self.over_count += 1;
			} else {
				self.over_count -= 1;
			}
		}
	}
}
