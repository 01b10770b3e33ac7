//! The market's clock: the chain's timestamp, or a governance-set multiple of it.
//!
//! Real networks run at scale 1. A demonstration or a test chain can run market
//! time faster than the chain's (the pilot's 45-minute window in three minutes at
//! 15x); the bridge and the simulators read the same [`MarketClock`] from storage,
//! so every party agrees on market time.

use crate::{pallet::*, MarketClock, Moment};
use frame_support::{
	pallet_prelude::*,
	traits::{Get, UnixTime},
};

/// Fastest the market clock may run against the chain's timestamp.
///
/// The agenda works off due tasks minute by minute, at most
/// [`crate::agenda::MAX_BUCKETS_PER_BLOCK`] (256) market minutes per block. At scale
/// `s` and a block time of `b` ms, a block moves market time by `s × b / 60 000`
/// minutes: 60 at scale 600 and the runtime's 6-second blocks, a quarter of what one
/// block works off. So the agenda keeps up even when three of four slots are missed,
/// and catches up after longer stalls.
pub const MAX_CLOCK_SCALE: u32 = 600;

impl<T: Config> Pallet<T> {
	/// The market's time now, Unix ms.
	pub fn now() -> Moment {
		let chain = T::Time::now().as_millis() as Moment;
		match Clock::<T>::get() {
			Some(clock) => clock.market_of(chain),
			None => chain,
		}
	}

	/// Starts a clock scale set at genesis once the chain has a timestamp (from the
	/// second block on, the first one's): market time starts at chain time. Returns the
	/// weight used (one read on every later block).
	pub(crate) fn anchor_genesis_clock() -> Weight {
		let db = T::DbWeight::get();
		let Some(scale) = PendingClockScale::<T>::get() else { return db.reads(1) };
		let chain = T::Time::now().as_millis() as Moment;
		if chain == 0 {
			return db.reads(2);
		}
		Clock::<T>::put(MarketClock { chain_ms: chain, market_ms: chain, scale });
		PendingClockScale::<T>::kill();
		Self::deposit_event(Event::ClockSet { scale, market_now: chain });
		db.reads_writes(2, 2)
	}

	/// Runs market time `scale` times as fast as the chain's from now on. Market time
	/// goes on from where it is, so it never jumps or runs backwards.
	pub(crate) fn do_set_clock(scale: u32) -> Result<MarketClock, DispatchError> {
		ensure!((1..=MAX_CLOCK_SCALE).contains(&scale), Error::<T>::ClockScaleOutOfRange);
		let clock = MarketClock {
			chain_ms: T::Time::now().as_millis() as Moment,
			market_ms: Self::now(),
			scale,
		};
		Clock::<T>::put(clock);
		PendingClockScale::<T>::kill();
		Self::deposit_event(Event::ClockSet { scale, market_now: clock.market_ms });
		Ok(clock)
	}
}
