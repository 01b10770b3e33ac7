//! The book sweep: drops offers still open once their window has started.
//!
//! Offers carry no expiry task of their own (that would cost every offer two more
//! writes); instead `on_idle` walks the book from where it stopped last time, a bounded
//! number of entries per block, and expires what it finds due. Expired offers can never
//! be matched in the meantime: a request's window always starts in the future, and an
//! offer only qualifies if its window covers the request's.

use crate::{pallet::*, OfferStatus, WeightInfo};
use alloc::vec::Vec;
use frame_support::{pallet_prelude::*, weights::WeightMeter};

/// Most book entries looked at in one block.
pub const MAX_SWEEP_PER_BLOCK: u32 = 512;

impl<T: Config> Pallet<T> {
	/// Looks at book entries from the stored cursor on within `limit`, expiring the
	/// offers whose window has started; returns the weight used.
	pub(crate) fn sweep_book(limit: Weight) -> Weight {
		let mut meter = WeightMeter::with_limit(limit);
		let db = T::DbWeight::get();
		if meter.try_consume(db.reads_writes(2, 1)).is_err() {
			return meter.consumed();
		}
		// Each entry costs at most an expiry (it reads the offer and may remove it).
		let step = T::WeightInfo::expire_offer();
		let room = meter.remaining().checked_div_per_component(&step).unwrap_or(0);
		let budget = room.min(MAX_SWEEP_PER_BLOCK as u64) as usize;
		if budget == 0 {
			return meter.consumed();
		}
		let mut iter = match BookSweep::<T>::get() {
			Some(key) => Book::<T>::iter_from(key.into_inner()),
			None => Book::<T>::iter(),
		};
		let mut due = Vec::with_capacity(budget);
		let mut seen = 0;
		let mut wrapped = true;
		while seen < budget {
			let Some((_, id, ())) = iter.next() else { break };
			seen += 1;
			due.push(id);
			if seen == budget {
				wrapped = false;
			}
		}
		match wrapped {
			true => BookSweep::<T>::kill(),
			false => match BoundedVec::try_from(iter.last_raw_key().to_vec()) {
				Ok(key) => BookSweep::<T>::put(key),
				Err(_) => BookSweep::<T>::kill(),
			},
		}
		meter.consume(step.saturating_mul(seen as u64));
		let now = Self::now();
		for id in due {
			if Offers::<T>::get(id)
				.is_some_and(|o| o.status == OfferStatus::Open && now >= o.spec.window.start)
			{
				Self::do_expire_offer(id);
			}
		}
		meter.consumed()
	}
}
