//! Editing, cancelling, expiry, pricing rules, deposits and housekeeping.

use super::*;
use frame_support::traits::fungible::InspectHold;
use sp_runtime::Perbill;

fn s(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn deposit_held(who: u64) -> u128 {
	Balances::balance_on_hold(&RuntimeHoldReason::FlexMarket(HoldReason::Deposit), &who)
}

#[test]
fn deposits_are_held_and_returned() {
	new_test_ext().execute_with(|| {
		let p = TestParams::get();
		let (battery, _) = pilot_assets();
		assert_eq!(deposit_held(BATTERY_OWNER), p.fsp_deposit + p.asset_deposit);
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(battery)));
		assert_eq!(deposit_held(BATTERY_OWNER), p.fsp_deposit + p.asset_deposit);
		assert_ok!(FlexMarket::cancel_offer(s(BATTERY_OWNER), 0));
		assert!(Offers::<Test>::get(0).is_none());
		assert_ok!(FlexMarket::deregister_asset(s(BATTERY_OWNER), battery));
		assert_eq!(deposit_held(BATTERY_OWNER), p.fsp_deposit);
		assert!(Assets::<Test>::get(battery).is_none());

		assert_ok!(FlexMarket::create_request(s(DSO), pilot_request()));
		assert_eq!(deposit_held(DSO), p.request_deposit);
		assert_ok!(FlexMarket::cancel_request(s(DSO), 0));
		assert_eq!(deposit_held(DSO), 0);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Cancelled);
		assert_eq!(Dsos::<Test>::get(DSO).unwrap().active_requests, 0);
		assert_eq!(OpenRequestCount::<Test>::get(ESKISEHIR), 0);
	});
}

#[test]
fn editing_a_request_drops_its_proposal_and_moves_its_expiry() {
	new_test_ext().execute_with(|| {
		pilot_matched();
		assert!(Proposals::<Test>::get(0).is_some());
		let mut spec = pilot_request();
		spec.power_w = 10_000;
		spec.window.start += 30 * MINUTE;
		spec.window.end += 30 * MINUTE;
		spec.gate_closure += 30 * MINUTE;
		assert_ok!(FlexMarket::update_request(s(DSO), 0, spec.clone()));
		assert!(Proposals::<Test>::get(0).is_none());
		assert_eq!(Requests::<Test>::get(0).unwrap().spec, spec);
		// Past the old window start the request is still open...
		advance_to(WINDOW_START + 2 * MINUTE);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Open);
		// ...and expires after the new one.
		advance_to(spec.window.start + MINUTE);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Expired);
	});
}

#[test]
fn editing_an_offer_moves_it_between_books() {
	new_test_ext().execute_with(|| {
		let (battery, _) = pilot_assets();
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(battery)));
		assert_eq!(BookSize::<Test>::get((ESKISEHIR, Direction::Up)), 1);
		let mut spec = pilot_offer(battery);
		spec.direction = Direction::Down;
		spec.price = 2 * OFFER_PRICE;
		assert_ok!(FlexMarket::update_offer(s(BATTERY_OWNER), 0, spec.clone()));
		assert_eq!(BookSize::<Test>::get((ESKISEHIR, Direction::Up)), 0);
		assert_eq!(BookSize::<Test>::get((ESKISEHIR, Direction::Down)), 1);
		assert_eq!(Offers::<Test>::get(0).unwrap().spec, spec);
		assert_eq!(Assets::<Test>::get(battery).unwrap().open_offers, 1);
		// An unmatched offer leaves the book when its window starts.
		advance_to(WINDOW_START + MINUTE);
		assert!(Offers::<Test>::get(0).is_none());
		assert_eq!(BookSize::<Test>::get((ESKISEHIR, Direction::Down)), 0);
		assert_eq!(Assets::<Test>::get(battery).unwrap().open_offers, 0);
		assert!(market_events().contains(&Event::OfferExpired { offer: 0 }));
	});
}

