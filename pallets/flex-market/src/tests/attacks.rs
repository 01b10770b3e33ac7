//! Each attack or accident of the trust model, played, and the defence asserted.

use super::*;
use frame_support::{
	assert_err_ignore_postinfo, assert_noop,
	traits::{
		fungible::{Inspect, InspectHold, Mutate},
		Get,
	},
};
use sp_core::H256;

type E = Error<Test>;

fn s(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

/// The pilot's assets, request 0 and both offers, without a proposal yet.
fn pilot_book() {
	pilot_assets();
	assert_ok!(FlexMarket::create_request(s(DSO), pilot_request()));
	assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(0)));
	assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(1)));
}

/// The gate closure of the pilot's request.
const GATE: u64 = WINDOW_START - 15 * MINUTE;

#[test]
fn a_book_flood_from_one_asset_is_refused() {
	new_test_ext().execute_with(|| {
		pilot_assets();
		let limit = <Test as Config>::MaxOffersPerAsset::get();
		for _ in 0..limit {
			assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(0)));
		}
		assert_refused!(
			FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(0)),
			E::TooManyOffers
		);
		// Another FSP still gets into the book.
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(1)));
		assert_eq!(BookSize::<Test>::get((ESKISEHIR, Direction::Up)), limit + 1);
	});
}

#[test]
fn a_far_future_window_is_refused_for_offers_and_requests() {
	new_test_ext().execute_with(|| {
		pilot_assets();
		let horizon = Params::<Test>::get().horizon_ms;
		let far = Window { start: T0 + horizon + MINUTE, end: T0 + horizon + 46 * MINUTE };
		let mut offer = pilot_offer(0);
		offer.window = far;
		assert_refused!(FlexMarket::create_offer(s(BATTERY_OWNER), offer.clone()), E::WindowTooFar);
		let mut request = pilot_request();
		request.window = far;
		request.gate_closure = far.start - MINUTE;
		assert_refused!(FlexMarket::create_request(s(DSO), request), E::WindowTooFar);
		// Within the horizon both are taken.
		offer.window = Window { start: T0 + horizon, end: T0 + horizon + 45 * MINUTE };
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), offer));
	});
}

#[test]
fn a_suspended_or_deregistered_asset_takes_its_offers_out_of_the_book() {
	new_test_ext().execute_with(|| {
		pilot_assets();
		for _ in 0..3 {
			assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(0)));
		}
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(1)));
		System::reset_events();
		assert_ok!(FlexMarket::set_asset_status(s(DSO), 0, AssetStatus::Suspended));
		let mut withdrawn: Vec<_> = market_events()
			.into_iter()
			.filter_map(|e| match e {
				Event::OfferWithdrawn { offer, asset: 0 } => Some(offer),
				_ => None,
			})
			.collect();
		withdrawn.sort();
		assert_eq!(withdrawn, vec![0, 1, 2]);
		assert_eq!(BookSize::<Test>::get((ESKISEHIR, Direction::Up)), 1);
		assert_eq!(Assets::<Test>::get(0).unwrap().open_offers, 0);
		// The charger's owner deregisters with an offer in the book: it goes too.
		assert_ok!(FlexMarket::deregister_asset(s(V2G_OWNER), 1));
		assert!(Offers::<Test>::get(3).is_none());
		assert_eq!(BookSize::<Test>::get((ESKISEHIR, Direction::Up)), 0);
		FlexMarket::do_try_state().unwrap();
	});
}

#[test]
fn an_offer_keeps_its_asset() {
	new_test_ext().execute_with(|| {
		pilot_assets();
		assert_ok!(FlexMarket::register_asset(
			s(BATTERY_OWNER),
			asset_spec(AssetKind::Battery, b"modbus://second", 20)
		));
		assert_ok!(FlexMarket::set_asset_status(s(DSO), 2, AssetStatus::Prequalified));
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(0)));
		assert_err_ignore_postinfo!(
			FlexMarket::update_offer(s(BATTERY_OWNER), 0, pilot_offer(2)),
			E::AssetChanged
		);
	});
}

