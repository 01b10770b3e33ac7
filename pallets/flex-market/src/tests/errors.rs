//! Every error path: a typed error and no change of state.

use super::*;
use frame_support::{assert_noop, traits::fungible::InspectHold};
use sp_core::H256;
use sp_runtime::DispatchError::BadOrigin;

type E = Error<Test>;

fn s(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

#[test]
fn governance_calls_reject_signed_origins() {
	new_test_ext().execute_with(|| {
		let locations: LocationListOf<Test> =
			vec![(9, b"x".to_vec().try_into().unwrap())].try_into().unwrap();
		assert_noop!(FlexMarket::register_dso(s(DSO), STRANGER, locations), BadOrigin);
		assert_refused!(FlexMarket::remove_dso(s(DSO), OTHER_DSO), BadOrigin);
		assert_noop!(FlexMarket::appoint_oracle(s(DSO), DSO, STRANGER), BadOrigin);
		assert_noop!(FlexMarket::remove_oracle(s(DSO), DSO, ORACLE), BadOrigin);
		assert_noop!(FlexMarket::set_params(s(DSO), TestParams::get()), BadOrigin);
	});
}

#[test]
fn signed_calls_reject_root_and_unsigned() {
	new_test_ext().execute_with(|| {
		let (r, n) = (RuntimeOrigin::root(), RuntimeOrigin::none());
		for o in [r, n] {
			assert_refused!(FlexMarket::register_fsp(o.clone()), BadOrigin);
			assert_refused!(
				FlexMarket::register_asset(o.clone(), asset_spec(AssetKind::Battery, b"d", 0)),
				BadOrigin
			);
			assert_refused!(
				FlexMarket::update_asset(o.clone(), 0, asset_spec(AssetKind::Battery, b"d", 0)),
				BadOrigin
			);
			assert_refused!(FlexMarket::deregister_asset(o.clone(), 0), BadOrigin);
			assert_refused!(
				FlexMarket::set_asset_status(o.clone(), 0, AssetStatus::Prequalified),
				BadOrigin
			);
			assert_refused!(FlexMarket::create_request(o.clone(), pilot_request()), BadOrigin);
			assert_refused!(FlexMarket::update_request(o.clone(), 0, pilot_request()), BadOrigin);
			assert_refused!(FlexMarket::cancel_request(o.clone(), 0), BadOrigin);
			assert_refused!(FlexMarket::create_offer(o.clone(), pilot_offer(0)), BadOrigin);
			assert_refused!(FlexMarket::update_offer(o.clone(), 0, pilot_offer(0)), BadOrigin);
			assert_refused!(FlexMarket::cancel_offer(o.clone(), 0), BadOrigin);
			assert_refused!(FlexMarket::match_request(o.clone(), 0), BadOrigin);
			assert_refused!(
				FlexMarket::submit_solution(o.clone(), 0, Default::default()),
				BadOrigin
			);
			assert_refused!(FlexMarket::accept_match(o.clone(), 0, u128::MAX), BadOrigin);
			assert_refused!(
				FlexMarket::report_delivery(o.clone(), 0, 0, 1, H256::zero()),
				BadOrigin
			);
			assert_refused!(FlexMarket::settle(o.clone(), 0), BadOrigin);
		}
	});
}

#[test]
fn wrong_role_for_each_call() {
	new_test_ext().execute_with(|| {
		// Not an FSP or DSO: cannot register assets or offer.
		assert_refused!(
			FlexMarket::register_asset(s(STRANGER), asset_spec(AssetKind::Battery, b"d", 0)),
			E::NotParticipant
		);
		let (battery, _) = pilot_assets();
		assert_refused!(FlexMarket::create_offer(s(STRANGER), pilot_offer(battery)), E::NotFsp);
		// Another FSP's asset.
		assert_refused!(
			FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(battery)),
			E::NotAssetOwner
		);
		assert_refused!(
			FlexMarket::update_asset(
				s(V2G_OWNER),
				battery,
				asset_spec(AssetKind::Battery, b"d", 0)
			),
			E::NotAssetOwner
		);
		assert_refused!(FlexMarket::deregister_asset(s(V2G_OWNER), battery), E::NotAssetOwner);
		// Only the operator of the asset's location prequalifies it.
		assert_refused!(
			FlexMarket::set_asset_status(s(OTHER_DSO), battery, AssetStatus::Suspended),
			E::NotLocationOperator
		);
		// Only the operator of a location posts requests there.
		assert_refused!(
			FlexMarket::create_request(s(OTHER_DSO), pilot_request()),
			E::NotLocationOperator
		);
		assert_refused!(
			FlexMarket::create_request(s(STRANGER), pilot_request()),
			E::NotLocationOperator
		);
		assert_ok!(FlexMarket::create_request(s(DSO), pilot_request()));
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(battery)));
		// Another DSO cannot edit, cancel, match or buy the request.
		assert_refused!(
			FlexMarket::update_request(s(OTHER_DSO), 0, pilot_request()),
			E::NotRequestOwner
		);
		assert_refused!(FlexMarket::cancel_request(s(OTHER_DSO), 0), E::NotRequestOwner);
		assert_refused!(FlexMarket::match_request(s(OTHER_DSO), 0), E::NotRequestOwner);
		assert_refused!(FlexMarket::accept_match(s(OTHER_DSO), 0, u128::MAX), E::NotRequestOwner);
		// Another FSP cannot edit or cancel the offer.
		assert_refused!(
			FlexMarket::update_offer(s(V2G_OWNER), 0, pilot_offer(battery)),
			E::NotOfferOwner
		);
		assert_refused!(FlexMarket::cancel_offer(s(V2G_OWNER), 0), E::NotOfferOwner);
	});
}

