//! Governance: a council (the organisations that run the grid and the market) and
//! a technical committee (their engineers). The market's governance calls take two
//! thirds of the council; Root (runtime upgrades, anything else privileged) takes
//! both bodies: the committee whitelists a call by two thirds, the council
//! dispatches it by two thirds through `pallet-whitelist`.

use frame_support::{
	parameter_types,
	traits::{fungible::HoldConsideration, ConstU32, EitherOfDiverse, LinearStoragePrice},
	weights::Weight,
};
use frame_system::EnsureRoot;
use sp_runtime::Perbill;

use super::RuntimeBlockWeights;
use crate::{
	AccountId, Balance, Balances, BlockNumber, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeHoldReason, RuntimeOrigin, System, DAYS, MICRO_UNIT, MILLI_UNIT,
};

/// The council's instance of `pallet-collective`.
pub type CouncilCollective = pallet_collective::Instance1;
/// The technical committee's instance of `pallet-collective`.
pub type TechnicalCollective = pallet_collective::Instance2;

/// Two thirds of the council.
pub type CouncilTwoThirds =
	pallet_collective::EnsureProportionAtLeast<AccountId, CouncilCollective, 2, 3>;
/// Two thirds of the technical committee.
pub type TechnicalTwoThirds =
	pallet_collective::EnsureProportionAtLeast<AccountId, TechnicalCollective, 2, 3>;
/// Who may register DSOs and oracles and set the market's parameters and clock:
/// two thirds of the council, or Root (both bodies).
pub type MarketGovernance = EitherOfDiverse<EnsureRoot<AccountId>, CouncilTwoThirds>;

parameter_types! {
	/// A motion may take its full time when members do not all vote; it closes
	/// as soon as its outcome is certain.
	pub const MotionDuration: BlockNumber = 3 * DAYS;
	/// A motion may use half a block.
	pub MaxProposalWeight: Weight = Perbill::from_percent(50) * RuntimeBlockWeights::get().max_block;
	/// A call dispatched before it is whitelisted may be relayed for a week.
	pub const DeferredDispatchExpiration: BlockNumber = 7 * DAYS;
	/// Preimages hold 0.1 FLEX plus a millionth of a FLEX per byte.
	pub const PreimageBaseDeposit: Balance = 100 * MILLI_UNIT;
	pub const PreimageByteDeposit: Balance = MICRO_UNIT;
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_collective::Config<CouncilCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = MotionDuration;
	type MaxProposals = ConstU32<32>;
	type MaxMembers = ConstU32<32>;
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = MaxProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Consideration = ();
}

impl pallet_collective::Config<TechnicalCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = MotionDuration;
	type MaxProposals = ConstU32<32>;
	type MaxMembers = ConstU32<32>;
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = MaxProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Consideration = ();
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

