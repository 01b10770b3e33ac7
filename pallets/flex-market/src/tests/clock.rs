//! The market clock: governance-set pace, continuity, and the pilot run at 15x.

use super::*;
use crate::clock::MAX_CLOCK_SCALE;
use frame_support::{assert_noop, traits::Hooks, weights::Weight};
use sp_core::H256;
use sp_runtime::DispatchError::BadOrigin;

/// Chain time at which the market clock set at `T0` with `scale` reads `market`.
fn chain_of(market: u64, scale: u64) -> u64 {
	T0 + (market - T0) / scale
}

/// Runs blocks until the agenda has worked off every minute before market time `market`.
fn advance_market(market: u64, scale: u64) {
	set_now(chain_of(market, scale));
	assert_eq!(FlexMarket::now(), market);
	loop {
		let n = System::block_number() + 1;
		System::set_block_number(n);
		FlexMarket::on_idle(n, Weight::MAX);
		FlexMarket::do_try_state().expect("invariants hold");
		if AgendaCursor::<Test>::get().is_none_or(|c| c >= market / agenda::BUCKET_MS) {
			break;
		}
	}
}

#[test]
fn only_governance_sets_the_clock_within_range() {
	new_test_ext().execute_with(|| {
		assert_noop!(FlexMarket::set_clock(RuntimeOrigin::signed(DSO), 15), BadOrigin);
		for scale in [0, MAX_CLOCK_SCALE + 1] {
			assert_noop!(
				FlexMarket::set_clock(RuntimeOrigin::root(), scale),
				Error::<Test>::ClockScaleOutOfRange
			);
		}
		assert_eq!(Clock::<Test>::get(), None);
		assert_eq!(FlexMarket::now(), T0);
	});
}

#[test]
fn market_time_changes_pace_without_jumping() {
	new_test_ext().execute_with(|| {
		assert_ok!(FlexMarket::set_clock(RuntimeOrigin::root(), 15));
		assert_eq!(market_events(), vec![Event::ClockSet { scale: 15, market_now: T0 }]);
		// One chain minute is fifteen market minutes.
		set_now(T0 + MINUTE);
		assert_eq!(FlexMarket::now(), T0 + 15 * MINUTE);
		// Back to real time: market time goes on from where it is.
		assert_ok!(FlexMarket::set_clock(RuntimeOrigin::root(), 1));
		assert_eq!(FlexMarket::now(), T0 + 15 * MINUTE);
		set_now(T0 + 2 * MINUTE);
		assert_eq!(FlexMarket::now(), T0 + 16 * MINUTE);
		// A chain timestamp from before the change never runs the market backwards.
		set_now(T0);
		assert_eq!(FlexMarket::now(), T0 + 15 * MINUTE);
	});
}

#[test]
fn the_pilot_settles_on_market_time_at_fifteen_times_real_time() {
	new_test_ext().execute_with(|| {
		assert_ok!(FlexMarket::set_clock(RuntimeOrigin::root(), 15));
		pilot_accepted();
		// The 45-minute window passes in three chain minutes.
		advance_market(WINDOW_START, 15);
		assert_eq!(chain_of(WINDOW_END, 15) - chain_of(WINDOW_START, 15), 3 * MINUTE);
		advance_market(WINDOW_END + MINUTE, 15);
		let root = H256::repeat_byte(7);
		assert_ok!(FlexMarket::report_delivery(RuntimeOrigin::signed(ORACLE), 0, 0, 7_210, root));
		assert_ok!(FlexMarket::report_delivery(RuntimeOrigin::signed(ORACLE), 0, 1, 6_970, root));
		// The 15-minute grace is market time too: one chain minute.
		advance_market(WINDOW_END + 14 * MINUTE, 15);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Accepted);
		advance_market(WINDOW_END + 16 * MINUTE, 15);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Settled);
		let paid: Vec<_> = market_events()
			.into_iter()
			.filter_map(|e| match e {
				Event::FillSettled { delivered_wh, paid, .. } => Some((delivered_wh, paid)),
				_ => None,
			})
			.collect();
		assert_eq!(paid, vec![(7_210, 721 * UNIT / 1000), (6_970, 697 * UNIT / 1000)]);
		assert_eq!(chain_of(WINDOW_END + 16 * MINUTE, 15), T0 + 121 * MINUTE / 15);
	});
}

/// A clock scale set at genesis starts with the chain's first timestamp: market time
/// begins at chain time and then runs at the scale.
#[test]
fn a_genesis_clock_scale_starts_at_the_first_timestamp() {
	use sp_runtime::BuildStorage;
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	crate::GenesisConfig::<Test> { clock_scale: 15, ..Default::default() }
		.assimilate_storage(&mut t)
		.unwrap();
	sp_io::TestExternalities::new(t).execute_with(|| {
		assert_eq!(crate::PendingClockScale::<Test>::get(), Some(15));
		// No timestamp yet in the first block: nothing to anchor to.
		FlexMarket::on_initialize(1);
		assert!(crate::Clock::<Test>::get().is_none());
		set_now(T0);
		FlexMarket::on_initialize(2);
		assert_eq!(
			crate::Clock::<Test>::get(),
			Some(MarketClock { chain_ms: T0, market_ms: T0, scale: 15 })
		);
		assert!(crate::PendingClockScale::<Test>::get().is_none());
		set_now(T0 + MINUTE);
		assert_eq!(FlexMarket::now(), T0 + 15 * MINUTE);
	});
}
