//! Benchmarks of every call and of the agenda's tasks, each at its worst case
//! within the `Config` bounds.

use super::*;
use crate::agenda::BUCKET_MS;
use alloc::vec;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Mutate, MutateHold},
		EnsureOrigin, Get,
	},
	weights::Weight,
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_core::H256;
use sp_runtime::SaturatedConversion;

const SEED: u32 = 0;
/// 2023-10-02 12:00 UTC.
const T0: Moment = 1_696_248_000_000;
const MINUTE: Moment = 60_000;
const LOCATION: LocationId = 900_000;

fn max_cost<T: Config>() -> BalanceOf<T> {
	u64::MAX.saturated_into()
}

fn window() -> Window {
	Window { start: T0 + 60 * MINUTE, end: T0 + 105 * MINUTE }
}

fn set_time<T: Config>(ms: Moment) {
	T::BenchmarkHelper::set_time(ms);
}

fn fund<T: Config>(who: &T::AccountId) {
	let plenty: BalanceOf<T> = 1_000_000_000_000_000_000_000u128.saturated_into();
	T::Currency::set_balance(who, plenty);
}

fn price<T: Config>(milli: u128) -> BalanceOf<T> {
	(milli * 1_000_000_000).saturated_into()
}

/// The DSO operating `LOCATION`, with one oracle; the caller of DSO calls.
fn dso<T: Config>() -> (T::AccountId, T::AccountId) {
	set_time::<T>(T0);
	let dso: T::AccountId = whitelisted_caller();
	let oracle: T::AccountId = account("oracle", 0, SEED);
	fund::<T>(&dso);
	let name = BoundedVec::truncate_from(vec![b'x'; T::MaxNameLen::get() as usize]);
	Pallet::<T>::do_register_dso(dso.clone(), BoundedVec::truncate_from(vec![(LOCATION, name)]))
		.unwrap();
	Pallet::<T>::do_appoint_oracle(dso.clone(), oracle.clone()).unwrap();
	(dso, oracle)
}

fn asset_spec<T: Config>() -> AssetSpecOf<T> {
	AssetSpec {
		kind: AssetKind::Battery,
		location: LOCATION,
		max_export_w: 10_000,
		max_import_w: 10_000,
		capacity_wh: 30_000,
		min_soc_percent: 20,
		device: BoundedVec::truncate_from(vec![b'd'; T::MaxDeviceRefLen::get() as usize]),
	}
}

/// A registered FSP with a prequalified asset; returns (fsp, asset).
fn fsp_with_asset<T: Config>(dso: &T::AccountId, i: u32) -> (T::AccountId, AssetId) {
	let fsp: T::AccountId = account("fsp", i, SEED);
	fund::<T>(&fsp);
	if !Fsps::<T>::contains_key(&fsp) {
		Pallet::<T>::do_register_fsp(fsp.clone()).unwrap();
	}
	let asset = NextAssetId::<T>::get();
	Pallet::<T>::do_register_asset(fsp.clone(), asset_spec::<T>()).unwrap();
	Pallet::<T>::do_set_asset_status(dso.clone(), asset, AssetStatus::Prequalified).unwrap();
	(fsp, asset)
}

fn offer_spec<T: Config>(asset: AssetId, power_w: u32) -> OfferSpecOf<T> {
	OfferSpec {
		asset,
		window: window(),
		direction: Direction::Up,
		power_w,
		price: price::<T>(100),
		divisibility: Divisibility::Divisible { min_power_w: 1 },
	}
}

fn request_spec<T: Config>(power_w: u32) -> RequestSpecOf<T> {
	RequestSpec {
		location: LOCATION,
		window: window(),
		direction: Direction::Up,
		power_w,
		max_price: price::<T>(210),
		gate_closure: window().start - 15 * MINUTE,
		partial: true,
		pricing: Pricing::PayAsBid,
		max_over_w: 0,
	}
}

/// Gives `asset` as many commitments as it may hold but `room` (1 W each, in the
/// benchmark's window and direction, of requests that do not exist), so that every
/// headroom computation over it does its most work and still leaves power free.
fn commit_fully<T: Config>(asset: AssetId, room: u32) {
	let n = T::MaxCommitmentsPerAsset::get().saturating_sub(room);
	let commitments: Vec<Commitment> = (0..n)
		.map(|i| Commitment {
			request: RequestId::MAX - i,
			window: window(),
			direction: Direction::Up,
			power_w: 1,
		})
		.collect();
	Commitments::<T>::insert(asset, BoundedVec::truncate_from(commitments));
}

