//! The EFLEX field pilot (Eskisehir, 2 October 2023) through the pallet, to the unit.

use super::*;
use frame_support::traits::{
	fungible::{Inspect, InspectHold},
	tokens::Preservation,
};
use sp_core::H256;
use sp_runtime::Perbill;

fn free(who: u64) -> u128 {
	Balances::reducible_balance(
		&who,
		Preservation::Expendable,
		frame_support::traits::tokens::Fortitude::Polite,
	)
}

#[test]
fn pilot_matches_twenty_kilowatts_for_one_euro_fifty() {
	new_test_ext().execute_with(|| {
		pilot_matched();
		let preview = FlexMarket::match_preview(0).expect("a proposal is stored");
		assert_eq!(preview.source, views::PreviewSource::Stored);
		assert_eq!(preview.requested_w, 20_000);
		assert_eq!(preview.power_w, 20_000);
		assert_eq!(preview.energy_wh, 15_000);
		assert_eq!(preview.cost, 15 * UNIT / 10);
		assert_eq!(preview.fills.len(), 2);
		for (fill, asset) in preview.fills.iter().zip([0, 1]) {
			assert_eq!(fill.asset, asset);
			assert_eq!(fill.power_w, 10_000);
			assert_eq!(fill.energy_wh, 7_500);
			assert_eq!(fill.price, OFFER_PRICE);
			assert_eq!(fill.cost, 75 * UNIT / 100);
		}
		assert_eq!(FlexMarket::eligible_offers(0).len(), 2);
		assert_eq!(FlexMarket::open_requests(ESKISEHIR).len(), 1);
	});
}

#[test]
fn pilot_buys_settles_and_pays_by_delivered_energy() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let dso_before = free(DSO);
		pilot_accepted();

		// Buying holds 1.50 EUR from the DSO and announces both fills for dispatch.
		assert_eq!(
			Balances::balance_on_hold(&RuntimeHoldReason::FlexMarket(HoldReason::Escrow), &DSO),
			15 * UNIT / 10
		);
		let contracted: Vec<_> = market_events()
			.into_iter()
			.filter_map(|e| match e {
				Event::FillContracted {
					asset, device, power_w, window, energy_wh, cost, ..
				} => Some((asset, device, power_w, window, energy_wh, cost)),
				_ => None,
			})
			.collect();
		assert_eq!(
			contracted,
			vec![
				(
					0,
					b"modbus://127.0.0.1:5020/1".to_vec(),
					10_000,
					window(),
					7_500,
					75 * UNIT / 100
				),
				(1, b"ocpp://CP-EFLEX-01/1".to_vec(), 10_000, window(), 7_500, 75 * UNIT / 100),
			]
		);
		assert_eq!(FlexMarket::open_requests(ESKISEHIR).len(), 0);

		// The oracle reports Table III's deliveries after the window started.
		advance_to(WINDOW_END + MINUTE);
		let root = H256::repeat_byte(7);
		assert_ok!(FlexMarket::report_delivery(RuntimeOrigin::signed(ORACLE), 0, 0, 7_210, root));
		assert_ok!(FlexMarket::report_delivery(RuntimeOrigin::signed(ORACLE), 0, 1, 6_970, root));

		// Settlement runs on its own once the grace period is over.
		System::reset_events();
		advance_to(WINDOW_END + 15 * MINUTE + 2 * MINUTE);
		let settled: Vec<_> = market_events()
			.into_iter()
			.filter_map(|e| match e {
				Event::FillSettled {
					fsp,
					delivered_wh,
					delivery_rate,
					paid,
					penalty,
					refunded,
					..
				} => Some((fsp, delivered_wh, delivery_rate, paid, penalty, refunded)),
				_ => None,
			})
			.collect();
		assert_eq!(
			settled,
			vec![
				(
					BATTERY_OWNER,
					7_210,
					Perbill::from_rational(7_210u64, 7_500),
					721 * UNIT / 1000,
					0,
					29 * UNIT / 1000
				),
				(
					V2G_OWNER,
					6_970,
					Perbill::from_rational(6_970u64, 7_500),
					697 * UNIT / 1000,
					0,
					53 * UNIT / 1000
				),
			]
		);
		// 96 % and 93 % per asset, 95 % overall, as in Table III.
		let percent = |p: Perbill| (p.deconstruct() as u64 + 5_000_000) / 10_000_000;
		assert_eq!(percent(settled[0].2), 96);
		assert_eq!(percent(settled[1].2), 93);
		let overall = market_events()
			.into_iter()
			.find_map(|e| match e {
				Event::RequestSettled {
					delivered_wh,
					contracted_wh,
					delivery_rate,
					paid,
					refunded,
					..
				} => Some((delivered_wh, contracted_wh, delivery_rate, paid, refunded)),
				_ => None,
			})
			.expect("request settled");
		assert_eq!(overall.0, 14_180);
		assert_eq!(overall.1, 15_000);
		assert_eq!(percent(overall.2), 95);
		assert_eq!(overall.3, 1_418 * UNIT / 1000);
		assert_eq!(overall.4, 82 * UNIT / 1000);

		// Escrow is empty, the DSO paid exactly what was delivered, nothing was minted.
		assert_eq!(
			Balances::balance_on_hold(&RuntimeHoldReason::FlexMarket(HoldReason::Escrow), &DSO),
			0
		);
		assert_eq!(dso_before - free(DSO), 1_418 * UNIT / 1000);
		assert_eq!(Balances::total_balance(&BATTERY_OWNER), ENDOWMENT + 721 * UNIT / 1000);
		assert_eq!(Balances::total_balance(&V2G_OWNER), ENDOWMENT + 697 * UNIT / 1000);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(Requests::<Test>::get(0).unwrap().status, RequestStatus::Settled);
		assert!(Commitments::<Test>::get(0).is_empty());

		// The settlement view keeps the outcome until the retention period ends.
		let view = FlexMarket::settlement(0).unwrap();
		assert_eq!(view.fills[0].outcome.unwrap().paid, 721 * UNIT / 1000);
		advance_to(WINDOW_END + 17 * MINUTE + 24 * 60 * MINUTE + 2 * MINUTE);
		assert!(Requests::<Test>::get(0).is_none());
		assert!(FlexMarket::settlement(0).is_none());
		assert!(Offers::<Test>::get(0).is_none() && Offers::<Test>::get(1).is_none());
	});
}