#[test]
fn unknown_ids() {
	new_test_ext().execute_with(|| {
		pilot_assets();
		assert_refused!(
			FlexMarket::update_asset(s(BATTERY_OWNER), 9, asset_spec(AssetKind::Battery, b"d", 0)),
			E::UnknownAsset
		);
		assert_refused!(FlexMarket::deregister_asset(s(BATTERY_OWNER), 9), E::UnknownAsset);
		assert_refused!(
			FlexMarket::set_asset_status(s(DSO), 9, AssetStatus::Prequalified),
			E::UnknownAsset
		);
		assert_refused!(
			FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(9)),
			E::UnknownAsset
		);
		assert_refused!(FlexMarket::update_request(s(DSO), 9, pilot_request()), E::UnknownRequest);
		assert_refused!(FlexMarket::cancel_request(s(DSO), 9), E::UnknownRequest);
		assert_refused!(FlexMarket::match_request(s(DSO), 9), E::UnknownRequest);
		assert_refused!(FlexMarket::accept_match(s(DSO), 9, u128::MAX), E::UnknownRequest);
		assert_refused!(
			FlexMarket::submit_solution(s(STRANGER), 9, Default::default()),
			E::UnknownRequest
		);
		assert_refused!(
			FlexMarket::report_delivery(s(ORACLE), 9, 0, 1, H256::zero()),
			E::UnknownRequest
		);
		assert_refused!(FlexMarket::settle(s(STRANGER), 9), E::UnknownRequest);
		assert_refused!(
			FlexMarket::update_offer(s(BATTERY_OWNER), 9, pilot_offer(0)),
			E::UnknownOffer
		);
		assert_refused!(FlexMarket::cancel_offer(s(BATTERY_OWNER), 9), E::UnknownOffer);
		assert_refused!(FlexMarket::remove_dso(RuntimeOrigin::root(), STRANGER), E::UnknownDso);
		assert_noop!(
			FlexMarket::appoint_oracle(RuntimeOrigin::root(), STRANGER, ORACLE),
			E::UnknownDso
		);
		assert_noop!(
			FlexMarket::remove_oracle(RuntimeOrigin::root(), DSO, STRANGER),
			E::UnknownOracle
		);
		let mut spec = asset_spec(AssetKind::Battery, b"d", 0);
		spec.location = 77;
		assert_refused!(FlexMarket::register_asset(s(BATTERY_OWNER), spec), E::UnknownLocation);
		let mut request = pilot_request();
		request.location = 77;
		assert_refused!(FlexMarket::create_request(s(DSO), request), E::UnknownLocation);
		// Fill index out of range on an accepted match.
		assert_ok!(FlexMarket::create_request(s(DSO), pilot_request()));
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(0)));
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(1)));
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, u128::MAX));
		advance_to(WINDOW_START);
		assert_refused!(
			FlexMarket::report_delivery(s(ORACLE), 0, 2, 1, H256::zero()),
			E::UnknownFill
		);
	});
}

