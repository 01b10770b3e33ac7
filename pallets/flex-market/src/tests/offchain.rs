//! The off-chain worker: it mines a cheaper match than the merit order, submits it
//! as a signed transaction once, and the chain keeps it as the request's match.
//! Without any submission the merit order runs at gate closure.

use super::*;
use codec::Decode;
use frame_support::traits::{Hooks, UnfilteredDispatchable};
use sp_core::offchain::{
	testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_runtime::{generic::Preamble, testing::UintAuthorityId};
use std::sync::Arc;

fn s(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

/// Test storage with an off-chain worker environment, a transaction pool and the
/// solver's key.
fn offchain_ext() -> (sp_io::TestExternalities, Arc<parking_lot::RwLock<PoolState>>) {
	let mut ext = new_test_ext();
	let (offchain, _) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	UintAuthorityId::set_all_keys(vec![SOLVER]);
	(ext, pool_state)
}

/// A book where greedy overpays: 15 kW all-or-nothing at 0.10 leaves 5 kW for the
/// divisible offer at 0.21, while two 10 kW offers at 0.12 cover 20 kW for less.
fn greedy_trap() {
	let offers =
		[(15_000, 10, None), (10_000, 12, None), (10_000, 12, None), (20_000, 21, Some(1_000))];
	for (i, (power_w, cents, min)) in offers.into_iter().enumerate() {
		let owner = 100 + i as u64;
		use frame_support::traits::fungible::Mutate;
		assert_ok!(Balances::mint_into(&owner, ENDOWMENT));
		assert_ok!(FlexMarket::register_fsp(s(owner)));
		let mut spec = asset_spec(AssetKind::Battery, b"dev", 20);
		spec.max_export_w = 20_000;
		assert_ok!(FlexMarket::register_asset(s(owner), spec));
		assert_ok!(FlexMarket::set_asset_status(s(DSO), i as u32, AssetStatus::Prequalified));
		let mut offer = pilot_offer(i as u32);
		offer.power_w = power_w;
		offer.price = cents * UNIT / 100;
		if let Some(min_power_w) = min {
			offer.divisibility = Divisibility::Divisible { min_power_w };
		}
		assert_ok!(FlexMarket::create_offer(s(owner), offer));
	}
	assert_ok!(FlexMarket::create_request(s(DSO), pilot_request()));
}

/// Decodes the pool's transactions: (signer, call).
fn pool_calls(pool: &Arc<parking_lot::RwLock<PoolState>>) -> Vec<(u64, RuntimeCall)> {
	pool.read()
		.transactions
		.iter()
		.map(|tx| {
			let xt = Extrinsic::decode(&mut &tx[..]).expect("a test extrinsic");
			let Preamble::Signed(who, _, _) = xt.preamble else { panic!("a signed extrinsic") };
			(who, xt.function)
		})
		.collect()
}

#[test]
fn worker_submits_a_cheaper_match_once_and_the_chain_keeps_it() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		greedy_trap();
		// The DSO's merit order: 15 kW at 0.10 + 5 kW at 0.21.
		assert_ok!(FlexMarket::match_request(s(DSO), 0));
		let greedy = Proposals::<Test>::get(0).unwrap();
		assert_eq!(greedy.score_w_price, 15_000 * 10 * UNIT / 100 + 5_000 * 21 * UNIT / 100);
		// In money: 11.25 kWh at 0.10 + 3.75 kWh at 0.21.
		assert_eq!(greedy.cost, 1_125 * UNIT / 1000 + 7_875 * UNIT / 10_000);

		FlexMarket::offchain_worker(System::block_number());
		let calls = pool_calls(&pool);
		assert_eq!(calls.len(), 1, "one submission");
		let (signer, call) = calls.into_iter().next().unwrap();
		assert_eq!(signer, SOLVER);
		let RuntimeCall::FlexMarket(Call::submit_solution { request, fills }) = call.clone() else {
			panic!("a solution, got {call:?}")
		};
		assert_eq!(request, 0);
		assert_eq!(
			fills.into_inner(),
			vec![
				ProposedFill { offer: 1, power_w: 10_000 },
				ProposedFill { offer: 2, power_w: 10_000 }
			]
		);

		// At most one submission per request per block, and none that does not beat
		// the last one while it waits in the pool.
		FlexMarket::offchain_worker(System::block_number());
		System::set_block_number(System::block_number() + 1);
		FlexMarket::offchain_worker(System::block_number());
		assert_eq!(pool.read().transactions.len(), 1);

		// The chain checks it like any solution and keeps it.
		assert_ok!(call.dispatch_bypass_filter(s(signer)));
		let stored = Proposals::<Test>::get(0).unwrap();
		assert_eq!((stored.submitter, stored.covered_w), (SOLVER, 20_000));
		assert_eq!(stored.score_w_price, 20_000 * 12 * UNIT / 100);
		assert_eq!(stored.cost, 15 * 12 * UNIT / 100);
		assert_eq!(
			FlexMarket::mine(System::block_number(), 0),
			Err(crate::offchain::Skip::NotBetter)
		);

		// After gate closure it is the request's match: the DSO buys 15 kWh at 0.12.
		advance_to(WINDOW_START - 14 * MINUTE);
		assert_eq!(Proposals::<Test>::get(0).unwrap().submitter, SOLVER);
		assert_ok!(FlexMarket::accept_match(s(DSO), 0, u128::MAX));
		assert_eq!(Contracts::<Test>::get(0).unwrap().cost, 15 * 12 * UNIT / 100);
		// The merit order would have cost 11.25 kWh at 0.10 + 3.75 kWh at 0.21.
		assert!(
			Contracts::<Test>::get(0).unwrap().cost < 1_125 * UNIT / 1000 + 7_875 * UNIT / 10_000
		);
	});
}

