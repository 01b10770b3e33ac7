//! Version 4: the market among parties who do not trust each other.
//!
//! - `MarketParams` gains `horizon_ms` (how far ahead a window may start; 7 days by
//!   the runtime's default).
//! - Offers lose the v1 `deposit`: any deposit still held is returned.
//! - The agenda loses v1's offer-expiry tasks (the book sweep does that since v2).
//! - A request's spec gains `max_over_w` (0: never more than requested).
//! - A proposal's `cost` (the solver's score) becomes `score_w_price`, and `cost` is
//!   now the price of buying it in planks; proposed offers get their index
//!   (`ProposedOffers`).
//! - A contract gains its `report_deadline`, fixed at the grace in force now.
//! - Open offers get their per-asset index (`AssetOffers`).
//!
//! Every record is rewritten in one block: fine for the books this runtime has seen so
//! far (thousands of records); a chain with millions would need a multi-block
//! migration.

use crate::{
	pallet::*, Contract, Direction, LocationId, MarketParams, Moment, Offer, OfferId, OfferSpec,
	OfferStatus, Pricing, Proposal, ProposedFill, Request, RequestId, RequestSpec, RequestStatus,
	Task, Window, LOG_TARGET,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};
use sp_runtime::Perbill;
#[cfg(feature = "try-runtime")]
use sp_runtime::TryRuntimeError;

/// Seven days in ms: the horizon a chain migrated to version 4 starts with.
pub const DEFAULT_HORIZON_MS: u64 = 7 * 24 * 3_600_000;

/// `MarketParams` as version 3 stored them.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub struct ParamsV3<Balance> {
	/// Reports are taken until the window's end plus this (ms).
	pub settlement_grace_ms: u64,
	/// Finished requests are kept this long (ms).
	pub retention_ms: u64,
	/// Delivery rate below which a penalty applies.
	pub penalty_threshold: Perbill,
	/// Share of the undelivered energy's value deducted as penalty.
	pub penalty_rate: Perbill,
	/// Held from the DSO per request.
	pub request_deposit: Balance,
	/// Held from the owner per asset.
	pub asset_deposit: Balance,
	/// Held from an FSP while registered.
	pub fsp_deposit: Balance,
	/// Margin a new solution must beat the stored one by.
	pub solution_margin: Perbill,
	/// The regulator's price ceiling per kWh.
	pub price_cap: Option<Balance>,
}

impl<Balance> ParamsV3<Balance> {
	/// The same parameters in version 4, with the default horizon.
	pub fn upgraded(self) -> MarketParams<Balance> {
		MarketParams {
			settlement_grace_ms: self.settlement_grace_ms,
			retention_ms: self.retention_ms,
			penalty_threshold: self.penalty_threshold,
			penalty_rate: self.penalty_rate,
			request_deposit: self.request_deposit,
			asset_deposit: self.asset_deposit,
			fsp_deposit: self.fsp_deposit,
			solution_margin: self.solution_margin,
			price_cap: self.price_cap,
			horizon_ms: DEFAULT_HORIZON_MS,
		}
	}
}

/// An offer as version 3 stored it (with the v1 deposit).
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub struct OfferV3<AccountId, Balance> {
	/// The FSP.
	pub fsp: AccountId,
	/// The asset's location.
	pub location: LocationId,
	/// What it offers.
	pub spec: OfferSpec<Balance>,
	/// Where it is in its life.
	pub status: OfferStatus,
	/// Deposit of offers posted before version 2.
	pub deposit: Balance,
}

/// A request's spec as version 3 stored it (without `max_over_w`).
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub struct RequestSpecV3<Balance> {
	/// Where.
	pub location: LocationId,
	/// When.
	pub window: Window,
	/// Which way.
	pub direction: Direction,
	/// How much, in W.
	pub power_w: u32,
	/// Price ceiling per kWh.
	pub max_price: Balance,
	/// Gate closure.
	pub gate_closure: Moment,
	/// Whether a partial cover is acceptable.
	pub partial: bool,
	/// Pricing rule.
	pub pricing: Pricing,
}