#[test]
fn missing_report_counts_as_zero_and_penalty_applies_below_threshold() {
	new_test_ext().execute_with(|| {
		let mut params = TestParams::get();
		params.penalty_threshold = Perbill::from_percent(95);
		params.penalty_rate = Perbill::from_percent(50);
		assert_ok!(FlexMarket::set_params(RuntimeOrigin::root(), params));
		pilot_accepted();
		advance_to(WINDOW_START + MINUTE);
		// Battery at 96 % is above the threshold; the V2G charger is never reported.
		assert_ok!(FlexMarket::report_delivery(
			RuntimeOrigin::signed(ORACLE),
			0,
			0,
			7_210,
			H256::zero()
		));
		advance_to(WINDOW_END + 15 * MINUTE);
		assert_ok!(FlexMarket::settle(RuntimeOrigin::signed(STRANGER), 0));
		let fills = FlexMarket::settlement(0).unwrap().fills;
		let battery = fills[0].outcome.unwrap();
		assert_eq!((battery.paid, battery.penalty), (721 * UNIT / 1000, 0));
		let v2g = fills[1].outcome.unwrap();
		assert_eq!(v2g.delivery_rate, Perbill::zero());
		// Nothing earned, so nothing to deduct: the whole 0.75 goes back.
		assert_eq!((v2g.paid, v2g.penalty, v2g.refunded), (0, 0, 75 * UNIT / 100));
	});
}

#[test]
fn settle_fill_arithmetic() {
	let p = UNIT / 10;
	let s =
		settlement::settle_fill(7_500, 6_970, p, 75 * UNIT / 100, Perbill::zero(), Perbill::zero());
	assert_eq!((s.paid, s.penalty, s.refunded), (697 * UNIT / 1000, 0, 53 * UNIT / 1000));
	// Over-delivery is paid up to the contract.
	let s =
		settlement::settle_fill(7_500, 9_000, p, 75 * UNIT / 100, Perbill::zero(), Perbill::zero());
	assert_eq!((s.delivery_rate, s.paid, s.refunded), (Perbill::one(), 75 * UNIT / 100, 0));
	// 50 % delivered, threshold 90 %, penalty 20 % of the undelivered 3 750 Wh (0.075).
	let s = settlement::settle_fill(
		7_500,
		3_750,
		p,
		75 * UNIT / 100,
		Perbill::from_percent(90),
		Perbill::from_percent(20),
	);
	assert_eq!(s.penalty, 75 * UNIT / 1000);
	assert_eq!(s.paid, 375 * UNIT / 1000 - 75 * UNIT / 1000);
	assert_eq!(s.paid + s.refunded, 75 * UNIT / 100);
}