impl pallet_whitelist::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WhitelistOrigin = TechnicalTwoThirds;
	type DispatchWhitelistedOrigin = CouncilTwoThirds;
	type Preimages = crate::Preimage;
	type DeferredDispatchExpiration = DeferredDispatchExpiration;
	type BlockNumberProvider = System;
	type WeightInfo = pallet_whitelist::weights::SubstrateWeight<Runtime>;
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{genesis_config_presets::tests::build, Council, TechnicalCommittee};
	use codec::Encode;
	use frame_support::{assert_noop, assert_ok, dispatch::GetDispatchInfo};
	use sp_keyring::Sr25519Keyring::{self, *};
	use sp_runtime::traits::{BlakeTwo256, Hash};

	type CouncilError = pallet_collective::Error<Runtime, CouncilCollective>;

	fn signed(who: Sr25519Keyring) -> RuntimeOrigin {
		RuntimeOrigin::signed(who.to_account_id())
	}

	/// The local test network at block 1 (so that events are recorded), with a clock.
	fn local_testnet() -> sp_io::TestExternalities {
		let mut ext = build("local_testnet");
		ext.execute_with(|| {
			System::set_block_number(1);
			pallet_timestamp::Now::<Runtime>::put(1_764_000_000_000);
		});
		ext
	}

	/// A motion of two thirds: `proposer` proposes `call` (proposing is not voting),
	/// `ayes` and `nays` vote, `proposer` closes it. Returns the result of `close`.
	fn council_motion(
		proposer: Sr25519Keyring,
		ayes: &[Sr25519Keyring],
		nays: &[Sr25519Keyring],
		call: RuntimeCall,
	) -> frame_support::dispatch::DispatchResultWithPostInfo {
		let len = call.encoded_size() as u32;
		let weight = call.get_dispatch_info().call_weight;
		let hash = BlakeTwo256::hash_of(&call);
		let index = pallet_collective::ProposalCount::<Runtime, CouncilCollective>::get();
		Council::propose(signed(proposer), 2, Box::new(call), len)?;
		for (voters, approve) in [(ayes, true), (nays, false)] {
			for who in voters.iter() {
				Council::vote(signed(*who), hash, index, approve)?;
			}
		}
		Council::close(signed(proposer), hash, index, weight, len)
	}

	/// The same for the technical committee.
	fn technical_motion(ayes: &[Sr25519Keyring], call: RuntimeCall) {
		let len = call.encoded_size() as u32;
		let weight = call.get_dispatch_info().call_weight;
		let hash = BlakeTwo256::hash_of(&call);
		let index = pallet_collective::ProposalCount::<Runtime, TechnicalCollective>::get();
		assert_ok!(TechnicalCommittee::propose(signed(ayes[0]), 2, Box::new(call), len));
		for who in ayes {
			assert_ok!(TechnicalCommittee::vote(signed(*who), hash, index, true));
		}
		assert_ok!(TechnicalCommittee::close(signed(ayes[0]), hash, index, weight, len));
	}

	fn clock_call(scale: u32) -> RuntimeCall {
		RuntimeCall::FlexMarket(pallet_flex_market::Call::set_clock { scale })
	}

	/// The market clock's scale (1 until governance sets one).
	fn scale() -> u32 {
		pallet_flex_market::Clock::<Runtime>::get().map_or(1, |c| c.scale)
	}

	fn upgrade_call() -> RuntimeCall {
		RuntimeCall::System(frame_system::Call::authorize_upgrade {
			code_hash: BlakeTwo256::hash(b"a new runtime"),
		})
	}

	#[test]
	fn two_thirds_of_the_council_govern_the_market() {
		local_testnet().execute_with(|| {
			assert_ok!(council_motion(Alice, &[Alice, Bob], &[], clock_call(60)));
			assert_eq!(scale(), 60);
		});
	}

	#[test]
	fn a_non_member_cannot_propose_or_vote() {
		local_testnet().execute_with(|| {
			let call = clock_call(60);
			let len = call.encoded_size() as u32;
			assert_noop!(
				Council::propose(signed(Ferdie), 2, Box::new(call.clone()), len),
				CouncilError::NotMember
			);
			assert_ok!(Council::propose(signed(Alice), 2, Box::new(call.clone()), len));
			assert_noop!(
				Council::vote(signed(Ferdie), BlakeTwo256::hash_of(&call), 0, true),
				CouncilError::NotMember
			);
		});
	}

	#[test]
	fn too_few_votes_do_not_pass() {
		local_testnet().execute_with(|| {
			// One aye of three: the motion cannot close before its time.
			let call = clock_call(60);
			let (hash, len) = (BlakeTwo256::hash_of(&call), call.encoded_size() as u32);
			let weight = call.get_dispatch_info().call_weight;
			assert_ok!(Council::propose(signed(Alice), 2, Box::new(call), len));
			assert_noop!(
				Council::close(signed(Alice), hash, 0, weight, len),
				CouncilError::TooEarly
			);
			// Two nays: it closes as disapproved and nothing happens.
			assert_ok!(Council::vote(signed(Bob), hash, 0, false));
			assert_ok!(Council::vote(signed(Charlie), hash, 0, false));
			assert_ok!(Council::close(signed(Alice), hash, 0, weight, len));
			System::assert_has_event(
				pallet_collective::Event::<Runtime, CouncilCollective>::Disapproved {
					proposal_hash: hash,
				}
				.into(),
			);
			assert_eq!(scale(), 1);
		});
	}

	#[test]
	fn nobody_alone_reaches_root() {
		local_testnet().execute_with(|| {
			assert_noop!(
				System::authorize_upgrade(signed(Alice), BlakeTwo256::hash(b"a new runtime")),
				sp_runtime::DispatchError::BadOrigin
			);
			// The council alone: the whitelisted dispatch is only deferred.
			let dispatch = RuntimeCall::Whitelist(
				pallet_whitelist::Call::dispatch_whitelisted_call_with_preimage {
					call: Box::new(upgrade_call()),
				},
			);
			assert_ok!(council_motion(Alice, &[Alice, Bob, Charlie], &[], dispatch));
			assert!(System::authorized_upgrade().is_none());
		});
		// The committee alone: whitelisting is not dispatching.
		local_testnet().execute_with(|| {
			technical_motion(&[Dave, Eve], whitelist(BlakeTwo256::hash_of(&upgrade_call())));
			assert!(System::authorized_upgrade().is_none());
		});
	}

	fn whitelist(call_hash: crate::Hash) -> RuntimeCall {
		RuntimeCall::Whitelist(pallet_whitelist::Call::whitelist_call { call_hash })
	}

	#[test]
	fn both_bodies_authorize_an_upgrade() {
		local_testnet().execute_with(|| {
			let call = upgrade_call();
			technical_motion(&[Dave, Eve], whitelist(BlakeTwo256::hash_of(&call)));
			let dispatch = RuntimeCall::Whitelist(
				pallet_whitelist::Call::dispatch_whitelisted_call_with_preimage {
					call: Box::new(call),
				},
			);
			assert_ok!(council_motion(Bob, &[Bob, Charlie], &[], dispatch));
			let authorized = System::authorized_upgrade().expect("authorized");
			assert_eq!(authorized.code_hash(), &BlakeTwo256::hash(b"a new runtime"));
			assert!(pallet_whitelist::WhitelistedCall::<Runtime>::iter().next().is_none());
		});
	}
}