/// A request as version 3 stored it.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub struct RequestV3<AccountId, Balance> {
	/// The DSO.
	pub dso: AccountId,
	/// What it asks for.
	pub spec: RequestSpecV3<Balance>,
	/// Where it is in its life.
	pub status: RequestStatus,
	/// Deposit held.
	pub deposit: Balance,
}

/// A proposal as version 3 stored it (`cost` was the score).
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub struct ProposalV3<AccountId> {
	/// Who found it.
	pub submitter: AccountId,
	/// Its fills.
	pub fills: Vec<ProposedFill>,
	/// Power covered in W.
	pub covered_w: u32,
	/// Σ power × price.
	pub cost: u128,
}

/// A contract as version 3 stored it (without `report_deadline`).
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub struct ContractV3<Balance> {
	/// Number of fills.
	pub fill_count: u32,
	/// Contracted power in W.
	pub power_w: u32,
	/// Contracted energy in Wh.
	pub energy_wh: u64,
	/// Total cost.
	pub cost: Balance,
	/// Still in escrow.
	pub escrow: Balance,
	/// When it was bought.
	pub accepted_at: Moment,
	/// Fills reported so far.
	pub reported: u32,
}

/// An agenda task as version 3 stored it.
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug)]
pub enum TaskV3 {
	/// Gate closure.
	CloseGate(RequestId),
	/// Request expiry.
	ExpireRequest(RequestId),
	/// Offer expiry of version 1 (dropped).
	ExpireOffer(OfferId),
	/// Settlement.
	Settle(RequestId),
	/// Pruning.
	Prune(RequestId),
}

impl TaskV3 {
	/// The task in version 4, if it still exists there.
	pub fn upgraded(self) -> Option<Task> {
		match self {
			TaskV3::CloseGate(id) => Some(Task::CloseGate(id)),
			TaskV3::ExpireRequest(id) => Some(Task::ExpireRequest(id)),
			TaskV3::ExpireOffer(_) => None,
			TaskV3::Settle(id) => Some(Task::Settle(id)),
			TaskV3::Prune(id) => Some(Task::Prune(id)),
		}
	}
}

/// Rewrites the market's records in the version 4 layout; use [`MigrateV3ToV4`].
pub struct InnerMigrateV3ToV4<T>(core::marker::PhantomData<T>);

impl<T: Config> InnerMigrateV3ToV4<T> {
	fn params() -> u64 {
		let key = Params::<T>::hashed_key();
		let Some(raw) = frame_support::storage::unhashed::get_raw(&key) else { return 1 };
		match ParamsV3::<BalanceOf<T>>::decode(&mut &raw[..]) {
			Ok(old) => frame_support::storage::unhashed::put(&key, &old.upgraded()),
			Err(_) => {
				log::error!(target: LOG_TARGET, "stored parameters do not decode as v3; defaults apply");
				Params::<T>::kill();
			},
		}
		2
	}

	fn requests() -> u64 {
		let mut n = 0;
		Requests::<T>::translate::<RequestV3<T::AccountId, BalanceOf<T>>, _>(|_, old| {
			n += 1;
			let s = old.spec;
			let spec = RequestSpec {
				location: s.location,
				window: s.window,
				direction: s.direction,
				power_w: s.power_w,
				max_price: s.max_price,
				gate_closure: s.gate_closure,
				partial: s.partial,
				pricing: s.pricing,
				max_over_w: 0,
			};
			Some(Request { dso: old.dso, spec, status: old.status, deposit: old.deposit })
		});
		n
	}

	fn offers() -> u64 {
		let mut n = 0;
		Offers::<T>::translate::<OfferV3<T::AccountId, BalanceOf<T>>, _>(|id, old| {
			n += 1;
			Pallet::<T>::release_deposit(&old.fsp, old.deposit);
			if old.status == OfferStatus::Open {
				AssetOffers::<T>::insert(old.spec.asset, id, ());
			}
			Some(Offer { fsp: old.fsp, location: old.location, spec: old.spec, status: old.status })
		});
		n
	}

