//! The Flexchain runtime: a FRAME runtime with Aura and GRANDPA consensus,
//! balances with transaction fees, governance by a council and a technical
//! committee, and the flexibility market.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime` and `impl_runtime_apis` generate large types.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;
pub mod migrations;
pub mod weights;

use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_flex_market::Call as FlexMarketCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Types the node uses without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as sp_runtime::traits::Hash>::Output;
}

impl_opaque_keys! {
	/// The keys a validator holds.
	pub struct SessionKeys {
		/// Block authoring.
		pub aura: Aura,
		/// Finality.
		pub grandpa: Grandpa,
	}
}

/// The runtime's version. Bump `spec_version` for every runtime upgrade.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("flexchain"),
	impl_name: alloc::borrow::Cow::Borrowed("flexchain-node"),
	authoring_version: 1,
	spec_version: 104,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Target block time in ms. Blocks are produced once per slot of this length.
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
/// Slot length; cannot change once the chain runs.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Blocks per minute, hour and day.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// The token: FLEX, 12 decimals. The demo reads one FLEX as one euro.
pub const TOKEN_SYMBOL: &str = "FLEX";
/// Decimals of the token.
pub const TOKEN_DECIMALS: u8 = 12;
/// One FLEX in the smallest unit.
pub const UNIT: Balance = 1_000_000_000_000;
/// A thousandth of a FLEX.
pub const MILLI_UNIT: Balance = 1_000_000_000;
/// A millionth of a FLEX.
pub const MICRO_UNIT: Balance = 1_000_000;
/// The chain's SS58 address prefix.
pub const SS58_PREFIX: u16 = 7171;

/// Smallest balance an account may hold.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// Signature of transactions.
pub type Signature = MultiSignature;
/// Accounts are the public keys of their signers.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account.
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// Hash of blocks and tries.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// How an account is addressed.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block with a justification.
pub type SignedBlock = generic::SignedBlock<Block>;

/// The transaction extensions, all of them known to Polkadot.js Apps and `@polkadot/api`.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
);

/// Extrinsic format.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// What is signed in a transaction.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run at the next runtime upgrade (each checks the pallet's
/// on-chain storage version, so it runs once).
type Migrations = (
	pallet_flex_market::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_flex_market::migrations::v3::MigrateV2ToV3<Runtime>,
	pallet_flex_market::migrations::v4::MigrateV3ToV4<Runtime>,
	// Spec 104 has no sudo pallet: its storage goes.
	frame_support::migrations::RemovePallet<
		SudoPalletName,
		<Runtime as frame_system::Config>::DbWeight,
	>,
	// Spec 104 has a governed validator set: seeded from the authorities it had.
	migrations::SeedValidatorSet,
);

frame_support::parameter_types! {
	/// The storage prefix of the removed `pallet-sudo`.
	pub const SudoPalletName: &'static str = "Sudo";
}

/// Dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	// Index 6 was pallet-sudo until spec 104: no sudo on any chain.

	// The validator set before the session: its genesis feeds the session's.
	#[runtime::pallet_index(7)]
	pub type ValidatorSet = pallet_validator_set;

	#[runtime::pallet_index(8)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(10)]
	pub type Council = pallet_collective<Instance1>;

	#[runtime::pallet_index(11)]
	pub type TechnicalCommittee = pallet_collective<Instance2>;

	#[runtime::pallet_index(12)]
	pub type Preimage = pallet_preimage;

	#[runtime::pallet_index(13)]
	pub type Whitelist = pallet_whitelist;

	#[runtime::pallet_index(20)]
	pub type FlexMarket = pallet_flex_market;
}