#[test]
fn a_worse_submitted_solution_is_refused() {
	let (mut ext, _) = offchain_ext();
	ext.execute_with(|| {
		greedy_trap();
		let optimal: SolutionOf<Test> = vec![
			ProposedFill { offer: 1, power_w: 10_000 },
			ProposedFill { offer: 2, power_w: 10_000 },
		]
		.try_into()
		.unwrap();
		assert_ok!(FlexMarket::submit_solution(s(SOLVER), 0, optimal));
		let greedy: SolutionOf<Test> = vec![
			ProposedFill { offer: 0, power_w: 15_000 },
			ProposedFill { offer: 3, power_w: 5_000 },
		]
		.try_into()
		.unwrap();
		assert_refused!(
			FlexMarket::submit_solution(s(STRANGER), 0, greedy),
			Error::<Test>::NotBetter
		);
	});
}

#[test]
fn without_a_submission_the_merit_order_runs_at_gate_closure() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		UintAuthorityId::set_all_keys(Vec::<u64>::new());
		greedy_trap();
		// No solver key: nothing is submitted.
		FlexMarket::offchain_worker(System::block_number());
		assert!(pool.read().transactions.is_empty());
		assert_eq!(FlexMarket::mine(System::block_number(), 0), Err(crate::offchain::Skip::NoKey));
		assert!(Proposals::<Test>::get(0).is_none());
		advance_to(WINDOW_START - 14 * MINUTE);
		let fallback = Proposals::<Test>::get(0).expect("the merit order ran at gate closure");
		assert_eq!(fallback.submitter, DSO);
		assert_eq!(fallback.covered_w, 20_000);
		assert!(market_events()
			.iter()
			.any(|e| matches!(e, Event::MatchProposed { request: 0, by: DSO, .. })));
	});
}

#[test]
fn the_worker_only_mines_requests_whose_gate_closes_soon() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		greedy_trap();
		let mut later = pilot_request();
		later.window.start += 3 * 60 * MINUTE;
		later.window.end += 3 * 60 * MINUTE;
		later.gate_closure += 3 * 60 * MINUTE;
		assert_ok!(FlexMarket::create_request(s(DSO), later));
		assert_eq!(FlexMarket::gates_closing(T0, T0 + 60 * MINUTE), vec![0]);
		FlexMarket::offchain_worker(System::block_number());
		let requests: Vec<u32> = pool_calls(&pool)
			.into_iter()
			.filter_map(|(_, c)| match c {
				RuntimeCall::FlexMarket(Call::submit_solution { request, .. }) => Some(request),
				_ => None,
			})
			.collect();
		assert_eq!(requests, vec![0]);
	});
}
