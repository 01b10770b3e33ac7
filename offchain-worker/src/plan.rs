//! Which offers of each shared asset the search's dive should take first.
//!
//! The relaxation lets the offers of one asset share its headroom fractionally (the
//! cheaper one whole, the next one partly); a real cover takes each at least at its
//! minimum, and which of them is a discrete choice the bound does not see. At the
//! root relaxation's marginal price `P` (the critical offer's price) a watt of an
//! offer at `price` saves `P - price` elsewhere, so the plan picks, for each shared
//! asset on its own, the set of its offers below `P` worth most: Σ (P − price) × fill,
//! each set filled greedily within the headroom (with no marginal price, the set
//! covering most). This is only a child order: the search stays complete.

use crate::{book::Book, wide::Wide};
use alloc::{vec, vec::Vec};

/// Shared assets with more offers below the margin than this are not planned.
const MOST_PLANNED: usize = 8;

/// For each item: `Some(true)` to take first, `Some(false)` to leave first, `None`
/// for no preference. `margin`: the root relaxation's marginal price, `None` if it
/// cannot cover the request.
pub(crate) fn plan(book: &Book, margin: Option<u128>) -> Vec<Option<bool>> {
	let mut plan = vec![None; book.len()];
	for g in 0..book.headroom.len() as u32 {
		let cheap: Vec<usize> = book
			.members(g)
			.iter()
			.copied()
			.filter(|&pos| margin.is_none_or(|m| book.price[pos] < m))
			.collect();
		if cheap.len() < 2 || cheap.len() > MOST_PLANNED {
			continue;
		}
		let best = best_set(book, book.headroom[g as usize], &cheap, margin);
		for (bit, &pos) in cheap.iter().enumerate() {
			plan[pos] = Some(best >> bit & 1 == 1);
		}
	}
	plan
}

/// The subset (a bit mask over `items`, ascending) worth most at `margin` within
/// `headroom`; the first such mask on ties.
fn best_set(book: &Book, headroom: u32, items: &[usize], margin: Option<u128>) -> u32 {
	let mut best = (Wide::ZERO, 0u32);
	for mask in 1..1u32 << items.len() {
		let chosen = items.iter().enumerate().filter(|(bit, _)| mask >> bit & 1 == 1);
		let mins: u64 = chosen.clone().map(|(_, &pos)| u64::from(book.min[pos])).sum();
		let Some(mut room) = u64::from(headroom).checked_sub(mins) else { continue };
		let mut worth = Wide::ZERO;
		for (_, &pos) in chosen {
			let (min, power) = (u64::from(book.min[pos]), u64::from(book.power[pos]));
			let fill = min + (power - min).min(room);
			room -= fill - min;
			worth = worth + Wide::product(fill, margin.map_or(1, |m| m - book.price[pos]));
		}
		if worth > best.0 {
			best = (worth, mask);
		}
	}
	best.1
}