#[test]
fn a_price_raise_after_gate_closure_is_refused() {
	new_test_ext().execute_with(|| {
		pilot_book();
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		advance_to(GATE);
		let mut dearer = pilot_offer(0);
		dearer.price = MAX_PRICE;
		assert_refused!(FlexMarket::update_offer(s(BATTERY_OWNER), 0, dearer), E::OfferFirm);
		assert_refused!(FlexMarket::cancel_offer(s(BATTERY_OWNER), 0), E::OfferFirm);
		// The DSO buys at the price it saw: 2 × 7.5 kWh × 0.10.
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, 3 * UNIT / 2));
		assert_eq!(Contracts::<Test>::get(0).unwrap().cost, 3 * UNIT / 2);
	});
}

#[test]
fn the_cost_cap_at_purchase_refuses_a_price_raised_before_the_gate() {
	new_test_ext().execute_with(|| {
		pilot_book();
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		let seen = Proposals::<Test>::get(0).unwrap().cost;
		assert_eq!(seen, 3 * UNIT / 2);
		// Before the gate closes the FSP may still raise its price...
		let mut dearer = pilot_offer(0);
		dearer.price = MAX_PRICE;
		assert_ok!(FlexMarket::update_offer(s(BATTERY_OWNER), 0, dearer));
		// ...but the DSO pays at most what it saw.
		assert_refused!(FlexMarket::accept_match(s(DSO), 0, seen), E::CostAboveMaximum);
		assert_eq!(Balances::balance_on_hold(&HoldReason::Escrow.into(), &DSO), 0);
	});
}

#[test]
fn a_cancel_inside_a_proposal_before_the_gate_leaves_the_request_matched_anyway() {
	new_test_ext().execute_with(|| {
		pilot_assets();
		assert_ok!(FlexMarket::register_asset(
			s(BATTERY_OWNER),
			asset_spec(AssetKind::Battery, b"modbus://reserve", 20)
		));
		assert_ok!(FlexMarket::set_asset_status(s(DSO), 2, AssetStatus::Prequalified));
		assert_ok!(FlexMarket::create_request(s(DSO), pilot_request()));
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(0)));
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(1)));
		let mut reserve = pilot_offer(2);
		reserve.price = OFFER_PRICE * 2;
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), reserve));
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		// The V2G owner withdraws before the gate: the stored match is dead.
		assert_ok!(FlexMarket::cancel_offer(s(V2G_OWNER), 1));
		System::reset_events();
		advance_to(GATE + MINUTE);
		assert!(market_events().contains(&Event::ProposalDropped { request: 0 }));
		let fills: Vec<_> =
			Proposals::<Test>::get(0).unwrap().fills.iter().map(|f| f.offer).collect();
		assert_eq!(fills, vec![0, 2]);
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, u128::MAX));
	});
}

#[test]
fn a_stale_proposal_is_replaced_by_any_feasible_one() {
	new_test_ext().execute_with(|| {
		pilot_assets();
		let mut request = pilot_request();
		request.power_w = 10_000;
		assert_ok!(FlexMarket::create_request(s(DSO), request));
		let mut cheap = pilot_offer(0);
		cheap.price = OFFER_PRICE / 2;
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), cheap));
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(1)));
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		// The cheap offer is withdrawn; the dearer solution did not beat it, but the
		// stored one is dead now.
		assert_ok!(FlexMarket::cancel_offer(s(BATTERY_OWNER), 0));
		assert_refused!(FlexMarket::accept_match(s(DSO), 0, u128::MAX), E::ProposalStale);
		let dearer: SolutionOf<Test> =
			vec![ProposedFill { offer: 1, power_w: 10_000 }].try_into().unwrap();
		assert_ok!(FlexMarket::submit_solution(s(STRANGER), 0, dearer));
		assert_eq!(Proposals::<Test>::get(0).unwrap().submitter, STRANGER);
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, u128::MAX));
	});
}