/// Fills the last agenda page of `at`'s minute up to one free slot, so scheduling
/// reads and writes a full page.
fn crowd_agenda<T: Config>(at: Moment) {
	let filler = vec![Task::Prune(RequestId::MAX); T::MaxTasksPerBucket::get() as usize - 1];
	Agenda::<T>::insert(at / BUCKET_MS, 0, BoundedVec::truncate_from(filler));
	AgendaPages::<T>::insert(at / BUCKET_MS, 1);
}

/// `n` offers of 1 kW from `n` distinct assets, each asset committed but for
/// `room` more commitments; returns their ids.
fn book_with_room<T: Config>(dso: &T::AccountId, n: u32, room: u32) -> Vec<OfferId> {
	(0..n)
		.map(|i| {
			let (fsp, asset) = fsp_with_asset::<T>(dso, i);
			commit_fully::<T>(asset, room);
			let id = NextOfferId::<T>::get();
			Pallet::<T>::do_create_offer(fsp, offer_spec::<T>(asset, 1_000)).unwrap();
			id
		})
		.collect()
}

/// `n` offers of 1 kW from `n` distinct, fully committed assets; returns their ids.
fn book<T: Config>(dso: &T::AccountId, n: u32) -> Vec<OfferId> {
	book_with_room::<T>(dso, n, 0)
}

/// `n` open offers of one prequalified asset; returns (fsp, asset).
fn offers_of_one_asset<T: Config>(dso: &T::AccountId, n: u32) -> (T::AccountId, AssetId) {
	let (fsp, asset) = fsp_with_asset::<T>(dso, 0);
	for _ in 0..n {
		Pallet::<T>::do_create_offer(fsp.clone(), offer_spec::<T>(asset, 1_000)).unwrap();
	}
	(fsp, asset)
}

/// Marks `offer` as held by `p` stored proposals whose gates are still open.
fn held_by<T: Config>(offer: OfferId, p: u32) {
	for i in 0..p {
		ProposedOffers::<T>::insert(offer, RequestId::MAX - i, window().start);
	}
}

/// Request 0 with a proposal of `f` fills of 1 kW, each asset with room for one more
/// commitment; returns the request id.
fn proposed<T: Config>(dso: &T::AccountId, f: u32) -> RequestId {
	let offers = book_with_room::<T>(dso, f, 1);
	let id = NextRequestId::<T>::get();
	Pallet::<T>::do_create_request(dso.clone(), request_spec::<T>(f * 1_000)).unwrap();
	let fills: Vec<ProposedFill> =
		offers.into_iter().map(|offer| ProposedFill { offer, power_w: 1_000 }).collect();
	Pallet::<T>::do_submit_solution(dso.clone(), id, BoundedVec::truncate_from(fills)).unwrap();
	id
}