#[test]
fn registrations_twice_and_bad_values() {
	new_test_ext().execute_with(|| {
		let root = RuntimeOrigin::root;
		let taken: LocationListOf<Test> =
			vec![(ESKISEHIR, b"again".to_vec().try_into().unwrap())].try_into().unwrap();
		assert_noop!(FlexMarket::register_dso(root(), STRANGER, taken.clone()), E::LocationTaken);
		assert_noop!(FlexMarket::register_dso(root(), DSO, taken), E::DsoExists);
		assert_noop!(FlexMarket::appoint_oracle(root(), DSO, ORACLE), E::OracleExists);
		for o in 10..13 {
			assert_ok!(FlexMarket::appoint_oracle(root(), DSO, o));
		}
		assert_noop!(FlexMarket::appoint_oracle(root(), DSO, 13), E::TooManyOracles);
		assert_ok!(FlexMarket::register_fsp(s(BATTERY_OWNER)));
		assert_refused!(FlexMarket::register_fsp(s(BATTERY_OWNER)), E::FspExists);
		let mut spec = asset_spec(AssetKind::Battery, b"d", 0);
		spec.min_soc_percent = 101;
		assert_refused!(
			FlexMarket::register_asset(s(BATTERY_OWNER), spec.clone()),
			E::SocOutOfRange
		);
		spec.min_soc_percent = 20;
		spec.max_export_w = 0;
		spec.max_import_w = 0;
		assert_refused!(FlexMarket::register_asset(s(BATTERY_OWNER), spec), E::PowerOutOfRange);
	});
}

#[test]
fn request_values_out_of_range() {
	new_test_ext().execute_with(|| {
		let bad = |f: fn(&mut RequestSpecOf<Test>)| {
			let mut r = pilot_request();
			f(&mut r);
			r
		};
		assert_refused!(
			FlexMarket::create_request(s(DSO), bad(|r| r.power_w = 0)),
			E::PowerOutOfRange
		);
		assert_refused!(FlexMarket::create_request(s(DSO), bad(|r| r.max_price = 0)), E::ZeroPrice);
		assert_refused!(
			FlexMarket::create_request(s(DSO), bad(|r| r.window.end = r.window.start)),
			E::InvalidWindow
		);
		assert_refused!(
			FlexMarket::create_request(
				s(DSO),
				bad(|r| r.window.end = r.window.start + 25 * 60 * MINUTE)
			),
			E::InvalidWindow
		);
		assert_refused!(
			FlexMarket::create_request(
				s(DSO),
				bad(|r| {
					r.window.start = T0 - MINUTE;
					r.gate_closure = T0 - 2 * MINUTE
				})
			),
			E::InvalidWindow
		);
		assert_refused!(
			FlexMarket::create_request(s(DSO), bad(|r| r.gate_closure = T0)),
			E::InvalidGateClosure
		);
		assert_refused!(
			FlexMarket::create_request(s(DSO), bad(|r| r.gate_closure = r.window.start + 1)),
			E::InvalidGateClosure
		);
	});
}