#[test]
fn divisible_offer_is_cut_where_that_is_cheaper() {
	new_test_ext().execute_with(|| {
		let (battery, v2g) = pilot_assets();
		let mut request = pilot_request();
		request.power_w = 15_000;
		assert_ok!(FlexMarket::create_request(s(DSO), request));
		let mut cheap = pilot_offer(battery);
		cheap.price = OFFER_PRICE / 2;
		let mut divisible = pilot_offer(v2g);
		divisible.divisibility = Divisibility::Divisible { min_power_w: 1_000 };
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), cheap));
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), divisible));
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		let p = FlexMarket::match_preview(0).unwrap();
		assert_eq!(p.fills.iter().map(|f| f.power_w).collect::<Vec<_>>(), vec![10_000, 5_000]);
		// 7.5 kWh at 0.05 + 3.75 kWh at 0.10
		assert_eq!(p.cost, 375 * UNIT / 1000 + 375 * UNIT / 1000);
	});
}

#[test]
fn pay_as_clear_pays_every_fill_the_highest_price() {
	new_test_ext().execute_with(|| {
		let (battery, v2g) = pilot_assets();
		let mut request = pilot_request();
		request.pricing = Pricing::PayAsClear;
		assert_ok!(FlexMarket::create_request(s(DSO), request));
		let mut cheap = pilot_offer(battery);
		cheap.price = OFFER_PRICE / 2;
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), cheap));
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(v2g)));
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, u128::MAX));
		let view = FlexMarket::settlement(0).unwrap();
		assert!(view.fills.iter().all(|f| f.price == OFFER_PRICE));
		assert_eq!(view.contract.cost, 15 * UNIT / 10);
	});
}

#[test]
fn a_better_solution_replaces_the_stored_one_and_a_worse_is_refused() {
	new_test_ext().execute_with(|| {
		let (battery, v2g) = pilot_assets();
		let mut request = pilot_request();
		request.power_w = 10_000;
		assert_ok!(FlexMarket::create_request(s(DSO), request));
		let mut dear = pilot_offer(battery);
		dear.price = 2 * OFFER_PRICE;
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), dear));
		let sol = |offer| -> SolutionOf<Test> {
			vec![ProposedFill { offer, power_w: 10_000 }].try_into().unwrap()
		};
		assert_ok!(FlexMarket::submit_solution(s(STRANGER), 0, sol(0)));
		assert_eq!(Proposals::<Test>::get(0).unwrap().submitter, STRANGER);
		assert_refused!(
			FlexMarket::submit_solution(s(STRANGER), 0, sol(0)),
			Error::<Test>::NotBetter
		);
		assert_refused!(FlexMarket::match_request(s(DSO), 0), Error::<Test>::NotBetter);
		// The refused call is charged for the book it read and the stored match it
		// checked (one fill), not for the largest book.
		let refused = FlexMarket::match_request(s(DSO), 0).unwrap_err();
		let book = BookSize::<Test>::get((ESKISEHIR, Direction::Up));
		assert_eq!(book, 1);
		let read = <Test as Config>::WeightInfo::match_request(book)
			.saturating_add(<Test as Config>::WeightInfo::check_proposal(1));
		assert_eq!(refused.post_info.actual_weight, Some(read));
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(v2g)));
		// With a 60 % margin the cheaper offer (half the cost) is not enough...
		let mut params = TestParams::get();
		params.solution_margin = Perbill::from_percent(60);
		assert_ok!(FlexMarket::set_params(RuntimeOrigin::root(), params.clone()));
		assert_refused!(
			FlexMarket::submit_solution(s(STRANGER), 0, sol(1)),
			Error::<Test>::NotBetter
		);
		// ...with 50 % it is.
		params.solution_margin = Perbill::from_percent(50);
		assert_ok!(FlexMarket::set_params(RuntimeOrigin::root(), params));
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		let stored = Proposals::<Test>::get(0).unwrap();
		assert_eq!(stored.submitter, DSO);
		assert_eq!(stored.fills.into_inner(), vec![ProposedFill { offer: 1, power_w: 10_000 }]);
	});
}

#[test]
fn a_stale_proposal_is_refused_at_buying() {
	new_test_ext().execute_with(|| {
		pilot_matched();
		assert_ok!(FlexMarket::cancel_offer(s(V2G_OWNER), 1));
		assert_refused!(
			FlexMarket::accept_match(s(DSO), 0, u128::MAX),
			Error::<Test>::ProposalStale
		);
	});
}