/// A bought match of `f` fills, every fill reported, the clock after the deadline.
fn due<T: Config>(dso: &T::AccountId, oracle: &T::AccountId, f: u32) -> RequestId {
	let id = proposed::<T>(dso, f);
	Pallet::<T>::do_accept_match(dso.clone(), id, max_cost::<T>()).unwrap();
	set_time::<T>(window().start + MINUTE);
	for i in 0..f {
		Pallet::<T>::do_report_delivery(oracle.clone(), id, i, 600, H256::zero()).unwrap();
	}
	set_time::<T>(window().end + Params::<T>::get().settlement_grace_ms);
	id
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_dso(l: Linear<1, { T::MaxLocationsPerDso::get() }>) {
		let dso: T::AccountId = account("dso", 0, SEED);
		let name = BoundedVec::truncate_from(vec![b'x'; T::MaxNameLen::get() as usize]);
		let locations: LocationListOf<T> =
			BoundedVec::truncate_from((0..l).map(|i| (1_000_000 + i, name.clone())).collect());
		let origin = T::GovernanceOrigin::try_successful_origin().unwrap();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, dso.clone(), locations);
		assert!(Dsos::<T>::contains_key(&dso));
	}

	#[benchmark]
	fn remove_dso(l: Linear<1, { T::MaxLocationsPerDso::get() }>) {
		let dso: T::AccountId = account("dso", 0, SEED);
		let locations: LocationListOf<T> = BoundedVec::truncate_from(
			(0..l).map(|i| (1_000_000 + i, Default::default())).collect(),
		);
		Pallet::<T>::do_register_dso(dso.clone(), locations).unwrap();
		let origin = T::GovernanceOrigin::try_successful_origin().unwrap();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, dso.clone());
		assert!(!Dsos::<T>::contains_key(&dso));
	}

	#[benchmark]
	fn appoint_oracle() {
		let (dso, _) = dso::<T>();
		for i in 1..T::MaxOraclesPerDso::get() - 1 {
			Pallet::<T>::do_appoint_oracle(dso.clone(), account("oracle", i, SEED)).unwrap();
		}
		let oracle: T::AccountId = account("oracle", T::MaxOraclesPerDso::get(), SEED);
		let origin = T::GovernanceOrigin::try_successful_origin().unwrap();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, dso.clone(), oracle.clone());
		assert!(Dsos::<T>::get(&dso).unwrap().oracles.contains(&oracle));
	}

	#[benchmark]
	fn remove_oracle() {
		let (dso, _) = dso::<T>();
		for i in 1..T::MaxOraclesPerDso::get() {
			Pallet::<T>::do_appoint_oracle(dso.clone(), account("oracle", i, SEED)).unwrap();
		}
		let oracle: T::AccountId = account("oracle", T::MaxOraclesPerDso::get() - 1, SEED);
		let origin = T::GovernanceOrigin::try_successful_origin().unwrap();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, dso.clone(), oracle.clone());
		assert!(!Dsos::<T>::get(&dso).unwrap().oracles.contains(&oracle));
	}

	#[benchmark]
	fn register_fsp() {
		let fsp: T::AccountId = whitelisted_caller();
		fund::<T>(&fsp);
		#[extrinsic_call]
		_(RawOrigin::Signed(fsp.clone()));
		assert!(Fsps::<T>::contains_key(&fsp));
	}

	#[benchmark]
	fn register_asset() {
		let (dso, _) = dso::<T>();
		let (fsp, _) = fsp_with_asset::<T>(&dso, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(fsp), asset_spec::<T>());
		assert_eq!(NextAssetId::<T>::get(), 2);
	}

	#[benchmark]
	fn update_asset() {
		let (dso, _) = dso::<T>();
		let (fsp, asset) = fsp_with_asset::<T>(&dso, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(fsp), asset, asset_spec::<T>());
		assert_eq!(Assets::<T>::get(asset).unwrap().status, AssetStatus::Pending);
	}

	/// The asset's `o` open offers are withdrawn with it.
	#[benchmark]
	fn deregister_asset(o: Linear<0, { T::MaxOffersPerAsset::get() }>) {
		let (dso, _) = dso::<T>();
		let (fsp, asset) = offers_of_one_asset::<T>(&dso, o);
		#[extrinsic_call]
		_(RawOrigin::Signed(fsp), asset);
		assert!(!Assets::<T>::contains_key(asset));
		assert_eq!(BookSize::<T>::get((LOCATION, Direction::Up)), 0);
	}

	/// Suspending withdraws the asset's `o` open offers.
	#[benchmark]
	fn set_asset_status(o: Linear<0, { T::MaxOffersPerAsset::get() }>) {
		let (dso, _) = dso::<T>();
		let (_, asset) = offers_of_one_asset::<T>(&dso, o);
		#[extrinsic_call]
		_(RawOrigin::Signed(dso), asset, AssetStatus::Suspended);
		assert_eq!(Assets::<T>::get(asset).unwrap().status, AssetStatus::Suspended);
		assert_eq!(Assets::<T>::get(asset).unwrap().open_offers, 0);
	}

	#[benchmark]
	fn create_request() {
		let (dso, _) = dso::<T>();
		crowd_agenda::<T>(window().start);
		#[extrinsic_call]
		_(RawOrigin::Signed(dso), request_spec::<T>(20_000));
		assert!(Requests::<T>::contains_key(0));
	}

	/// Editing drops a proposal of `f` fills.
	#[benchmark]
	fn update_request(f: Linear<1, { T::MaxFills::get() }>) {
		let (dso, _) = dso::<T>();
		let id = proposed::<T>(&dso, f);
		let mut spec = request_spec::<T>(10_000);
		spec.window.start += MINUTE;
		crowd_agenda::<T>(spec.window.start);
		#[extrinsic_call]
		_(RawOrigin::Signed(dso), id, spec);
		assert!(!Proposals::<T>::contains_key(id));
	}

	/// Cancelling drops a proposal of `f` fills.
	#[benchmark]
	fn cancel_request(f: Linear<1, { T::MaxFills::get() }>) {
		let (dso, _) = dso::<T>();
		let id = proposed::<T>(&dso, f);
		#[extrinsic_call]
		_(RawOrigin::Signed(dso), id);
		assert_eq!(Requests::<T>::get(id).unwrap().status, RequestStatus::Cancelled);
	}

	#[benchmark]
	fn create_offer() {
		let (dso, _) = dso::<T>();
		let (fsp, asset) = fsp_with_asset::<T>(&dso, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(fsp), offer_spec::<T>(asset, 10_000));
		assert!(Offers::<T>::contains_key(0));
	}

	/// The offer is held by `p` stored proposals whose gates are open.
	#[benchmark]
	fn update_offer(p: Linear<0, { T::MaxOpenRequestsPerLocation::get() }>) {
		let (dso, _) = dso::<T>();
		let offer = book::<T>(&dso, 1)[0];
		held_by::<T>(offer, p);
		let fsp = Offers::<T>::get(offer).unwrap().fsp;
		let mut spec = Offers::<T>::get(offer).unwrap().spec;
		spec.window.start -= MINUTE;
		#[extrinsic_call]
		_(RawOrigin::Signed(fsp), offer, spec.clone());
		assert_eq!(Offers::<T>::get(offer).unwrap().spec, spec);
	}

	/// The offer is held by `p` stored proposals whose gates are open.
	#[benchmark]
	fn cancel_offer(p: Linear<0, { T::MaxOpenRequestsPerLocation::get() }>) {
		let (dso, _) = dso::<T>();
		let offer = book::<T>(&dso, 1)[0];
		held_by::<T>(offer, p);
		let fsp = Offers::<T>::get(offer).unwrap().fsp;
		#[extrinsic_call]
		_(RawOrigin::Signed(fsp), offer);
		assert!(!Offers::<T>::contains_key(offer));
	}

	/// `n` eligible offers from `n` fully committed assets in the book; the request
	/// takes as many as a match may hold.
	#[benchmark]
	fn match_request(n: Linear<1, { T::MaxOffersPerBook::get() }>) {
		let (dso, _) = dso::<T>();
		book::<T>(&dso, n);
		let power = n.min(T::MaxFills::get()) * 1_000;
		Pallet::<T>::do_create_request(dso.clone(), request_spec::<T>(power)).unwrap();
		#[extrinsic_call]
		_(RawOrigin::Signed(dso), 0);
		assert_eq!(Proposals::<T>::get(0).unwrap().covered_w, power);
	}

	#[benchmark]
	fn submit_solution(f: Linear<1, { T::MaxFills::get() }>) {
		let (dso, _) = dso::<T>();
		let offers = book::<T>(&dso, f);
		Pallet::<T>::do_create_request(dso.clone(), request_spec::<T>(f * 1_000)).unwrap();
		let fills: SolutionOf<T> = BoundedVec::truncate_from(
			offers.into_iter().map(|offer| ProposedFill { offer, power_w: 1_000 }).collect(),
		);
		let solver: T::AccountId = account("solver", 0, SEED);
		#[extrinsic_call]
		_(RawOrigin::Signed(solver), 0, fills);
		assert_eq!(Proposals::<T>::get(0).unwrap().fills.len() as u32, f);
	}

	/// A stored proposal of `s` feasible fills checked against the book: what the
	/// chain does before comparing, buying or keeping a stored match.
	#[benchmark]
	fn check_proposal(s: Linear<1, { T::MaxFills::get() }>) {
		let (dso, _) = dso::<T>();
		let id = proposed::<T>(&dso, s);
		let request = Requests::<T>::get(id).unwrap();
		#[block]
		{
			assert!(matches!(Pallet::<T>::live_proposal(&request, id), Ok(Some(_))));
		}
	}

	/// `f` fills, each of an asset with one commitment short of the most it may hold.
	#[benchmark]
	fn accept_match(f: Linear<1, { T::MaxFills::get() }>) {
		let (dso, _) = dso::<T>();
		let id = proposed::<T>(&dso, f);
		crowd_agenda::<T>(window().end + Params::<T>::get().settlement_grace_ms);
		#[extrinsic_call]
		_(RawOrigin::Signed(dso), id, max_cost::<T>());
		assert_eq!(Contracts::<T>::get(id).unwrap().fill_count, f);
	}

	#[benchmark]
	fn report_delivery() {
		let (dso, oracle) = dso::<T>();
		for i in 1..T::MaxOraclesPerDso::get() {
			Pallet::<T>::do_appoint_oracle(dso.clone(), account("oracle", i, SEED)).unwrap();
		}
		let id = proposed::<T>(&dso, 1);
		Pallet::<T>::do_accept_match(dso, id, max_cost::<T>()).unwrap();
		set_time::<T>(window().start + MINUTE);
		#[extrinsic_call]
		_(RawOrigin::Signed(oracle), id, 0, 600, H256::zero());
		assert_eq!(Contracts::<T>::get(id).unwrap().reported, 1);
	}

	#[benchmark]
	fn settle(f: Linear<1, { T::MaxFills::get() }>) {
		let (dso, oracle) = dso::<T>();
		let id = due::<T>(&dso, &oracle, f);
		let anyone: T::AccountId = account("anyone", 0, SEED);
		#[extrinsic_call]
		_(RawOrigin::Signed(anyone), id);
		assert_eq!(Requests::<T>::get(id).unwrap().status, RequestStatus::Settled);
	}

	/// A payout parked at settlement, claimed.
	#[benchmark]
	fn claim_payout() {
		let (dso, _) = dso::<T>();
		let fsp: T::AccountId = account("fsp", 0, SEED);
		fund::<T>(&fsp);
		let amount: BalanceOf<T> = 1_000_000_000u64.saturated_into();
		T::Currency::hold(&HoldReason::Unclaimed.into(), &dso, amount).unwrap();
		UnclaimedPayouts::<T>::insert(&fsp, 0, (dso.clone(), amount));
		#[extrinsic_call]
		_(RawOrigin::Signed(fsp.clone()), 0);
		assert!(!UnclaimedPayouts::<T>::contains_key(&fsp, 0));
	}

	#[benchmark]
	fn set_params() {
		let origin = T::GovernanceOrigin::try_successful_origin().unwrap();
		let params = T::DefaultParams::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);
	}

	#[benchmark]
	fn set_clock() {
		let origin = T::GovernanceOrigin::try_successful_origin().unwrap();
		set_time::<T>(T0);
		Clock::<T>::put(MarketClock { chain_ms: T0 - MINUTE, market_ms: T0, scale: 15 });
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 60);
		assert_eq!(Pallet::<T>::now(), T0 + 15 * MINUTE);
	}

	/// Expiry drops a proposal of `f` fills.
	#[benchmark]
	fn expire_request(f: Linear<1, { T::MaxFills::get() }>) {
		let (dso, _) = dso::<T>();
		let id = proposed::<T>(&dso, f);
		set_time::<T>(window().start);
		#[block]
		{
			assert!(Pallet::<T>::do_expire_request(id).unwrap());
		}
	}

	#[benchmark]
	fn expire_offer() {
		let (dso, _) = dso::<T>();
		let offer = book::<T>(&dso, 1)[0];
		set_time::<T>(window().start);
		#[block]
		{
			assert!(Pallet::<T>::do_expire_offer(offer));
		}
	}

	#[benchmark]
	fn prune(f: Linear<1, { T::MaxFills::get() }>) {
		let (dso, oracle) = dso::<T>();
		let id = due::<T>(&dso, &oracle, f);
		Pallet::<T>::do_settle(id).unwrap();
		#[block]
		{
			assert_eq!(Pallet::<T>::do_prune(id).unwrap(), f);
		}
		assert!(!Requests::<T>::contains_key(id));
	}

	/// One step of the agenda over an empty minute.
	#[benchmark]
	fn agenda_bucket() {
		set_time::<T>(T0 + 2 * MINUTE);
		AgendaCursor::<T>::put(T0 / BUCKET_MS + 1);
		#[block]
		{
			Pallet::<T>::work_off_agenda(Weight::MAX);
		}
		assert_eq!(AgendaCursor::<T>::get(), Some(T0 / BUCKET_MS + 2));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
