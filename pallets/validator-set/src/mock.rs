//! A test runtime: System and the validator set, with session keys as a set of
//! registered accounts.

use crate as pallet_validator_set;
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		ValidatorSet: pallet_validator_set,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

parameter_types! {
	/// Accounts that registered session keys.
	pub static Registered: Vec<u64> = vec![1, 2, 3, 4, 5];
}

/// Registration as the mock's `Registered` list says.
pub struct Keys;
impl frame_support::traits::ValidatorRegistration<u64> for Keys {
	fn is_registered(id: &u64) -> bool {
		Registered::get().contains(id)
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for Keys {
	fn register_keys(who: &u64) {
		Registered::mutate(|r| r.push(*who));
	}
}

impl pallet_validator_set::Config for Test {
	type UpdateOrigin = frame_system::EnsureRoot<u64>;
	type ValidatorRegistration = Keys;
	type MaxValidators = ConstU32<8>;
	type MinValidators = ConstU32<2>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Keys;
}

/// The DSO (1), two aggregators (2, 3) and the regulator (4) validate; 5 has keys.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_validator_set::GenesisConfig::<Test> { validators: vec![1, 2, 3, 4] }
		.assimilate_storage(&mut t)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
