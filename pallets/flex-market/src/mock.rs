//! A test runtime: System, Balances, Timestamp and the market.

use crate::{self as pallet_flex_market, MarketParams};
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::{
	testing::{TestSignature, TestXt, UintAuthorityId},
	BuildStorage, Perbill,
};

type Block = frame_system::mocking::MockBlock<Test>;

/// Currency units: 12 decimals, one unit stands for one euro in the pilot.
pub const UNIT: u128 = 1_000_000_000_000;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Timestamp: pallet_timestamp,
		FlexMarket: pallet_flex_market,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u128>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = u128;
	type ExistentialDeposit = frame_support::traits::ConstU128<1_000_000>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl pallet_timestamp::Config for Test {
	type Moment = u64;
	type OnTimestampSet = ();
	type MinimumPeriod = frame_support::traits::ConstU64<1>;
	type WeightInfo = ();
}

parameter_types! {
	pub static TestParams: MarketParams<u128> = MarketParams {
		settlement_grace_ms: 15 * 60_000,
		retention_ms: 24 * 3_600_000,
		penalty_threshold: Perbill::zero(),
		penalty_rate: Perbill::zero(),
		request_deposit: UNIT / 10,
		asset_deposit: UNIT / 10,
		fsp_deposit: UNIT / 10,
		solution_margin: Perbill::zero(),
		price_cap: None,
		horizon_ms: 7 * 24 * 3_600_000,
	};
	pub const MaxWindowMs: u64 = 24 * 3_600_000;
}

impl pallet_flex_market::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = frame_system::EnsureRoot<u64>;
	type Time = Timestamp;
	type MaxLocationsPerDso = ConstU32<8>;
	type MaxOraclesPerDso = ConstU32<4>;
	type MaxNameLen = ConstU32<32>;
	type MaxDeviceRefLen = ConstU32<64>;
	type MaxOffersPerBook = ConstU32<1_000>;
	type MaxOffersPerAsset = ConstU32<96>;
	type MaxOpenRequestsPerLocation = ConstU32<16>;
	type MaxFills = ConstU32<100>;
	type MaxCommitmentsPerAsset = ConstU32<8>;
	type MaxTasksPerBucket = ConstU32<64>;
	type MaxWindowMs = MaxWindowMs;
	type DefaultParams = TestParams;
	type AuthorityId = TestSolverKey;
	type SolverHorizonMs = frame_support::traits::ConstU64<{ 60 * 60_000 }>;
	type SolverBudget = ConstU32<10_000>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockClock;
}

/// Sets the mock's clock in benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockClock;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for MockClock {
	fn set_time(ms: u64) {
		set_now(ms);
	}
}

/// Test extrinsics: signed by a `u64` account, no signature, no extensions.
pub type Extrinsic = TestXt<RuntimeCall, ()>;

impl frame_system::offchain::SigningTypes for Test {
	type Public = UintAuthorityId;
	type Signature = TestSignature;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateSignedTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_signed_transaction<
		A: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
	>(
		call: RuntimeCall,
		_public: UintAuthorityId,
		account: u64,
		_nonce: u32,
	) -> Option<Extrinsic> {
		Some(Extrinsic::new_signed(call, account, (), ()))
	}
}

/// The solver's test key: `UintAuthorityId`s set with `UintAuthorityId::set_all_keys`.
pub struct TestSolverKey;
impl frame_system::offchain::AppCrypto<UintAuthorityId, TestSignature> for TestSolverKey {
	type RuntimeAppPublic = UintAuthorityId;
	type GenericPublic = UintAuthorityId;
	type GenericSignature = TestSignature;
}

/// The pilot's cast.
pub const DSO: u64 = 1;
pub const BATTERY_OWNER: u64 = 2;
pub const V2G_OWNER: u64 = 3;
pub const ORACLE: u64 = 4;
pub const OTHER_DSO: u64 = 5;
pub const OTHER_ORACLE: u64 = 6;
pub const STRANGER: u64 = 7;
/// The account of the off-chain worker's key.
pub const SOLVER: u64 = 8;
/// The pilot's LV transformer area and another DSO's.
pub const ESKISEHIR: u32 = 1;
pub const ELSEWHERE: u32 = 2;

/// Everyone starts with this much.
pub const ENDOWMENT: u128 = 1_000 * UNIT;

/// 2023-10-02 15:00:00 +03:00 (12:00 UTC), an hour before the pilot's window.
pub const T0: u64 = 1_696_248_000_000;
pub const MINUTE: u64 = 60_000;

/// Storage with the cast funded and the two DSOs registered.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: [
			DSO,
			BATTERY_OWNER,
			V2G_OWNER,
			ORACLE,
			OTHER_DSO,
			OTHER_ORACLE,
			STRANGER,
			SOLVER,
		]
		.into_iter()
		.map(|a| (a, ENDOWMENT))
		.collect(),
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	pallet_flex_market::GenesisConfig::<Test> {
		dsos: vec![
			(DSO, vec![(ESKISEHIR, b"Eskisehir".to_vec())], vec![ORACLE]),
			(OTHER_DSO, vec![(ELSEWHERE, b"Elsewhere".to_vec())], vec![OTHER_ORACLE]),
		],
		fsps: vec![],
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		set_now(T0);
	});
	ext
}

/// Sets the chain's clock (unix ms).
pub fn set_now(ms: u64) {
	pallet_timestamp::Now::<Test>::put(ms);
}

/// Moves the clock to `ms` and runs blocks with plenty of spare weight until the
/// agenda has caught up; checks the invariants after each block.
pub fn advance_to(ms: u64) {
	use frame_support::traits::Hooks;
	set_now(ms);
	loop {
		let n = System::block_number() + 1;
		System::set_block_number(n);
		FlexMarket::on_idle(n, frame_support::weights::Weight::MAX);
		FlexMarket::do_try_state().expect("invariants hold");
		// Caught up, or nothing was ever scheduled.
		if crate::AgendaCursor::<Test>::get().is_none_or(|c| c >= ms / crate::agenda::BUCKET_MS) {
			break;
		}
	}
}