#[test]
fn the_dso_can_match_again_after_a_proposal_went_stale() {
	new_test_ext().execute_with(|| {
		pilot_book();
		assert_ok!(FlexMarket::register_asset(
			s(V2G_OWNER),
			asset_spec(AssetKind::V2gCharger, b"ocpp://CP-2/1", 30)
		));
		assert_ok!(FlexMarket::set_asset_status(s(DSO), 2, AssetStatus::Prequalified));
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(2)));
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		assert_ok!(FlexMarket::set_asset_status(s(DSO), 1, AssetStatus::Suspended));
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, u128::MAX));
		assert_eq!(Fills::<Test>::get(0, 1).unwrap().asset, 2);
	});
}

/// A settlement payout to a reaped account below the existential deposit is parked
/// and claimed later; the settlement itself completes and nothing is lost.
#[test]
fn a_failed_payout_is_parked_and_claimed_and_settlement_completes() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		TestParams::mutate(|p| {
			p.fsp_deposit = 0;
			p.asset_deposit = 0;
		});
		pilot_assets();
		assert_ok!(FlexMarket::create_request(s(DSO), pilot_request()));
		// 1 000 planks per kWh: 7.5 kWh pay 7 500 planks, below the deposit of 10^6.
		for (fsp, asset) in [(BATTERY_OWNER, 0), (V2G_OWNER, 1)] {
			let mut offer = pilot_offer(asset);
			offer.price = 1_000;
			assert_ok!(FlexMarket::create_offer(s(fsp), offer));
		}
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, u128::MAX));
		// The battery's owner empties its account, which is reaped.
		assert_ok!(Balances::transfer_all(s(BATTERY_OWNER), STRANGER, false));
		assert!(!frame_system::Account::<Test>::contains_key(BATTERY_OWNER));
		advance_to(WINDOW_START + MINUTE);
		for fill in [0, 1] {
			assert_ok!(FlexMarket::report_delivery(s(ORACLE), 0, fill, 7_500, H256::zero()));
		}
		advance_to(WINDOW_END + 16 * MINUTE);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Settled);
		assert_eq!(UnclaimedPayouts::<Test>::get(BATTERY_OWNER, 0), Some((DSO, 7_500)));
		assert!(market_events().contains(&Event::PayoutUnclaimed {
			request: 0,
			fsp: BATTERY_OWNER,
			dso: DSO,
			amount: 7_500
		}));
		assert_eq!(Balances::balance(&V2G_OWNER), ENDOWMENT + 7_500);
		// Too little to open the account: the claim waits.
		assert_err_ignore_postinfo!(
			FlexMarket::claim_payout(s(BATTERY_OWNER), 0),
			sp_runtime::TokenError::CannotCreate
		);
		assert_ok!(Balances::transfer_keep_alive(s(STRANGER), BATTERY_OWNER, UNIT));
		assert_ok!(FlexMarket::claim_payout(s(BATTERY_OWNER), 0));
		assert_eq!(Balances::balance(&BATTERY_OWNER), UNIT + 7_500);
		assert_eq!(Balances::balance_on_hold(&HoldReason::Unclaimed.into(), &DSO), 0);
		assert_err_ignore_postinfo!(
			FlexMarket::claim_payout(s(BATTERY_OWNER), 0),
			E::NoUnclaimedPayout
		);
		assert_eq!(Balances::total_issuance(), issuance);
		FlexMarket::do_try_state().unwrap();
	});
}

/// A settlement the agenda could not run is tried again a minute later until it
/// succeeds (here the contract is taken away and put back to play the fault).
#[test]
fn a_failed_settlement_is_retried_by_the_agenda() {
	new_test_ext().execute_with(|| {
		pilot_accepted();
		advance_to(WINDOW_START + MINUTE);
		let contract = Contracts::<Test>::take(0).unwrap();
		set_now(WINDOW_END + 16 * MINUTE);
		use frame_support::traits::Hooks;
		FlexMarket::on_idle(100, frame_support::weights::Weight::MAX);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Accepted);
		Contracts::<Test>::insert(0, contract);
		advance_to(WINDOW_END + 18 * MINUTE);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Settled);
		assert_eq!(Balances::balance_on_hold(&HoldReason::Escrow.into(), &DSO), 0);
	});
}