#[test]
fn offer_values_out_of_range_and_unqualified_asset() {
	new_test_ext().execute_with(|| {
		let (battery, v2g) = pilot_assets();
		assert_ok!(FlexMarket::set_asset_status(s(DSO), v2g, AssetStatus::Suspended));
		assert_refused!(
			FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(v2g)),
			E::AssetNotQualified
		);
		let bad = |f: fn(&mut OfferSpecOf<Test>)| {
			let mut o = pilot_offer(0);
			f(&mut o);
			o
		};
		assert_refused!(
			FlexMarket::create_offer(s(BATTERY_OWNER), bad(|o| o.power_w = 10_001)),
			E::PowerOutOfRange
		);
		assert_refused!(
			FlexMarket::create_offer(s(BATTERY_OWNER), bad(|o| o.power_w = 0)),
			E::PowerOutOfRange
		);
		assert_refused!(
			FlexMarket::create_offer(
				s(BATTERY_OWNER),
				bad(|o| o.divisibility = Divisibility::Divisible { min_power_w: 0 })
			),
			E::PowerOutOfRange
		);
		assert_refused!(
			FlexMarket::create_offer(s(BATTERY_OWNER), bad(|o| o.price = 0)),
			E::ZeroPrice
		);
		assert_refused!(
			FlexMarket::create_offer(s(BATTERY_OWNER), bad(|o| o.window.start = T0)),
			E::InvalidWindow
		);
		let _ = battery;
	});
}

#[test]
fn gate_closure_and_window_start_close_the_book() {
	new_test_ext().execute_with(|| {
		pilot_matched();
		advance_to(WINDOW_START - 15 * MINUTE);
		assert_refused!(FlexMarket::update_request(s(DSO), 0, pilot_request()), E::GateClosed);
		assert_refused!(FlexMarket::cancel_request(s(DSO), 0), E::GateClosed);
		let fills = vec![
			ProposedFill { offer: 0, power_w: 10_000 },
			ProposedFill { offer: 1, power_w: 10_000 },
		];
		assert_refused!(
			FlexMarket::submit_solution(s(STRANGER), 0, fills.try_into().unwrap()),
			E::GateClosed
		);
		// The DSO may still buy between gate closure and the window's start, not after.
		advance_to(WINDOW_START);
		assert_refused!(FlexMarket::accept_match(s(DSO), 0, u128::MAX), E::WindowStarted);
		assert_refused!(FlexMarket::match_request(s(DSO), 0), E::WindowStarted);
		// A minute later the agenda has expired it and returned the deposit.
		advance_to(WINDOW_START + MINUTE);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Expired);
		assert_refused!(FlexMarket::match_request(s(DSO), 0), E::RequestNotOpen);
		assert_eq!(Balances::total_balance_on_hold(&DSO), 0);
	});
}

