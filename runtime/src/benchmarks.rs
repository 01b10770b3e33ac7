//! The pallets benchmarked in this runtime.

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_collective, Council]
	[pallet_preimage, Preimage]
	[pallet_whitelist, Whitelist]
	[pallet_timestamp, Timestamp]
	[pallet_validator_set, ValidatorSet]
	[pallet_flex_market, FlexMarket]
);