#[test]
fn an_asset_serves_non_overlapping_windows_back_to_back() {
	new_test_ext().execute_with(|| {
		pilot_accepted();
		let mut request = pilot_request();
		request.power_w = 10_000;
		request.window = Window { start: WINDOW_END, end: WINDOW_END + 45 * MINUTE };
		assert_ok!(FlexMarket::create_request(s(DSO), request.clone()));
		let mut offer = pilot_offer(0);
		offer.window = request.window;
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), offer));
		assert_ok!(FlexMarket::match_request(s(DSO), 1));
		assert_ok!(FlexMarket::accept_match(s(DSO), 1, u128::MAX));
		assert_eq!(Commitments::<Test>::get(0).len(), 2);
	});
}

#[test]
fn dso_and_oracles_can_be_removed_when_idle() {
	new_test_ext().execute_with(|| {
		let root = RuntimeOrigin::root;
		assert_ok!(FlexMarket::remove_oracle(root(), DSO, ORACLE));
		assert!(Dsos::<Test>::get(DSO).unwrap().oracles.is_empty());
		assert_ok!(FlexMarket::remove_dso(root(), OTHER_DSO));
		assert!(Locations::<Test>::get(ELSEWHERE).is_none());
		let locations: LocationListOf<Test> =
			vec![(ELSEWHERE, b"Reused".to_vec().try_into().unwrap())].try_into().unwrap();
		assert_ok!(FlexMarket::register_dso(root(), STRANGER, locations));
		assert_eq!(Locations::<Test>::get(ELSEWHERE).unwrap().dso, STRANGER);
	});
}

#[test]
fn a_full_agenda_page_opens_the_next() {
	new_test_ext().execute_with(|| {
		// 64 tasks fit a page in the mock; the 65th opens a second page of the same minute.
		for i in 0..65 {
			assert_ok!(FlexMarket::schedule(WINDOW_START, Task::Prune(1_000 + i)));
		}
		let bucket = WINDOW_START / agenda::BUCKET_MS;
		assert_eq!(AgendaPages::<Test>::get(bucket), 2);
		assert_eq!(Agenda::<Test>::get(bucket, 0).len(), 64);
		assert_eq!(Agenda::<Test>::get(bucket, 1).len(), 1);
		advance_to(WINDOW_START + 2 * MINUTE);
		assert_eq!(AgendaPages::<Test>::get(bucket), 0);
		assert!(Agenda::<Test>::get(bucket, 0).is_empty());
	});
}

#[test]
fn on_idle_stops_at_its_weight_limit_and_resumes() {
	use frame_support::{
		traits::{Get, Hooks},
		weights::Weight,
	};
	new_test_ext().execute_with(|| {
		for i in 0..10 {
			assert_ok!(FlexMarket::schedule(WINDOW_START, Task::Prune(1_000 + i)));
		}
		set_now(WINDOW_START + 2 * MINUTE);
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		let per_task = <() as WeightInfo>::prune(0).saturating_add(db.reads(1));
		let limit = <() as WeightInfo>::agenda_bucket().saturating_add(per_task.saturating_mul(3));
		let used = FlexMarket::on_idle(2, limit);
		assert!(used.all_lte(limit));
		let bucket = WINDOW_START / agenda::BUCKET_MS;
		assert_eq!(Agenda::<Test>::get(bucket, 0).len(), 7);
		FlexMarket::on_idle(3, Weight::MAX);
		assert!(Agenda::<Test>::get(bucket, 0).is_empty());
		assert_eq!(AgendaPages::<Test>::get(bucket), 0);
	});
}

