//! Benchmarks of the validator set's calls, each with the set one short of full (add)
//! or full (remove).

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};

const SEED: u32 = 0;

/// `n` registered validators in the set.
fn fill<T: Config>(n: u32) -> Vec<T::AccountId> {
	let validators: Vec<T::AccountId> = (0..n).map(|i| account("validator", i, SEED)).collect();
	for v in &validators {
		T::BenchmarkHelper::register_keys(v);
	}
	Validators::<T>::put(frame_support::BoundedVec::truncate_from(validators.clone()));
	validators
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator(v: Linear<1, { T::MaxValidators::get() - 1 }>) {
		fill::<T>(v);
		let new: T::AccountId = account("new", 0, SEED);
		T::BenchmarkHelper::register_keys(&new);
		let origin = T::UpdateOrigin::try_successful_origin().unwrap();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, new.clone());
		assert!(Validators::<T>::get().contains(&new));
	}

	#[benchmark]
	fn remove_validator(v: Linear<{ T::MinValidators::get() + 1 }, { T::MaxValidators::get() }>) {
		let validators = fill::<T>(v);
		let last = validators.last().unwrap().clone();
		let origin = T::UpdateOrigin::try_successful_origin().unwrap();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, last.clone());
		assert!(!Validators::<T>::get().contains(&last));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