#[test]
fn the_clock_is_bounded_so_that_the_agenda_keeps_up() {
	new_test_ext().execute_with(|| {
		let max = crate::clock::MAX_CLOCK_SCALE;
		assert_noop!(
			FlexMarket::set_clock(RuntimeOrigin::root(), max + 1),
			E::ClockScaleOutOfRange
		);
		assert_ok!(FlexMarket::set_clock(RuntimeOrigin::root(), max));
		// A task every market minute for two market hours; blocks every 6 s of chain time.
		for minute in 1..=120 {
			assert_ok!(FlexMarket::schedule(T0 + minute * MINUTE, Task::Prune(10_000)));
		}
		use frame_support::traits::Hooks;
		let mut chain = T0;
		for block in 2..=4 {
			chain += 6_000;
			set_now(chain);
			FlexMarket::on_idle(block, frame_support::weights::Weight::MAX);
			let behind =
				FlexMarket::now() / agenda::BUCKET_MS - AgendaCursor::<Test>::get().unwrap();
			assert!(behind <= 1, "the agenda is {behind} minutes behind");
		}
		// Even a stall of three missed slots is worked off in one block.
		chain += 4 * 6_000;
		set_now(chain);
		FlexMarket::on_idle(5, frame_support::weights::Weight::MAX);
		assert!(FlexMarket::now() / agenda::BUCKET_MS - AgendaCursor::<Test>::get().unwrap() <= 1);
	});
}

#[test]
fn a_huge_price_is_refused_and_the_largest_one_neither_panics_nor_overflows() {
	new_test_ext().execute_with(|| {
		pilot_assets();
		let mut offer = pilot_offer(0);
		offer.price = MAX_PRICE_PER_KWH + 1;
		assert_refused!(FlexMarket::create_offer(s(BATTERY_OWNER), offer.clone()), E::PriceTooHigh);
		let mut request = pilot_request();
		request.max_price = u128::MAX;
		assert_refused!(FlexMarket::create_request(s(DSO), request.clone()), E::PriceTooHigh);
		// At the largest price the whole trade runs and every amount is exact.
		request.max_price = MAX_PRICE_PER_KWH;
		offer.price = MAX_PRICE_PER_KWH;
		assert_ok!(FlexMarket::create_request(s(DSO), request));
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), offer));
		let mut other = pilot_offer(1);
		other.price = MAX_PRICE_PER_KWH;
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), other));
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		// 2 × 7.5 kWh at the largest price, each rounded down to the plank.
		let cost = 2 * (7_500 * MAX_PRICE_PER_KWH / 1_000);
		assert_eq!(Proposals::<Test>::get(0).unwrap().cost, cost);
		// The DSO cannot afford it: a typed error, nothing held.
		assert_refused!(
			FlexMarket::accept_match(s(DSO), 0, u128::MAX),
			sp_runtime::TokenError::FundsUnavailable
		);
		Balances::set_balance(&DSO, 2 * cost);
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, u128::MAX));
		assert_eq!(Balances::balance_on_hold(&HoldReason::Escrow.into(), &DSO), cost);
	});
}

/// A wrong click costs what it did: the DSO's second purchase of a bought request
/// fails on its first reads and is charged for them, not for a thousand fills.
#[test]
fn a_failed_purchase_costs_what_it_read() {
	new_test_ext().execute_with(|| {
		pilot_accepted();
		let declared = <() as WeightInfo>::accept_match(<Test as Config>::MaxFills::get());
		let err = FlexMarket::accept_match(s(DSO), 0, u128::MAX).unwrap_err();
		assert_eq!(err.error, E::AlreadyAccepted.into());
		let charged = err.post_info.actual_weight.expect("refunded to the work done");
		assert!(charged.ref_time() * 100 < declared.ref_time(), "{charged:?} vs {declared:?}");
		let err = FlexMarket::settle(s(STRANGER), 0).unwrap_err();
		assert_eq!(err.error, E::SettlementNotDue.into());
		let declared = <() as WeightInfo>::settle(<Test as Config>::MaxFills::get());
		assert!(err.post_info.actual_weight.unwrap().ref_time() * 100 < declared.ref_time());
	});
}
