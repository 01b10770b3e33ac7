//! Property tests on random books: the market never over-commits an asset, never
//! loses or creates money, and its merit order is optimal for divisible offers.

use super::*;
use frame_support::traits::fungible::Mutate;
use proptest::prelude::*;
use sp_core::H256;

/// A random offer: (asset index, power W, price in 0.01/kWh, minimum power or None for all-or-nothing).
type RandomOffer = (usize, u32, u128, Option<u32>);

fn offers(max_assets: usize, max_offers: usize) -> impl Strategy<Value = Vec<RandomOffer>> {
	prop::collection::vec(
		(0..max_assets, 1u32..=10, 1u128..=20, prop::option::of(1u32..=10)).prop_map(
			|(asset, kw, cents, min_kw)| {
				let power_w = kw * 1_000;
				(asset, power_w, cents, min_kw.map(|m| (m * 1_000).min(power_w)))
			},
		),
		1..=max_offers,
	)
}

/// Registers `n` prequalified 10 kW assets, owned by FSPs 100.., and posts the offers.
fn post_book(n: usize, book: &[RandomOffer]) {
	for a in 0..n {
		let owner = 100 + a as u64;
		assert_ok!(Balances::mint_into(&owner, ENDOWMENT));
		assert_ok!(FlexMarket::register_fsp(RuntimeOrigin::signed(owner)));
		assert_ok!(FlexMarket::register_asset(
			RuntimeOrigin::signed(owner),
			asset_spec(AssetKind::Battery, b"dev", 10)
		));
		assert_ok!(FlexMarket::set_asset_status(
			RuntimeOrigin::signed(DSO),
			a as u32,
			AssetStatus::Prequalified
		));
	}
	for &(asset, power_w, cents, min) in book {
		let mut spec = pilot_offer(asset as u32);
		spec.power_w = power_w;
		spec.price = cents * UNIT / 100;
		spec.divisibility = match min {
			Some(min_power_w) => Divisibility::Divisible { min_power_w },
			None => Divisibility::AllOrNothing,
		};
		assert_ok!(FlexMarket::create_offer(RuntimeOrigin::signed(100 + asset as u64), spec));
	}
}

/// Least score cost (Σ power × price) to cover `demand` W exactly from divisible
/// offers (power, min, price), by trying every subset: within a subset, start each
/// offer at its minimum and top up cheapest first.
fn brute_force(demand: u32, offers: &[(u32, u32, u128)]) -> Option<u128> {
	let mut best: Option<u128> = None;
	for mask in 1u32..(1 << offers.len()) {
		let chosen: Vec<_> = offers
			.iter()
			.enumerate()
			.filter(|(i, _)| mask & (1 << i) != 0)
			.map(|(_, o)| *o)
			.collect();
		let min_sum: u32 = chosen.iter().map(|o| o.1).sum();
		let max_sum: u32 = chosen.iter().map(|o| o.0).sum();
		if min_sum > demand || max_sum < demand {
			continue;
		}
		let mut take: Vec<u32> = chosen.iter().map(|o| o.1).collect();
		let mut left = demand - min_sum;
		let mut order: Vec<usize> = (0..chosen.len()).collect();
		order.sort_by_key(|&i| chosen[i].2);
		for i in order {
			let more = (chosen[i].0 - take[i]).min(left);
			take[i] += more;
			left -= more;
		}
		let cost = chosen.iter().zip(&take).map(|(o, t)| *t as u128 * o.2).sum::<u128>();
		best = Some(best.map_or(cost, |b: u128| b.min(cost)));
	}
	best
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	/// Whatever the book, a match never over-commits an asset or covers more than asked,
	/// escrow always equals the open contracts (try_state after every block), and after
	/// random deliveries settlement leaves total issuance and the escrow untouched.
	#[test]
	fn random_books_never_over_commit_and_conserve_money(
		book in offers(4, 8),
		kw in 1u32..=30,
		partial in any::<bool>(),
		delivered in prop::collection::vec(0u64..=9_000, 8),
	) {
		new_test_ext().execute_with(|| -> Result<(), TestCaseError> {
			post_book(4, &book);
			let issuance = Balances::total_issuance();
			let mut request = pilot_request();
			request.power_w = kw * 1_000;
			request.partial = partial;
			assert_ok!(FlexMarket::create_request(RuntimeOrigin::signed(DSO), request));
			if FlexMarket::match_request(RuntimeOrigin::signed(DSO), 0).is_err() {
				return Ok(());
			}
			let preview = FlexMarket::match_preview(0).unwrap();
			prop_assert!(preview.power_w <= kw * 1_000);
			prop_assert!(partial || preview.power_w == kw * 1_000);
			assert_ok!(FlexMarket::accept_match(RuntimeOrigin::signed(DSO), 0, u128::MAX));
			FlexMarket::do_try_state().expect("invariants after buying");
			advance_to(WINDOW_START + MINUTE);
			let fills = Contracts::<Test>::get(0).unwrap().fill_count;
			for i in 0..fills {
				assert_ok!(FlexMarket::report_delivery(
					RuntimeOrigin::signed(ORACLE), 0, i, delivered[i as usize], H256::zero()
				));
			}
			advance_to(WINDOW_END + 20 * MINUTE);
			let view = FlexMarket::settlement(0).unwrap();
			prop_assert_eq!(view.contract.escrow, 0);
			let paid: u128 = view.fills.iter().map(|f| f.outcome.unwrap().paid + f.outcome.unwrap().refunded).sum();
			prop_assert_eq!(paid, view.contract.cost);
			prop_assert_eq!(Balances::total_issuance(), issuance);
			Ok(())
		})?;
	}

	/// On books of divisible offers the merit order's cost is the brute-force optimum.
	#[test]
	fn merit_order_is_optimal_on_divisible_books(
		book in prop::collection::vec((1u32..=10, 1u128..=20), 1..=7),
		kw in 1u32..=40,
	) {
		new_test_ext().execute_with(|| -> Result<(), TestCaseError> {
			let random: Vec<RandomOffer> = book
				.iter()
				.enumerate()
				.map(|(i, &(kw, cents))| (i, kw * 1_000, cents, Some(1)))
				.collect();
			post_book(book.len(), &random);
			let mut request = pilot_request();
			request.power_w = kw * 1_000;
			assert_ok!(FlexMarket::create_request(RuntimeOrigin::signed(DSO), request));
			let expected = brute_force(
				kw * 1_000,
				&random.iter().map(|o| (o.1, 1, o.2 * UNIT / 100)).collect::<Vec<_>>(),
			);
			let result = FlexMarket::match_request(RuntimeOrigin::signed(DSO), 0);
			match expected {
				None => prop_assert!(result.is_err()),
				Some(cost) => {
					prop_assert!(result.is_ok());
					prop_assert_eq!(Proposals::<Test>::get(0).unwrap().score_w_price, cost);
				},
			}
			Ok(())
		})?;
	}
}