#[test]
fn ineligible_offers_in_a_solution() {
	new_test_ext().execute_with(|| {
		let (battery, v2g) = pilot_assets();
		assert_ok!(FlexMarket::create_request(s(DSO), pilot_request()));
		let mut request = pilot_request();
		request.direction = Direction::Down;
		assert_ok!(FlexMarket::create_request(s(DSO), request));
		// Offer 0: too expensive. Offer 1: down. Offer 2: window too short. Offer 3: fine.
		let mut o = pilot_offer(battery);
		o.price = MAX_PRICE + 1;
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), o));
		let mut o = pilot_offer(v2g);
		o.direction = Direction::Down;
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), o));
		let mut o = pilot_offer(v2g);
		o.window.end -= MINUTE;
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), o));
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(v2g)));
		let sol = |fills: Vec<(u64, u32)>| -> SolutionOf<Test> {
			fills
				.into_iter()
				.map(|(offer, power_w)| ProposedFill { offer, power_w })
				.collect::<Vec<_>>()
				.try_into()
				.unwrap()
		};
		let submit = |fills| FlexMarket::submit_solution(s(STRANGER), 0, sol(fills));
		assert_refused!(submit(vec![(0, 10_000)]), E::PriceAboveMaximum);
		assert_refused!(submit(vec![(1, 10_000)]), E::DirectionMismatch);
		assert_refused!(submit(vec![(2, 10_000)]), E::WindowNotCovered);
		assert_refused!(submit(vec![(3, 10_000)]), E::InsufficientCover);
		assert_refused!(submit(vec![(3, 10_000), (3, 10_000)]), E::DuplicateFill);
		assert_refused!(submit(vec![(3, 5_000)]), E::FillOutOfRange);
		assert_refused!(submit(vec![(99, 10_000)]), E::UnknownOffer);
		assert_refused!(submit(vec![]), E::EmptySolution);
		// A location mismatch: an asset at another DSO's location.
		assert_ok!(FlexMarket::register_fsp(s(STRANGER)));
		let mut spec = asset_spec(AssetKind::Battery, b"far", 0);
		spec.location = ELSEWHERE;
		assert_ok!(FlexMarket::register_asset(s(STRANGER), spec));
		assert_ok!(FlexMarket::set_asset_status(s(OTHER_DSO), 2, AssetStatus::Prequalified));
		assert_ok!(FlexMarket::create_offer(s(STRANGER), pilot_offer(2)));
		assert_refused!(submit(vec![(4, 10_000), (3, 10_000)]), E::LocationMismatch);
		// An asset suspended after offering: its offers left the book.
		assert_ok!(FlexMarket::set_asset_status(s(DSO), v2g, AssetStatus::Suspended));
		assert_refused!(
			FlexMarket::submit_solution(s(STRANGER), 1, sol(vec![(1, 10_000)])),
			E::UnknownOffer
		);
		// The DSO's own merit order finds nothing eligible to cover the request.
		assert_refused!(FlexMarket::match_request(s(DSO), 0), E::InsufficientCover);
	});
}

#[test]
fn over_commitment_across_matches_is_refused() {
	new_test_ext().execute_with(|| {
		pilot_accepted();
		// A second request overlapping the first: the battery is fully committed.
		let mut request = pilot_request();
		request.power_w = 5_000;
		request.window.start += 15 * MINUTE;
		request.window.end += 15 * MINUTE;
		assert_ok!(FlexMarket::create_request(s(DSO), request));
		let mut offer = pilot_offer(0);
		offer.window = Window { start: WINDOW_START, end: WINDOW_END + 15 * MINUTE };
		offer.power_w = 5_000;
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), offer));
		let fills: SolutionOf<Test> =
			vec![ProposedFill { offer: 2, power_w: 5_000 }].try_into().unwrap();
		assert_refused!(FlexMarket::submit_solution(s(STRANGER), 1, fills), E::OverCommitted);
		assert_refused!(FlexMarket::match_request(s(DSO), 1), E::InsufficientCover);
	});
}