#[test]
fn total_issuance_is_unchanged_by_a_whole_market_day() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		pilot_accepted();
		advance_to(WINDOW_END + 20 * MINUTE);
		advance_to(WINDOW_END + 8 * 24 * 60 * MINUTE);
		assert!(Requests::<Test>::get(0).is_none());
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn the_book_sweep_expires_started_offers_a_bounded_step_at_a_time() {
	use frame_support::{traits::Get, weights::Weight};
	new_test_ext().execute_with(|| {
		let (battery, v2g) = pilot_assets();
		for _ in 0..2 {
			assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(battery)));
			assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(v2g)));
		}
		let mut later = pilot_offer(battery);
		later.window = Window { start: WINDOW_END, end: WINDOW_END + 45 * MINUTE };
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), later));
		assert_eq!(BookSize::<Test>::get((ESKISEHIR, Direction::Up)), 5);
		set_now(WINDOW_START);
		// Room for the cursor and two entries: two looked at, the cursor kept.
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		let step = <() as WeightInfo>::expire_offer();
		let limit = db.reads_writes(2, 1).saturating_add(step.saturating_mul(2));
		let used = FlexMarket::sweep_book(limit);
		assert!(used.all_lte(limit));
		// The book is walked in key (hash) order: the later offer may be among the two.
		let left = BookSize::<Test>::get((ESKISEHIR, Direction::Up));
		assert!(left == 3 || left == 4, "{left}");
		assert!(BookSweep::<Test>::get().is_some());
		// The next block goes on from there, reaches the end and starts over.
		FlexMarket::sweep_book(Weight::MAX);
		assert!(BookSweep::<Test>::get().is_none());
		assert_eq!(BookSize::<Test>::get((ESKISEHIR, Direction::Up)), 1);
		let expired =
			market_events().iter().filter(|e| matches!(e, Event::OfferExpired { .. })).count();
		assert_eq!(expired, 4);
		// The offer for the later window stays in the book.
		assert_eq!(Offers::<Test>::get(4).unwrap().status, OfferStatus::Open);
		assert_eq!(Assets::<Test>::get(battery).unwrap().open_offers, 1);
	});
}

fn params_v1() -> crate::migrations::v2::ParamsV1<u128> {
	crate::migrations::v2::ParamsV1 {
		settlement_grace_ms: 20 * MINUTE,
		retention_ms: 3 * 24 * 60 * MINUTE,
		penalty_threshold: Perbill::from_percent(90),
		penalty_rate: Perbill::from_percent(20),
		request_deposit: 7,
		offer_deposit: 8,
		asset_deposit: 9,
		fsp_deposit: 10,
		solution_margin: Perbill::from_percent(1),
	}
}

/// The parameters as stored, decoded as version 2 laid them out.
fn stored_v2() -> Option<crate::migrations::v3::ParamsV2<u128>> {
	frame_support::storage::unhashed::get(&Params::<Test>::hashed_key())
}

/// The parameters as stored, decoded as version 3 laid them out.
fn stored_v3() -> Option<crate::migrations::v4::ParamsV3<u128>> {
	frame_support::storage::unhashed::get(&Params::<Test>::hashed_key())
}

#[test]
fn migration_to_v2_keeps_every_parameter_but_the_offer_deposit() {
	use crate::migrations::v2::MigrateV1ToV2;
	use codec::Encode;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		let old = params_v1();
		frame_support::storage::unhashed::put_raw(&Params::<Test>::hashed_key(), &old.encode());
		StorageVersion::new(1).put::<FlexMarket>();
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(FlexMarket::on_chain_storage_version(), 2);
		let new = stored_v2().expect("v2 parameters");
		assert_eq!(new, old.clone().upgraded());
		assert_eq!((new.request_deposit, new.asset_deposit, new.fsp_deposit), (7, 9, 10));
		assert_eq!(new.penalty_threshold, Perbill::from_percent(90));
		// A second run finds version 2 and changes nothing.
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(stored_v2(), Some(new));
	});
}

#[test]
fn migration_to_v3_adds_no_price_cap_and_keeps_the_rest() {
	use crate::migrations::v3::MigrateV2ToV3;
	use codec::Encode;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		let old = params_v1().upgraded();
		frame_support::storage::unhashed::put_raw(&Params::<Test>::hashed_key(), &old.encode());
		StorageVersion::new(2).put::<FlexMarket>();
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(FlexMarket::on_chain_storage_version(), 3);
		let mut new = stored_v3().expect("v3 parameters");
		assert_eq!(new, old.clone().upgraded());
		assert_eq!(new.price_cap, None);
		assert_eq!(new.settlement_grace_ms, 20 * MINUTE);
		// A second run finds version 3 and changes nothing.
		new.price_cap = Some(5);
		frame_support::storage::unhashed::put(&Params::<Test>::hashed_key(), &new);
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(stored_v3().unwrap().price_cap, Some(5));
	});
}