	fn proposals() -> u64 {
		let mut n = 0;
		Proposals::<T>::translate::<ProposalV3<T::AccountId>, _>(|id, old| {
			n += 1 + old.fills.len() as u64;
			let request = Requests::<T>::get(id)?;
			let offers: Vec<_> = old
				.fills
				.iter()
				.filter_map(|f| Offers::<T>::get(f.offer).map(|o| (f.offer, o)))
				.collect();
			let cost = Pallet::<T>::total_cost(&request, &old.fills, &offers);
			for fill in &old.fills {
				ProposedOffers::<T>::insert(fill.offer, id, request.spec.gate_closure);
			}
			Some(Proposal {
				submitter: old.submitter,
				fills: BoundedVec::truncate_from(old.fills),
				covered_w: old.covered_w,
				score_w_price: old.cost,
				cost,
			})
		});
		n
	}

	fn contracts() -> u64 {
		let grace = Params::<T>::get().settlement_grace_ms;
		let mut n = 0;
		Contracts::<T>::translate::<ContractV3<BalanceOf<T>>, _>(|id, old| {
			n += 1;
			let end = Requests::<T>::get(id).map(|r| r.spec.window.end).unwrap_or_default();
			Some(Contract {
				fill_count: old.fill_count,
				power_w: old.power_w,
				energy_wh: old.energy_wh,
				cost: old.cost,
				escrow: old.escrow,
				accepted_at: old.accepted_at,
				reported: old.reported,
				report_deadline: end.saturating_add(grace),
			})
		});
		n
	}

	fn agenda() -> u64 {
		let mut n = 0;
		Agenda::<T>::translate::<Vec<TaskV3>, _>(|_, _, old| {
			n += 1;
			let tasks: Vec<Task> = old.into_iter().filter_map(TaskV3::upgraded).collect();
			// An emptied page stays (empty) so that the minute's page count holds.
			Some(BoundedVec::truncate_from(tasks))
		});
		n
	}
}

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV3ToV4<T> {
	fn on_runtime_upgrade() -> Weight {
		// Requests first: proposals and contracts read them in the new layout.
		let records = Self::params()
			+ Self::requests()
			+ Self::offers()
			+ Self::proposals()
			+ Self::contracts()
			+ Self::agenda();
		T::DbWeight::get().reads_writes(records * 2, records * 2)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
		let old_params =
			super::stored_params::<T, ParamsV3<BalanceOf<T>>>("parameters do not decode as v3")?;
		let open_offers =
			Offers::<T>::iter_values().filter(|o| o.status == OfferStatus::Open).count() as u64;
		let counts = (
			Requests::<T>::iter_keys().count() as u64,
			Offers::<T>::iter_keys().count() as u64,
			open_offers,
			Proposals::<T>::iter_keys().count() as u64,
			Contracts::<T>::iter_keys().count() as u64,
		);
		Ok((old_params, counts).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), TryRuntimeError> {
		type Counts = (u64, u64, u64, u64, u64);
		let (old_params, (requests, offers, open, proposals, contracts)) =
			<(Option<ParamsV3<BalanceOf<T>>>, Counts)>::decode(&mut &state[..])
				.map_err(|_| TryRuntimeError::Other("pre-upgrade state"))?;
		let expected = old_params.map(ParamsV3::upgraded).unwrap_or_else(T::DefaultParams::get);
		ensure!(Params::<T>::get() == expected, "parameters changed in the migration");
		ensure!(Requests::<T>::iter_values().count() as u64 == requests, "requests lost");
		ensure!(Offers::<T>::iter_values().count() as u64 == offers, "offers lost");
		ensure!(AssetOffers::<T>::iter_keys().count() as u64 == open, "open offers not indexed");
		ensure!(Proposals::<T>::iter_values().count() as u64 <= proposals, "proposals appeared");
		ensure!(Contracts::<T>::iter_values().count() as u64 == contracts, "contracts lost");
		for (_, _, page) in Agenda::<T>::iter() {
			ensure!(page.len() <= T::MaxTasksPerBucket::get() as usize, "agenda page too long");
		}
		Pallet::<T>::do_try_state()
	}
}

/// Version 3 to 4, run once: checks and bumps the pallet's storage version.
pub type MigrateV3ToV4<T> = VersionedMigration<
	3,
	4,
	InnerMigrateV3ToV4<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;
