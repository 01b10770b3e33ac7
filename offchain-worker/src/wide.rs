//! A 256-bit unsigned integer for sums of power × price products.
//!
//! A product of a power (below 2^64) and a price (below 2^128) is below 2^192, and a
//! sum of fewer than 2^64 of them below 2^256, so these sums are exact. Addition and
//! subtraction wrap modulo 2^256: a running sum updated by differences is exact as
//! long as the true value stays in range, which the callers' sums do.

use core::ops::{Add, Sub};

/// An unsigned 256-bit integer, ordered numerically.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Wide {
	hi: u128,
	lo: u128,
}

impl Wide {
	/// Zero.
	pub(crate) const ZERO: Wide = Wide { hi: 0, lo: 0 };

	/// The exact product `power × price`.
	pub(crate) fn product(power: u64, price: u128) -> Wide {
		let (p_hi, p_lo) = ((price >> 64) as u64, price as u64);
		// Each partial product of two 64-bit halves fits in 128 bits.
		let low = u128::from(power).wrapping_mul(u128::from(p_lo));
		let high = u128::from(power).wrapping_mul(u128::from(p_hi));
		Wide { hi: high >> 64, lo: high << 64 } + Wide { hi: 0, lo: low }
	}

	/// The value, or `u128::MAX` if it does not fit: the saturated cost of a score.
	pub(crate) fn saturate(self) -> u128 {
		if self.hi == 0 {
			self.lo
		} else {
			u128::MAX
		}
	}
}

impl Add for Wide {
	type Output = Wide;
	fn add(self, other: Wide) -> Wide {
		let (lo, carry) = self.lo.overflowing_add(other.lo);
		Wide { hi: self.hi.wrapping_add(other.hi).wrapping_add(u128::from(carry)), lo }
	}
}

impl Sub for Wide {
	type Output = Wide;
	fn sub(self, other: Wide) -> Wide {
		let (lo, borrow) = self.lo.overflowing_sub(other.lo);
		Wide { hi: self.hi.wrapping_sub(other.hi).wrapping_sub(u128::from(borrow)), lo }
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn products_and_sums_are_exact_beyond_u128() {
		let big = Wide::product(u64::MAX, u128::MAX);
		// (2^64 - 1)(2^128 - 1) = (2^64 - 2) 2^128 + 2^128 - 2^64 + 1.
		assert_eq!(big, Wide { hi: (1 << 64) - 2, lo: 1u128.wrapping_sub(1 << 64) });
		assert_eq!(big.saturate(), u128::MAX);
		assert_eq!((big + Wide::product(3, 5)) - big, Wide::product(1, 15));
		assert_eq!(Wide::product(7, 1 << 100).saturate(), 7 << 100);
		assert!(Wide::product(2, u128::MAX) > Wide::product(1, u128::MAX));
		assert_eq!(Wide::ZERO - Wide::product(1, 1) + Wide::product(1, 1), Wide::ZERO);
	}
}