#[test]
fn double_buy_duplicate_report_wrong_oracle_late_report_early_settlement() {
	new_test_ext().execute_with(|| {
		pilot_accepted();
		assert_refused!(FlexMarket::accept_match(s(DSO), 0, u128::MAX), E::AlreadyAccepted);
		assert_refused!(
			FlexMarket::report_delivery(s(ORACLE), 0, 0, 7_210, H256::zero()),
			E::WindowNotStarted
		);
		advance_to(WINDOW_START + MINUTE);
		assert_refused!(
			FlexMarket::report_delivery(s(STRANGER), 0, 0, 7_210, H256::zero()),
			E::NotOracle
		);
		assert_refused!(
			FlexMarket::report_delivery(s(OTHER_ORACLE), 0, 0, 7_210, H256::zero()),
			E::NotOracle
		);
		assert_refused!(
			FlexMarket::report_delivery(s(DSO), 0, 0, 7_210, H256::zero()),
			E::NotOracle
		);
		assert_ok!(FlexMarket::report_delivery(s(ORACLE), 0, 0, 7_210, H256::zero()));
		assert_refused!(
			FlexMarket::report_delivery(s(ORACLE), 0, 0, 7_000, H256::zero()),
			E::AlreadyReported
		);
		assert_refused!(FlexMarket::settle(s(STRANGER), 0), E::SettlementNotDue);
		advance_to(WINDOW_END + 15 * MINUTE - 1);
		assert_refused!(FlexMarket::settle(s(STRANGER), 0), E::SettlementNotDue);
		set_now(WINDOW_END + 15 * MINUTE);
		assert_refused!(
			FlexMarket::report_delivery(s(ORACLE), 0, 1, 6_970, H256::zero()),
			E::ReportTooLate
		);
		assert_ok!(FlexMarket::settle(s(STRANGER), 0));
		assert_refused!(FlexMarket::settle(s(STRANGER), 0), E::NotAccepted);
		let escrow = RuntimeHoldReason::FlexMarket(HoldReason::Escrow);
		assert_eq!(Balances::balance_on_hold(&escrow, &DSO), 0);
	});
}

#[test]
fn busy_dso_and_busy_asset_stay() {
	new_test_ext().execute_with(|| {
		pilot_accepted();
		assert_refused!(FlexMarket::remove_dso(RuntimeOrigin::root(), DSO), E::DsoBusy);
		assert_refused!(FlexMarket::deregister_asset(s(BATTERY_OWNER), 0), E::AssetBusy);
		assert_refused!(
			FlexMarket::update_asset(s(BATTERY_OWNER), 0, asset_spec(AssetKind::Battery, b"d", 0)),
			E::AssetBusy
		);
		assert_refused!(FlexMarket::cancel_offer(s(BATTERY_OWNER), 0), E::OfferNotOpen);
		assert_refused!(
			FlexMarket::update_offer(s(BATTERY_OWNER), 0, pilot_offer(0)),
			E::OfferNotOpen
		);
	});
}

#[test]
fn a_dso_without_funds_cannot_buy() {
	new_test_ext().execute_with(|| {
		pilot_matched();
		use frame_support::traits::fungible::Mutate;
		let held = Balances::total_balance_on_hold(&DSO);
		Balances::set_balance(&DSO, held + UNIT);
		assert!(FlexMarket::accept_match(s(DSO), 0, u128::MAX).is_err());
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Open);
		assert!(Contracts::<Test>::get(0).is_none());
	});
}

#[test]
fn a_price_cap_refuses_dearer_requests_and_purchases() {
	new_test_ext().execute_with(|| {
		let capped = |cap| {
			let mut params = Params::<Test>::get();
			params.price_cap = Some(cap);
			assert_ok!(FlexMarket::set_params(RuntimeOrigin::root(), params));
		};
		// Posting above the cap is refused; at the cap it is taken.
		pilot_assets();
		capped(MAX_PRICE - 1);
		assert_refused!(FlexMarket::create_request(s(DSO), pilot_request()), E::PriceAboveCap);
		capped(MAX_PRICE);
		assert_ok!(FlexMarket::create_request(s(DSO), pilot_request()));
		for (owner, asset) in [(BATTERY_OWNER, 0), (V2G_OWNER, 1)] {
			assert_ok!(FlexMarket::create_offer(s(owner), pilot_offer(asset)));
		}
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		// A cap lowered after posting stops the purchase: nothing is held.
		capped(OFFER_PRICE);
		assert_refused!(FlexMarket::accept_match(s(DSO), 0, u128::MAX), E::PriceAboveCap);
		let escrow = RuntimeHoldReason::FlexMarket(HoldReason::Escrow);
		assert_eq!(Balances::balance_on_hold(&escrow, &DSO), 0);
		capped(MAX_PRICE);
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, u128::MAX));
	});
}
