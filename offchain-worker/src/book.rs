//! The book as the search sees it: the usable offers cheapest first, each capped by
//! its asset's headroom, and the assets whose offers compete for their headroom.

use crate::{wide::Wide, Candidate, Demand};
use alloc::{vec, vec::Vec};

/// Marks an item whose asset's offers fit its headroom all together.
pub(crate) const UNSHARED: u32 = u32::MAX;

/// Usable offers ("items") in price order, with the static sums the bound needs.
pub(crate) struct Book {
	/// Candidate index of each item, cheapest first (price, then offer id).
	pub(crate) index: Vec<usize>,
	/// Power of each item in watts, capped at its asset's headroom.
	pub(crate) power: Vec<u32>,
	/// Smallest fill of each item in watts, at least 1.
	pub(crate) min: Vec<u32>,
	/// Price of each item.
	pub(crate) price: Vec<u128>,
	/// Shared group of each item (an index into `headroom`), or [`UNSHARED`].
	pub(crate) shared: Vec<u32>,
	/// Headroom of each shared group: an asset whose offers together exceed it.
	pub(crate) headroom: Vec<u32>,
	/// Items of shared group `g` are `members[starts[g]..starts[g + 1]]`, ascending.
	starts: Vec<usize>,
	members: Vec<usize>,
	/// `min_sum[q]`: Σ min over items `0..q`; `min_cost[q]`: Σ min × price.
	pub(crate) min_sum: Vec<u64>,
	pub(crate) min_cost: Vec<Wide>,
}

impl Book {
	/// Sorts the usable candidates (price within the ceiling, minimum within the
	/// offer's power and its asset's headroom) cheapest first, ties by offer id.
	pub(crate) fn new(demand: &Demand, candidates: &[Candidate], headroom: &[u32]) -> Book {
		let usable = |c: &Candidate| {
			let min = c.min_power_w.max(1);
			let free = headroom.get(c.group).copied().unwrap_or(0);
			c.price <= demand.max_price && c.power_w >= min && free >= min
		};
		let mut index: Vec<usize> =
			(0..candidates.len()).filter(|&i| usable(&candidates[i])).collect();
		index.sort_by_key(|&i| (candidates[i].price, candidates[i].id));
		let cand = |pos: usize| &candidates[index[pos]];
		let power: Vec<u32> =
			(0..index.len()).map(|pos| cand(pos).power_w.min(headroom[cand(pos).group])).collect();
		let min: Vec<u32> = (0..index.len()).map(|pos| cand(pos).min_power_w.max(1)).collect();
		let price: Vec<u128> = (0..index.len()).map(|pos| cand(pos).price).collect();
		let mut min_sum = Vec::with_capacity(index.len() + 1);
		let mut min_cost = Vec::with_capacity(index.len() + 1);
		let (mut sum, mut cost) = (0u64, Wide::ZERO);
		for pos in 0..=index.len() {
			min_sum.push(sum);
			min_cost.push(cost);
			if pos < index.len() {
				sum = sum.saturating_add(u64::from(min[pos]));
				cost = cost + Wide::product(u64::from(min[pos]), price[pos]);
			}
		}
		let mut book = Book {
			index,
			power,
			min,
			price,
			shared: Vec::new(),
			headroom: Vec::new(),
			starts: vec![0],
			members: Vec::new(),
			min_sum,
			min_cost,
		};
		book.find_shared(candidates, headroom);
		book
	}

	/// Number of items.
	pub(crate) fn len(&self) -> usize {
		self.index.len()
	}

	/// The items of shared group `g`, ascending.
	pub(crate) fn members(&self, g: u32) -> &[usize] {
		let g = g as usize;
		&self.members[self.starts[g]..self.starts[g + 1]]
	}

	/// Groups the items of each asset whose capped powers exceed its headroom.
	fn find_shared(&mut self, candidates: &[Candidate], headroom: &[u32]) {
		let asset = |pos: usize| candidates[self.index[pos]].group;
		let mut offered = vec![0u64; headroom.len()];
		for pos in 0..self.len() {
			offered[asset(pos)] = offered[asset(pos)].saturating_add(u64::from(self.power[pos]));
		}
		// Shared groups numbered by first item, members listed group by group.
		let mut number = vec![UNSHARED; headroom.len()];
		let mut count: Vec<usize> = Vec::new();
		self.shared = (0..self.len())
			.map(|pos| {
				let a = asset(pos);
				if offered[a] <= u64::from(headroom[a]) {
					return UNSHARED;
				}
				if number[a] == UNSHARED {
					number[a] = self.headroom.len() as u32;
					self.headroom.push(headroom[a]);
					count.push(0);
				}
				count[number[a] as usize] += 1;
				number[a]
			})
			.collect();
		for c in &count {
			self.starts.push(self.starts[self.starts.len() - 1] + c);
		}
		let mut next = self.starts.clone();
		self.members = vec![0; self.starts[self.starts.len() - 1]];
		for (pos, &g) in self.shared.iter().enumerate() {
			if g != UNSHARED {
				self.members[next[g as usize]] = pos;
				next[g as usize] += 1;
			}
		}
	}
}
