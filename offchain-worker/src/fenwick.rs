//! Fenwick (binary indexed) trees: point updates, prefix sums and the search for
//! where a prefix sum crosses a value, each in O(log n).

use crate::wide::Wide;

/// A value a Fenwick tree can sum: wrapping addition and subtraction, so that
/// updates by differences stay exact while the true sums are in range.
pub(crate) trait Summand: Copy {
	/// The neutral element.
	const ZERO: Self;
	/// `self + other`, wrapping.
	fn plus(self, other: Self) -> Self;
	/// `self - other`, wrapping.
	fn minus(self, other: Self) -> Self;
}

impl Summand for u64 {
	const ZERO: Self = 0;
	fn plus(self, other: Self) -> Self {
		self.wrapping_add(other)
	}
	fn minus(self, other: Self) -> Self {
		self.wrapping_sub(other)
	}
}

impl Summand for Wide {
	const ZERO: Self = Wide::ZERO;
	fn plus(self, other: Self) -> Self {
		self + other
	}
	fn minus(self, other: Self) -> Self {
		self - other
	}
}

/// Prefix sums over `n` values with point updates.
pub(crate) struct Fenwick<T> {
	/// 1-based: `tree[i]` sums the values `i - lowbit(i) .. i`.
	tree: alloc::vec::Vec<T>,
}

fn lowbit(i: usize) -> usize {
	i & i.wrapping_neg()
}

impl<T: Summand> Fenwick<T> {
	/// A tree over `values`, built in O(n).
	pub(crate) fn new(values: impl Iterator<Item = T>) -> Self {
		let mut tree = alloc::vec![T::ZERO];
		tree.extend(values);
		for i in 1..tree.len() {
			let j = i + lowbit(i);
			if j < tree.len() {
				tree[j] = tree[j].plus(tree[i]);
			}
		}
		Fenwick { tree }
	}

	/// Adds `delta` to value `i`.
	pub(crate) fn add(&mut self, i: usize, delta: T) {
		let mut j = i + 1;
		while j < self.tree.len() {
			self.tree[j] = self.tree[j].plus(delta);
			j += lowbit(j);
		}
	}

	/// Subtracts `delta` from value `i`.
	pub(crate) fn sub(&mut self, i: usize, delta: T) {
		let mut j = i + 1;
		while j < self.tree.len() {
			self.tree[j] = self.tree[j].minus(delta);
			j += lowbit(j);
		}
	}

	/// The sum of the values `0..q`.
	pub(crate) fn prefix(&self, q: usize) -> T {
		let mut sum = T::ZERO;
		let mut j = q.min(self.tree.len() - 1);
		while j > 0 {
			sum = sum.plus(self.tree[j]);
			j -= lowbit(j);
		}
		sum
	}

	/// The largest `q <= limit` for which `keep(q, prefix(q))` holds, with that prefix
	/// sum. `keep` must hold at 0 and, along q, hold up to some point and fail after it.
	pub(crate) fn last_where(&self, limit: usize, keep: impl Fn(usize, T) -> bool) -> (usize, T) {
		let (mut pos, mut sum) = (0, T::ZERO);
		let mut step = (self.tree.len() - 1).checked_next_power_of_two().unwrap_or(0);
		while step > 0 {
			let next = pos + step;
			if next <= limit && next < self.tree.len() && keep(next, sum.plus(self.tree[next])) {
				pos = next;
				sum = sum.plus(self.tree[next]);
			}
			step /= 2;
		}
		(pos, sum)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn prefix_sums_updates_and_crossings() {
		let values = [3u64, 0, 5, 2, 7, 1, 0, 4, 6];
		let mut f = Fenwick::new(values.iter().copied());
		for q in 0..=values.len() {
			assert_eq!(f.prefix(q), values[..q].iter().sum::<u64>());
		}
		f.add(4, 3);
		f.sub(0, 3);
		assert_eq!(f.prefix(5), 17);
		// Values are now 0 0 5 2 10 1 0 4 6: prefix sums 0 0 0 5 7 17 18 18 22 28.
		assert_eq!(f.last_where(9, |_, s| s < 8), (4, 7));
		assert_eq!(f.last_where(9, |_, s| s < 18), (5, 17));
		assert_eq!(f.last_where(3, |_, s| s < 18), (3, 5));
		assert_eq!(f.last_where(9, |_, s| s < 100), (9, 28));
		assert_eq!(f.last_where(9, |_, s| s < 1), (2, 0));
	}
}