#[test]
fn a_version_1_chain_migrates_through_every_step() {
	use crate::migrations::{v2::MigrateV1ToV2, v3::MigrateV2ToV3, v4::MigrateV3ToV4};
	use codec::Encode;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		let old = params_v1();
		frame_support::storage::unhashed::put_raw(&Params::<Test>::hashed_key(), &old.encode());
		StorageVersion::new(1).put::<FlexMarket>();
		<(MigrateV1ToV2<Test>, MigrateV2ToV3<Test>, MigrateV3ToV4<Test>)>::on_runtime_upgrade();
		assert_eq!(FlexMarket::on_chain_storage_version(), 4);
		let new = Params::<Test>::get();
		assert_eq!(new, old.upgraded().upgraded().upgraded());
		assert_eq!(new.horizon_ms, crate::migrations::v4::DEFAULT_HORIZON_MS);
	});
}

/// The migrations' own checks (`pre_upgrade`, `post_upgrade`) pass on a version 1
/// chain, as `try-runtime` runs them before an upgrade.
#[cfg(feature = "try-runtime")]
#[test]
fn migrations_pass_their_try_runtime_checks() {
	use crate::migrations::{v2::MigrateV1ToV2, v3::MigrateV2ToV3, v4::MigrateV3ToV4};
	use codec::Encode;
	use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		frame_support::storage::unhashed::put_raw(
			&Params::<Test>::hashed_key(),
			&params_v1().encode(),
		);
		StorageVersion::new(1).put::<FlexMarket>();
		assert_ok!(<(MigrateV1ToV2<Test>, MigrateV2ToV3<Test>, MigrateV3ToV4<Test>)>::try_on_runtime_upgrade(true));
		assert_eq!(Params::<Test>::get(), params_v1().upgraded().upgraded().upgraded());
	});
}

/// "At least 25 kW for the least money": with an over-cover allowance a whole 30 kW
/// offer at 0.10 beats an exact 25 kW cover at 0.20; without one, the exact cover wins.
#[test]
fn over_cover_buys_at_least_the_power_for_less() {
	for (allowance, bought_w, cost) in
		[(0, 25_000, 375 * UNIT / 100), (5_000, 30_000, 225 * UNIT / 100)]
	{
		new_test_ext().execute_with(|| {
			assert_ok!(FlexMarket::register_fsp(s(BATTERY_OWNER)));
			for power in [30_000, 25_000] {
				let mut spec = asset_spec(AssetKind::Battery, b"big", 20);
				spec.max_export_w = power;
				assert_ok!(FlexMarket::register_asset(s(BATTERY_OWNER), spec));
			}
			for asset in [0, 1] {
				assert_ok!(FlexMarket::set_asset_status(s(DSO), asset, AssetStatus::Prequalified));
			}
			let mut whole = pilot_offer(0);
			whole.power_w = 30_000;
			let mut exact = pilot_offer(1);
			exact.power_w = 25_000;
			exact.price = 2 * OFFER_PRICE;
			exact.divisibility = Divisibility::Divisible { min_power_w: 1_000 };
			assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), whole));
			assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), exact));
			let mut request = pilot_request();
			request.power_w = 25_000;
			request.max_over_w = allowance;
			assert_ok!(FlexMarket::create_request(s(DSO), request));
			assert_ok!(FlexMarket::match_request(s(DSO), 0));
			let proposal = Proposals::<Test>::get(0).unwrap();
			assert_eq!(proposal.covered_w, 25_000, "the useful cover");
			assert_eq!(proposal.cost, cost);
			assert_ok!(FlexMarket::accept_match(s(DSO), 0, cost));
			let contract = Contracts::<Test>::get(0).unwrap();
			assert_eq!((contract.power_w, contract.cost), (bought_w, cost));
		});
	}
}

#[test]
fn a_cover_beyond_the_over_cover_allowance_is_refused() {
	new_test_ext().execute_with(|| {
		pilot_assets();
		let mut request = pilot_request();
		request.power_w = 15_000;
		request.max_over_w = 4_000;
		assert_ok!(FlexMarket::create_request(s(DSO), request));
		assert_ok!(FlexMarket::create_offer(s(BATTERY_OWNER), pilot_offer(0)));
		assert_ok!(FlexMarket::create_offer(s(V2G_OWNER), pilot_offer(1)));
		let both: SolutionOf<Test> = vec![
			ProposedFill { offer: 0, power_w: 10_000 },
			ProposedFill { offer: 1, power_w: 10_000 },
		]
		.try_into()
		.unwrap();
		// 20 kW is 5 kW above the 15 kW asked, one more than allowed.
		assert_refused!(
			FlexMarket::submit_solution(s(STRANGER), 0, both),
			Error::<Test>::OverCovered
		);
	});
}
