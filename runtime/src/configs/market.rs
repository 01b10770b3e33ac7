//! The flexibility market's configuration: bounds sized for a whole distribution
//! grid (100 000 assets, 10 000 open offers in one location, a request every
//! 15 minutes per location) and the default market parameters.

use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64},
};
use pallet_flex_market::MarketParams;
use sp_runtime::Perbill;

use crate::{Balance, Balances, Runtime, RuntimeHoldReason, Timestamp, MILLI_UNIT, UNIT};

const MINUTE_MS: u64 = 60_000;
const HOUR_MS: u64 = 60 * MINUTE_MS;

parameter_types! {
	/// Market parameters until governance sets others.
	pub DefaultMarketParams: MarketParams<Balance> = MarketParams {
		settlement_grace_ms: 15 * MINUTE_MS,
		retention_ms: 7 * 24 * HOUR_MS,
		penalty_threshold: Perbill::zero(),
		penalty_rate: Perbill::zero(),
		request_deposit: 100 * MILLI_UNIT,
		asset_deposit: 100 * MILLI_UNIT,
		fsp_deposit: UNIT,
		solution_margin: Perbill::zero(),
		price_cap: None,
		horizon_ms: 7 * 24 * HOUR_MS,
	};
	/// A day is the longest delivery window.
	pub const MaxWindowMs: u64 = 24 * HOUR_MS;
}

impl pallet_flex_market::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = super::MarketGovernance;
	type Time = Timestamp;
	type MaxLocationsPerDso = ConstU32<1_000>;
	type MaxOraclesPerDso = ConstU32<16>;
	type MaxNameLen = ConstU32<64>;
	type MaxDeviceRefLen = ConstU32<128>;
	type MaxOffersPerBook = ConstU32<10_000>;
	/// A day of 15-minute slots.
	type MaxOffersPerAsset = ConstU32<96>;
	type MaxOpenRequestsPerLocation = ConstU32<192>;
	type MaxFills = ConstU32<1_000>;
	type MaxCommitmentsPerAsset = ConstU32<96>;
	type MaxTasksPerBucket = ConstU32<1_024>;
	type MaxWindowMs = MaxWindowMs;
	type DefaultParams = DefaultMarketParams;
	type AuthorityId = pallet_flex_market::offchain::crypto::SolverId;
	/// Mine during the ten minutes before a gate closes.
	type SolverHorizonMs = ConstU64<{ 10 * MINUTE_MS }>;
	/// About 2 000 nodes of O(book) each: tens of milliseconds on a 10 000-offer book.
	type SolverBudget = ConstU32<2_000>;
	type WeightInfo = pallet_flex_market::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchmarkClock;
}

/// Sets `pallet-timestamp`'s clock in benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchmarkClock;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_flex_market::BenchmarkHelper for BenchmarkClock {
	fn set_time(ms: u64) {
		pallet_timestamp::Now::<Runtime>::put(ms);
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::configs::RuntimeBlockWeights;
	use frame_support::{dispatch::DispatchClass, traits::Get};
	use pallet_flex_market::{weights::SubstrateWeight, WeightInfo};

	type W = SubstrateWeight<Runtime>;

	/// Matching 1 000 eligible offers takes less than a quarter of a block.
	#[test]
	fn matching_a_thousand_offers_fits_a_quarter_block() {
		let max_block = RuntimeBlockWeights::get().max_block;
		let weight = W::match_request(1_000).saturating_add(W::check_proposal(1_000));
		assert!(
			weight.ref_time() < max_block.ref_time() / 4,
			"match_request(1000) = {weight:?}, a quarter block = {}",
			max_block.ref_time() / 4
		);
	}

	/// Every call fits a block at its bounds, so none can be made impossible to include.
	#[test]
	fn every_call_fits_a_block_at_its_bounds() {
		let max = RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_extrinsic
			.expect("normal extrinsics are limited");
		let fills = <Runtime as pallet_flex_market::Config>::MaxFills::get();
		let book = <Runtime as pallet_flex_market::Config>::MaxOffersPerBook::get();
		let locations = <Runtime as pallet_flex_market::Config>::MaxLocationsPerDso::get();
		let offers = <Runtime as pallet_flex_market::Config>::MaxOffersPerAsset::get();
		let open = <Runtime as pallet_flex_market::Config>::MaxOpenRequestsPerLocation::get();
		let check = W::check_proposal(fills);
		for (name, weight) in [
			("register_dso", W::register_dso(locations)),
			("remove_dso", W::remove_dso(locations)),
			("deregister_asset", W::deregister_asset(offers)),
			("set_asset_status", W::set_asset_status(offers)),
			("update_request", W::update_request(fills)),
			("cancel_request", W::cancel_request(fills)),
			("update_offer", W::update_offer(open)),
			("cancel_offer", W::cancel_offer(open)),
			("match_request", W::match_request(book).saturating_add(check)),
			("submit_solution", W::submit_solution(fills).saturating_add(check)),
			("accept_match", W::accept_match(fills)),
			("settle", W::settle(fills)),
			("expire_request", W::expire_request(fills)),
			("prune", W::prune(fills)),
		] {
			assert!(weight.all_lte(max), "{name} = {weight:?} exceeds the extrinsic limit {max:?}");
		}
	}
}
