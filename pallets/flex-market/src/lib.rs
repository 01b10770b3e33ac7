//! # Flexibility market
//!
//! A distribution system operator (DSO) posts requests for flexibility at its grid
//! locations; flexibility service providers (FSPs) offer the power of their
//! prequalified assets; the market matches offers to a request at least cost, the
//! DSO buys the match with its payment held in escrow, the DSO's metering oracle
//! reports what each asset delivered, and settlement pays the FSPs by delivered
//! energy and returns the rest to the DSO.
//!
//! ## Units
//!
//! Power in W (`_w`), energy in Wh (`_wh`), durations in ms (`_ms`). Every moment is
//! Unix milliseconds of *market time*: the chain's timestamp, or a governance-set
//! multiple of it on demonstration chains (`Clock`; the `FlexMarketApi::market_now`
//! runtime API and the `flexMarket_now` RPC return it). Prices are in planks (10^-12
//! FLEX) per kWh, amounts of money in planks. `Up` is less consumption or more
//! injection (discharge), limited by an asset's `max_export_w`; `Down` is more
//! consumption (charge), limited by its `max_import_w`.
//!
//! ## How a trade flows
//!
//! 1. Governance registers a DSO with its locations and appoints its metering oracle.
//! 2. An FSP registers (`register_fsp`) and its assets (`register_asset`); the DSO of
//!    the asset's location prequalifies them (`set_asset_status`).
//! 3. The DSO posts a request (`create_request`): location, window, direction,
//!    power, price ceiling, gate closure, partial cover, pricing rule, over-cover.
//! 4. FSPs post offers (`create_offer`) for windows that cover the request's.
//! 5. Until the gate closes, anyone may propose a match (`submit_solution`; the
//!    node's off-chain worker does) and the DSO may run the merit order
//!    (`match_request`); the chain keeps the best. At gate closure, a request without
//!    a live proposal gets the merit order.
//! 6. The DSO buys the match (`accept_match`) before the window starts, stating the
//!    most it will pay; the cost goes into escrow and each fill is announced
//!    (`FillContracted`) for the DSO's bridge to dispatch.
//! 7. After the window starts the metering oracle reports each fill's delivered
//!    energy (`report_delivery`) until the reporting deadline (the window's end plus
//!    the settlement grace, fixed in the contract at purchase).
//! 8. From the deadline on, settlement runs on its own (or by `settle`): each FSP is
//!    paid min(delivered, contracted) × price, minus any penalty, the rest goes back
//!    to the DSO. Finished requests are pruned after the retention period.
//!
//! ## What each party can rely on
//!
//! - **Firm offers.** From a request's gate closure until it is bought or expires,
//!   the offers of its stored match can be neither edited nor withdrawn
//!   (`OfferFirm`); an offer keeps its asset for life.
//! - **A cost cap at purchase.** `accept_match` takes the most the DSO will pay and
//!   refuses (`CostAboveMaximum`) a purchase that would cost more.
//! - **Live proposals.** A stored match that is no longer feasible (an offer
//!   withdrawn, an asset suspended or committed elsewhere) counts as absent: any
//!   feasible solution replaces it, the merit order runs at gate closure, and the DSO
//!   may match the request again.
//! - **Bounded books.** At most `MaxOffersPerAsset` open offers per asset and
//!   `MaxOffersPerBook` per location and direction, windows no further ahead than the
//!   market's horizon, and a suspended or deregistered asset's offers leave the
//!   book. Offers hold no deposit: every offer stands on an asset that holds one and
//!   that the DSO prequalified, so the DSO controls how many can stand in its books.
//! - **Settlement that always completes.** A payout that cannot be transferred (for
//!   example below the existential deposit to an account that was reaped) stays held
//!   from the DSO for the FSP, who claims it with `claim_payout`; the rest of the
//!   settlement goes on.
//! - **Fees by the work done.** Every call is charged by its benchmarked worst case
//!   and refunded to what it did, also when it fails early.
//!
//! ## Where things are
//!
//! - [`roles`]: DSOs, their locations and metering oracles, FSPs;
//! - [`assets`]: registration and prequalification of flexible assets;
//! - [`requests`] and [`offers`]: the book;
//! - [`proposals`]: stored matches, their liveness and the firmness of their offers;
//! - [`matching`]: eligibility, the on-chain merit order, external solutions;
//! - [`buying`]: acceptance and escrow;
//! - [`delivery`]: metering reports;
//! - [`settlement`]: payment by delivered energy and unclaimed payouts;
//! - [`agenda`]: gate closure, expiry, automatic settlement and pruning, a bounded
//!   amount per block;
//! - [`offchain`]: the off-chain worker that mines better matches and submits them;
//! - [`views`] and [`runtime_api`]: reads for the UI and the bridge;
//! - [`invariants`]: the checks of `try_state`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub mod agenda;
pub mod assets;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod buying;
pub mod clock;
pub mod delivery;
#[cfg(any(test, feature = "try-runtime"))]
pub mod invariants;
pub mod matching;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod offchain;
pub mod offers;
pub mod params;
pub mod proposals;
pub mod requests;
pub mod roles;
pub mod runtime_api;
pub mod settlement;
pub mod sweep;
#[cfg(test)]
mod tests;
pub mod types;
pub mod views;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

/// What benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Sets the chain's clock to `ms` (unix ms).
	fn set_time(ms: Moment);
}

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::flex-market";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use crate::types::Task;
	use alloc::vec::Vec;
	use frame_support::{
		dispatch::WithPostDispatchInfo,
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			UnixTime,
		},
	};
	use frame_system::{
		offchain::{AppCrypto, CreateSignedTransaction},
		pallet_prelude::*,
	};
	use sp_core::H256;
	use sp_runtime::Perbill;

	/// The currency's balance type.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// An asset as stored.
	pub type AssetOf<T> =
		Asset<<T as frame_system::Config>::AccountId, BalanceOf<T>, <T as Config>::MaxDeviceRefLen>;
	/// An asset's description as given in calls.
	pub type AssetSpecOf<T> = AssetSpec<<T as Config>::MaxDeviceRefLen>;
	/// A request as stored.
	pub type RequestOf<T> = Request<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	/// A request's description as given in calls.
	pub type RequestSpecOf<T> = RequestSpec<BalanceOf<T>>;
	/// An offer as stored.
	pub type OfferOf<T> = Offer<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	/// An offer's description as given in calls.
	pub type OfferSpecOf<T> = OfferSpec<BalanceOf<T>>;
	/// A proposed match as stored.
	pub type ProposalOf<T> =
		Proposal<<T as frame_system::Config>::AccountId, BalanceOf<T>, <T as Config>::MaxFills>;
	/// A fill of an accepted match as stored.
	pub type FillOf<T> = Fill<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	/// A DSO as stored.
	pub type DsoOf<T> = Dso<
		<T as frame_system::Config>::AccountId,
		<T as Config>::MaxLocationsPerDso,
		<T as Config>::MaxOraclesPerDso,
	>;
	/// A location as stored.
	pub type LocationOf<T> =
		Location<<T as frame_system::Config>::AccountId, <T as Config>::MaxNameLen>;
	/// The market parameters.
	pub type ParamsOf<T> = MarketParams<BalanceOf<T>>;
	/// The fills of a solution as given in calls.
	pub type SolutionOf<T> = BoundedVec<ProposedFill, <T as Config>::MaxFills>;
	/// The locations of a DSO as given in calls: id and name.
	pub type LocationListOf<T> = BoundedVec<
		(LocationId, BoundedVec<u8, <T as Config>::MaxNameLen>),
		<T as Config>::MaxLocationsPerDso,
	>;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(4);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Why the market holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Payment for an accepted match, held until settlement.
		Escrow,
		/// Deposit for a registration or a request.
		Deposit,
		/// A settled payout that could not be transferred to its FSP, held from the DSO
		/// until the FSP claims it.
		Unclaimed,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config + CreateSignedTransaction<Call<Self>> {
		/// The currency payments and deposits are made in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Registers DSOs, appoints metering oracles and sets market parameters.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Wall-clock time of the chain (unix ms), from `pallet-timestamp`.
		type Time: UnixTime;

		/// Most locations one DSO operates.
		#[pallet::constant]
		type MaxLocationsPerDso: Get<u32>;

		/// Most metering oracles one DSO appoints.
		#[pallet::constant]
		type MaxOraclesPerDso: Get<u32>;

		/// Longest location name in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest device reference in bytes.
		#[pallet::constant]
		type MaxDeviceRefLen: Get<u32>;

		/// Most open offers in one location and direction.
		#[pallet::constant]
		type MaxOffersPerBook: Get<u32>;

		/// Most open offers of one asset (96 is a day of 15-minute slots).
		#[pallet::constant]
		type MaxOffersPerAsset: Get<u32>;

		/// Most open requests in one location.
		#[pallet::constant]
		type MaxOpenRequestsPerLocation: Get<u32>;

		/// Most fills in one match.
		#[pallet::constant]
		type MaxFills: Get<u32>;

		/// Most accepted, unsettled commitments of one asset.
		#[pallet::constant]
		type MaxCommitmentsPerAsset: Get<u32>;

		/// Most housekeeping tasks in one page of an agenda minute.
		#[pallet::constant]
		type MaxTasksPerBucket: Get<u32>;

		/// Longest delivery window in ms.
		#[pallet::constant]
		type MaxWindowMs: Get<u64>;

		/// Market parameters until governance sets others.
		type DefaultParams: Get<ParamsOf<Self>>;

		/// The key the off-chain worker signs its solutions with.
		type AuthorityId: AppCrypto<Self::Public, Self::Signature>;

		/// The off-chain worker mines for requests whose gate closes within this (ms).
		#[pallet::constant]
		type SolverHorizonMs: Get<u64>;

		/// Search nodes the off-chain worker's solver may expand per request and block.
		#[pallet::constant]
		type SolverBudget: Get<u32>;

		/// Weights of the calls.
		type WeightInfo: WeightInfo;

		/// Sets the clock for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper;
	}

	#[pallet::type_value]
	pub fn DefaultParamsOf<T: Config>() -> ParamsOf<T> {
		T::DefaultParams::get()
	}

	/// The market parameters in force.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, ParamsOf<T>, ValueQuery, DefaultParamsOf<T>>;

	/// Registered DSOs.
	#[pallet::storage]
	pub type Dsos<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, DsoOf<T>>;

	/// Grid locations and the DSO operating each.
	#[pallet::storage]
	pub type Locations<T: Config> = StorageMap<_, Twox64Concat, LocationId, LocationOf<T>>;

	/// Registered FSPs and the deposit held from each.
	#[pallet::storage]
	pub type Fsps<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// Registered assets.
	#[pallet::storage]
	pub type Assets<T: Config> = StorageMap<_, Twox64Concat, AssetId, AssetOf<T>>;

	/// The next asset id.
	#[pallet::storage]
	pub type NextAssetId<T> = StorageValue<_, AssetId, ValueQuery>;

	/// Power each asset has committed to accepted, unsettled matches.
	#[pallet::storage]
	pub type Commitments<T: Config> = StorageMap<
		_,
		Twox64Concat,
		AssetId,
		BoundedVec<Commitment, T::MaxCommitmentsPerAsset>,
		ValueQuery,
	>;

	/// Requests, until pruned.
	#[pallet::storage]
	pub type Requests<T: Config> = StorageMap<_, Twox64Concat, RequestId, RequestOf<T>>;

	/// The next request id.
	#[pallet::storage]
	pub type NextRequestId<T> = StorageValue<_, RequestId, ValueQuery>;

	/// Open requests by location.
	#[pallet::storage]
	pub type OpenRequests<T: Config> =
		StorageDoubleMap<_, Twox64Concat, LocationId, Twox64Concat, RequestId, (), OptionQuery>;

	/// Number of open requests per location.
	#[pallet::storage]
	pub type OpenRequestCount<T: Config> = StorageMap<_, Twox64Concat, LocationId, u32, ValueQuery>;

	/// Offers, until matched offers are pruned with their request.
	#[pallet::storage]
	pub type Offers<T: Config> = StorageMap<_, Twox64Concat, OfferId, OfferOf<T>>;

	/// The next offer id.
	#[pallet::storage]
	pub type NextOfferId<T> = StorageValue<_, OfferId, ValueQuery>;

	/// The book: open offers by location and direction.
	#[pallet::storage]
	pub type Book<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		(LocationId, Direction),
		Twox64Concat,
		OfferId,
		(),
		OptionQuery,
	>;

	/// Number of open offers per location and direction.
	#[pallet::storage]
	pub type BookSize<T: Config> =
		StorageMap<_, Twox64Concat, (LocationId, Direction), u32, ValueQuery>;

	/// The best match proposed so far for an open request.
	#[pallet::storage]
	pub type Proposals<T: Config> = StorageMap<_, Twox64Concat, RequestId, ProposalOf<T>>;

	/// Offers taken by stored proposals: for each offer, the requests whose proposal
	/// takes it, with each request's gate closure. An offer is firm while a request
	/// whose gate has closed holds it.
	#[pallet::storage]
	pub type ProposedOffers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, OfferId, Twox64Concat, RequestId, Moment, OptionQuery>;

	/// Open offers by asset, so that a suspended or deregistered asset's offers can
	/// leave the book within bounded weight.
	#[pallet::storage]
	pub type AssetOffers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, AssetId, Twox64Concat, OfferId, (), OptionQuery>;

	/// Payouts that could not be transferred at settlement, by FSP and request: the
	/// DSO they are held from and the amount in planks. The FSP claims them with
	/// `claim_payout`.
	#[pallet::storage]
	pub type UnclaimedPayouts<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		RequestId,
		(T::AccountId, BalanceOf<T>),
		OptionQuery,
	>;

	/// Bought matches, until pruned.
	#[pallet::storage]
	pub type Contracts<T: Config> = StorageMap<_, Twox64Concat, RequestId, Contract<BalanceOf<T>>>;

	/// The fills of bought matches, by request and fill index.
	#[pallet::storage]
	pub type Fills<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RequestId, Twox64Concat, u32, FillOf<T>>;

	/// Housekeeping tasks by the minute (unix ms / 60 000) they fall due, in pages.
	#[pallet::storage]
	pub type Agenda<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		u64,
		Twox64Concat,
		u32,
		BoundedVec<Task, T::MaxTasksPerBucket>,
		ValueQuery,
	>;

	/// Number of agenda pages of each minute.
	#[pallet::storage]
	pub type AgendaPages<T: Config> = StorageMap<_, Twox64Concat, u64, u32, ValueQuery>;

	/// The first minute of the agenda not yet worked off.
	#[pallet::storage]
	pub type AgendaCursor<T> = StorageValue<_, u64, OptionQuery>;

	/// Where the book sweep goes on (the raw storage key of the last entry it saw).
	#[pallet::storage]
	pub type BookSweep<T> = StorageValue<_, BoundedVec<u8, ConstU32<128>>, OptionQuery>;

	/// How market time runs against the chain's timestamp; unset means the same.
	#[pallet::storage]
	pub type Clock<T> = StorageValue<_, MarketClock, OptionQuery>;

	/// A clock scale set at genesis, anchored to the chain's time in the first block
	/// that knows it (the genesis has no timestamp).
	#[pallet::storage]
	pub type PendingClockScale<T> = StorageValue<_, u32, OptionQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// DSOs with their locations (id, name) and metering oracles.
		pub dsos: Vec<(T::AccountId, Vec<(LocationId, Vec<u8>)>, Vec<T::AccountId>)>,
		/// Registered FSPs (no deposit is held for genesis registrations).
		pub fsps: Vec<T::AccountId>,
		/// Market parameters in force from genesis (`None`: the runtime's defaults).
		pub params: Option<ParamsOf<T>>,
		/// Market time runs this many times as fast as the chain's from the chain's
		/// first block (demonstration chains; 0 or 1: real time). At most `MAX_CLOCK_SCALE`.
		pub clock_scale: u32,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (dso, locations, oracles) in &self.dsos {
				let locations: LocationListOf<T> = locations
					.iter()
					.map(|(id, name)| {
						(*id, name.clone().try_into().expect("location name too long"))
					})
					.collect::<Vec<_>>()
					.try_into()
					.expect("too many locations for one DSO");
				Pallet::<T>::do_register_dso(dso.clone(), locations).expect("valid genesis DSO");
				for oracle in oracles {
					Pallet::<T>::do_appoint_oracle(dso.clone(), oracle.clone())
						.expect("valid genesis oracle");
				}
			}
			for fsp in &self.fsps {
				Fsps::<T>::insert(fsp, BalanceOf::<T>::default());
			}
			if let Some(params) = &self.params {
				Params::<T>::put(params);
			}
			if self.clock_scale > 1 {
				assert!(self.clock_scale <= clock::MAX_CLOCK_SCALE, "genesis clock scale too high");
				PendingClockScale::<T>::put(self.clock_scale);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Governance registered a DSO with its grid locations.
		DsoRegistered {
			/// The DSO.
			dso: T::AccountId,
			/// The locations it operates.
			locations: Vec<LocationId>,
		},
		/// Governance removed a DSO and its locations.
		DsoRemoved {
			/// The DSO.
			dso: T::AccountId,
		},
		/// Governance appointed a metering oracle for a DSO.
		OracleAppointed {
			/// The DSO.
			dso: T::AccountId,
			/// The oracle account.
			oracle: T::AccountId,
		},
		/// Governance removed a metering oracle.
		OracleRemoved {
			/// The DSO.
			dso: T::AccountId,
			/// The oracle account.
			oracle: T::AccountId,
		},
		/// An account registered as an FSP.
		FspRegistered {
			/// The FSP.
			fsp: T::AccountId,
			/// Deposit held.
			deposit: BalanceOf<T>,
		},
		/// An asset was registered; it waits for prequalification.
		AssetRegistered {
			/// The new asset id.
			asset: AssetId,
			/// Its owner.
			owner: T::AccountId,
			/// Its location.
			location: LocationId,
			/// Its kind.
			kind: AssetKind,
		},
		/// An asset's description changed; it waits for prequalification again.
		AssetUpdated {
			/// The asset.
			asset: AssetId,
		},
		/// An asset was deregistered and its deposit returned.
		AssetDeregistered {
			/// The asset.
			asset: AssetId,
		},
		/// The DSO prequalified, suspended or reset an asset.
		AssetStatusChanged {
			/// The asset.
			asset: AssetId,
			/// Its new status.
			status: AssetStatus,
		},
		/// A DSO posted a request.
		RequestCreated {
			/// The new request id.
			request: RequestId,
			/// The DSO.
			dso: T::AccountId,
			/// What it asks for.
			spec: RequestSpecOf<T>,
		},
		/// A DSO edited an open request; any proposed match was dropped.
		RequestUpdated {
			/// The request.
			request: RequestId,
			/// What it asks for now.
			spec: RequestSpecOf<T>,
		},
		/// A DSO cancelled an open request.
		RequestCancelled {
			/// The request.
			request: RequestId,
		},
		/// A request's window started without an accepted match.
		RequestExpired {
			/// The request.
			request: RequestId,
		},
		/// An FSP posted an offer.
		OfferCreated {
			/// The new offer id.
			offer: OfferId,
			/// The FSP.
			fsp: T::AccountId,
			/// Its location.
			location: LocationId,
			/// What it offers.
			spec: OfferSpecOf<T>,
		},
		/// An FSP edited an open offer.
		OfferUpdated {
			/// The offer.
			offer: OfferId,
			/// What it offers now.
			spec: OfferSpecOf<T>,
		},
		/// An FSP withdrew an open offer.
		OfferCancelled {
			/// The offer.
			offer: OfferId,
		},
		/// An offer's window started while it was still open; it left the book.
		OfferExpired {
			/// The offer.
			offer: OfferId,
		},
		/// The market withdrew an open offer because its asset was suspended, reset to
		/// pending or deregistered.
		OfferWithdrawn {
			/// The offer.
			offer: OfferId,
			/// Its asset.
			asset: AssetId,
		},
		/// A match was proposed for a request and is now the best one.
		MatchProposed {
			/// The request.
			request: RequestId,
			/// Who found it.
			by: T::AccountId,
			/// Number of fills.
			fills: u32,
			/// Power covered towards the request, in W.
			covered_w: u32,
			/// The solver's score: Σ fill power (W) × price per kWh; not money.
			score_w_price: u128,
			/// What buying the match would cost now, in planks.
			cost: BalanceOf<T>,
		},
		/// A stored match was no longer feasible at gate closure and was dropped; the
		/// merit order runs in its place.
		ProposalDropped {
			/// The request.
			request: RequestId,
		},
		/// The DSO bought the proposed match; its cost is held in escrow.
		MatchAccepted {
			/// The request.
			request: RequestId,
			/// The DSO.
			dso: T::AccountId,
			/// Number of fills.
			fills: u32,
			/// Contracted power in W.
			power_w: u32,
			/// Contracted energy in Wh.
			energy_wh: u64,
			/// Amount held in escrow, in planks.
			cost: BalanceOf<T>,
			/// Reports are taken until then; settlement follows (Unix ms of market time).
			report_deadline: Moment,
		},
		/// A fill of a bought match: what to dispatch, where and when.
		FillContracted {
			/// The request.
			request: RequestId,
			/// Index of the fill within the match.
			fill_index: u32,
			/// The offer taken.
			offer: OfferId,
			/// The asset to dispatch.
			asset: AssetId,
			/// The asset's device reference for the bridge.
			device: Vec<u8>,
			/// The FSP.
			fsp: T::AccountId,
			/// The delivery window.
			window: Window,
			/// Which way.
			direction: Direction,
			/// Contracted power in W.
			power_w: u32,
			/// Price in planks per kWh.
			price: BalanceOf<T>,
			/// Contracted energy in Wh.
			energy_wh: u64,
			/// Contracted cost in planks.
			cost: BalanceOf<T>,
		},
		/// A metering oracle reported the delivery of a fill.
		DeliveryReported {
			/// The request.
			request: RequestId,
			/// Index of the fill within the match.
			fill_index: u32,
			/// The asset.
			asset: AssetId,
			/// Delivered energy in Wh.
			delivered_wh: u64,
			/// Hash or Merkle root of the 1-minute samples.
			samples_root: H256,
		},
		/// A fill was settled.
		FillSettled {
			/// The request.
			request: RequestId,
			/// Index of the fill within the match.
			fill_index: u32,
			/// The asset.
			asset: AssetId,
			/// The FSP paid.
			fsp: T::AccountId,
			/// Contracted energy in Wh.
			contracted_wh: u64,
			/// Delivered energy in Wh (0 without a report).
			delivered_wh: u64,
			/// Delivered / contracted.
			delivery_rate: Perbill,
			/// Paid to the FSP, in planks (parked if the transfer failed, see
			/// `PayoutUnclaimed`).
			paid: BalanceOf<T>,
			/// Deducted for delivering below the threshold, in planks.
			penalty: BalanceOf<T>,
			/// Returned to the DSO, in planks.
			refunded: BalanceOf<T>,
		},
		/// A settled payout could not be transferred to its FSP (for example below the
		/// existential deposit to an account that was reaped); it stays held from the
		/// DSO until the FSP claims it with `claim_payout`.
		PayoutUnclaimed {
			/// The request.
			request: RequestId,
			/// The FSP owed.
			fsp: T::AccountId,
			/// The DSO it is held from.
			dso: T::AccountId,
			/// Amount in planks.
			amount: BalanceOf<T>,
		},
		/// An FSP claimed a payout parked at settlement.
		PayoutClaimed {
			/// The request.
			request: RequestId,
			/// The FSP.
			fsp: T::AccountId,
			/// Amount in planks.
			amount: BalanceOf<T>,
		},
		/// All fills of a request were settled and the escrow emptied.
		RequestSettled {
			/// The request.
			request: RequestId,
			/// Contracted energy in Wh.
			contracted_wh: u64,
			/// Delivered energy in Wh (each fill counted up to its contract).
			delivered_wh: u64,
			/// Delivered / contracted.
			delivery_rate: Perbill,
			/// Paid to the FSPs, in planks.
			paid: BalanceOf<T>,
			/// Returned to the DSO, in planks.
			refunded: BalanceOf<T>,
		},
		/// A finished request and its records were removed from storage.
		RequestPruned {
			/// The request.
			request: RequestId,
		},
		/// Governance set new market parameters.
		ParamsSet {
			/// The parameters now in force.
			params: ParamsOf<T>,
		},
		/// Governance changed the pace of the market's clock.
		ClockSet {
			/// Market ms per chain ms from now on.
			scale: u32,
			/// Market time when the change took effect (Unix ms).
			market_now: Moment,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered DSO.
		DsoExists,
		/// No such DSO.
		UnknownDso,
		/// The DSO still has open or accepted requests.
		DsoBusy,
		/// The location is already operated by a DSO.
		LocationTaken,
		/// No such location.
		UnknownLocation,
		/// The caller does not operate this location.
		NotLocationOperator,
		/// The DSO already has the most oracles allowed.
		TooManyOracles,
		/// The account is already an oracle of this DSO.
		OracleExists,
		/// The account is not an oracle of this DSO.
		UnknownOracle,
		/// The caller is not a metering oracle of the request's DSO.
		NotOracle,
		/// The account is already a registered FSP.
		FspExists,
		/// The caller is neither a registered FSP nor a DSO.
		NotParticipant,
		/// The caller is not a registered FSP.
		NotFsp,
		/// No such asset.
		UnknownAsset,
		/// The caller does not own the asset.
		NotAssetOwner,
		/// The asset is not prequalified.
		AssetNotQualified,
		/// The asset has commitments, open offers (to edit it), or offers held by a stored
		/// match (to deregister it).
		AssetBusy,
		/// A power is zero or above the asset's limit.
		PowerOutOfRange,
		/// The minimum state of charge is above 100 %.
		SocOutOfRange,
		/// The window is empty, longer than `MaxWindowMs`, or does not start after now.
		InvalidWindow,
		/// The window starts further ahead than the market's horizon.
		WindowTooFar,
		/// The gate closure is in the past or after the window's start.
		InvalidGateClosure,
		/// The gate closure has passed.
		GateClosed,
		/// The price is zero.
		ZeroPrice,
		/// The price is above the largest the market takes (`MAX_PRICE_PER_KWH`).
		PriceTooHigh,
		/// The request's maximum price is above the market's price cap.
		PriceAboveCap,
		/// No such request.
		UnknownRequest,
		/// The caller is not the request's DSO.
		NotRequestOwner,
		/// The request is not open.
		RequestNotOpen,
		/// The location has the most open requests allowed.
		TooManyRequests,
		/// No such offer.
		UnknownOffer,
		/// The caller did not post the offer.
		NotOfferOwner,
		/// The offer is not open.
		OfferNotOpen,
		/// The book of this location and direction is full.
		BookFull,
		/// The asset has the most open offers allowed.
		TooManyOffers,
		/// The offer is in the stored match of a request whose gate has closed.
		OfferFirm,
		/// An offer keeps its asset; post a new offer for another.
		AssetChanged,
		/// An offer's price is above the request's maximum.
		PriceAboveMaximum,
		/// An offer is at another location.
		LocationMismatch,
		/// An offer goes the other way.
		DirectionMismatch,
		/// An offer's window does not cover the request's window.
		WindowNotCovered,
		/// An asset would be committed beyond its power in overlapping windows.
		OverCommitted,
		/// An asset has the most commitments allowed.
		TooManyCommitments,
		/// The solution has no fills.
		EmptySolution,
		/// A solution takes one offer twice.
		DuplicateFill,
		/// A fill is below the offer's minimum or above its power.
		FillOutOfRange,
		/// The fills add up to more than requested.
		OverCovered,
		/// The fills cover less than requested and the request needs a full cover.
		InsufficientCover,
		/// The solution does not beat the stored one by the required margin.
		NotBetter,
		/// The request has no proposed match.
		NoProposal,
		/// The stored match is no longer feasible; match the request again.
		ProposalStale,
		/// Buying the match would cost more than the stated maximum.
		CostAboveMaximum,
		/// The request's match was already bought.
		AlreadyAccepted,
		/// The request's window has started.
		WindowStarted,
		/// No such fill.
		UnknownFill,
		/// The fill's delivery was already reported.
		AlreadyReported,
		/// The request's window has not started yet.
		WindowNotStarted,
		/// The reporting deadline has passed.
		ReportTooLate,
		/// The request is not accepted (nothing to report on or settle).
		NotAccepted,
		/// Settlement is not due before the window's end plus the grace period.
		SettlementNotDue,
		/// A value does not fit its bound.
		TooLong,
		/// An arithmetic overflow.
		Overflow,
		/// The clock's scale must be from 1 to `MAX_CLOCK_SCALE`.
		ClockScaleOutOfRange,
		/// A market parameter is out of range.
		InvalidParams,
		/// The caller has no unclaimed payout of this request.
		NoUnclaimedPayout,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(_n: BlockNumberFor<T>) -> Weight {
			Self::anchor_genesis_clock()
		}

		fn on_idle(_n: BlockNumberFor<T>, remaining: Weight) -> Weight {
			let used = Self::work_off_agenda(remaining);
			used.saturating_add(Self::sweep_book(remaining.saturating_sub(used)))
		}

		fn offchain_worker(n: BlockNumberFor<T>) {
			Self::mine_and_submit(n);
		}

		fn integrity_test() {
			assert!(T::MaxFills::get() > 0, "MaxFills must be positive");
			assert!(T::MaxTasksPerBucket::get() > 0, "MaxTasksPerBucket must be positive");
			assert!(T::MaxWindowMs::get() > 0, "MaxWindowMs must be positive");
			assert!(T::MaxOffersPerAsset::get() > 0, "MaxOffersPerAsset must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register `dso` as a grid operator with its `locations` (id and name).
		///
		/// Origin: governance.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_dso(locations.len() as u32))]
		pub fn register_dso(
			origin: OriginFor<T>,
			dso: T::AccountId,
			locations: LocationListOf<T>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_register_dso(dso, locations)
		}

		/// Remove `dso`, its locations and its oracles. It must have no active requests.
		///
		/// Origin: governance.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_dso(T::MaxLocationsPerDso::get()))]
		pub fn remove_dso(origin: OriginFor<T>, dso: T::AccountId) -> DispatchResultWithPostInfo {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let locations = Self::do_remove_dso(dso).map_err(|e| e.with_weight(reads::<T>(1)))?;
			Ok(Some(T::WeightInfo::remove_dso(locations)).into())
		}

		/// Appoint `oracle` to report metered delivery on `dso`'s grid.
		///
		/// Origin: governance.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::appoint_oracle())]
		pub fn appoint_oracle(
			origin: OriginFor<T>,
			dso: T::AccountId,
			oracle: T::AccountId,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_appoint_oracle(dso, oracle)
		}

		/// Remove `oracle` from `dso`'s metering oracles.
		///
		/// Origin: governance.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::remove_oracle())]
		pub fn remove_oracle(
			origin: OriginFor<T>,
			dso: T::AccountId,
			oracle: T::AccountId,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_remove_oracle(dso, oracle)
		}

		/// Register the caller as an FSP; holds the FSP deposit.
		///
		/// Origin: signed.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::register_fsp())]
		pub fn register_fsp(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_register_fsp(who).map_err(|e| e.with_weight(reads::<T>(2)))?;
			Ok(().into())
		}

		/// Register an asset; it waits for the DSO's prequalification. Holds the asset deposit.
		///
		/// Origin: a registered FSP or DSO.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::register_asset())]
		pub fn register_asset(
			origin: OriginFor<T>,
			spec: AssetSpecOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_register_asset(who, spec).map_err(|e| e.with_weight(reads::<T>(4)))?;
			Ok(().into())
		}

		/// Change an asset's description; it must have no open offers or commitments and
		/// waits for prequalification again.
		///
		/// Origin: the asset's owner.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::update_asset())]
		pub fn update_asset(
			origin: OriginFor<T>,
			asset: AssetId,
			spec: AssetSpecOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_update_asset(who, asset, spec).map_err(|e| e.with_weight(reads::<T>(3)))?;
			Ok(().into())
		}

		/// Deregister an asset without commitments: its open offers leave the book (none
		/// may be held by a stored match: withdraw those first) and its deposit is returned.
		///
		/// Origin: the asset's owner.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::deregister_asset(T::MaxOffersPerAsset::get()))]
		pub fn deregister_asset(
			origin: OriginFor<T>,
			asset: AssetId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let offers = Self::do_deregister_asset(who, asset)?;
			Ok(Some(T::WeightInfo::deregister_asset(offers)).into())
		}

		/// Prequalify, suspend or reset an asset at one of the caller's locations. An asset
		/// that is no longer prequalified has its open offers withdrawn.
		///
		/// Origin: the DSO operating the asset's location.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_asset_status(T::MaxOffersPerAsset::get()))]
		pub fn set_asset_status(
			origin: OriginFor<T>,
			asset: AssetId,
			status: AssetStatus,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let offers = Self::do_set_asset_status(who, asset, status)
				.map_err(|e| e.with_weight(reads::<T>(2)))?;
			Ok(Some(T::WeightInfo::set_asset_status(offers)).into())
		}

		/// Post a request for flexibility; holds the request deposit.
		///
		/// Origin: the DSO operating the request's location.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::create_request())]
		pub fn create_request(
			origin: OriginFor<T>,
			spec: RequestSpecOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_create_request(who, spec).map_err(|e| e.with_weight(reads::<T>(4)))?;
			Ok(().into())
		}

		/// Edit an open request before its gate closure; drops any proposed match.
		///
		/// Origin: the request's DSO.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::update_request(T::MaxFills::get()))]
		pub fn update_request(
			origin: OriginFor<T>,
			request: RequestId,
			spec: RequestSpecOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let fills = Self::do_update_request(who, request, spec)
				.map_err(|e| e.with_weight(reads::<T>(4)))?;
			Ok(Some(T::WeightInfo::update_request(fills)).into())
		}

		/// Cancel an open request before its gate closure; returns its deposit.
		///
		/// Origin: the request's DSO.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::cancel_request(T::MaxFills::get()))]
		pub fn cancel_request(
			origin: OriginFor<T>,
			request: RequestId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let fills =
				Self::do_cancel_request(who, request).map_err(|e| e.with_weight(reads::<T>(2)))?;
			Ok(Some(T::WeightInfo::cancel_request(fills)).into())
		}

		/// Offer an asset's power for a window. It stays in the book until matched,
		/// withdrawn, or its window starts (then the book sweep drops it).
		///
		/// Origin: the asset's owner, a registered FSP.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::create_offer())]
		pub fn create_offer(
			origin: OriginFor<T>,
			spec: OfferSpecOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_create_offer(who, spec).map_err(|e| e.with_weight(reads::<T>(4)))?;
			Ok(().into())
		}

		/// Edit an open offer. It keeps its asset, and it is firm (cannot be edited) while
		/// the stored match of a request whose gate has closed holds it.
		///
		/// Origin: the offer's FSP.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::update_offer(T::MaxOpenRequestsPerLocation::get()))]
		pub fn update_offer(
			origin: OriginFor<T>,
			offer: OfferId,
			spec: OfferSpecOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let holders = Self::do_update_offer(who, offer, spec)?;
			Ok(Some(T::WeightInfo::update_offer(holders)).into())
		}

		/// Withdraw an open offer; it is firm (cannot be withdrawn) while the stored match
		/// of a request whose gate has closed holds it.
		///
		/// Origin: the offer's FSP.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::cancel_offer(T::MaxOpenRequestsPerLocation::get()))]
		pub fn cancel_offer(origin: OriginFor<T>, offer: OfferId) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let holders = Self::do_cancel_offer(who, offer)?;
			Ok(Some(T::WeightInfo::cancel_offer(holders)).into())
		}

		/// Run the on-chain merit order over the request's book and keep the result as the
		/// request's proposed match if it beats the stored one (a stored match that is no
		/// longer feasible counts as absent). Charged for a full book, refunded to the
		/// book's real size.
		///
		/// Origin: the request's DSO.
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::match_request(T::MaxOffersPerBook::get())
			.saturating_add(T::WeightInfo::check_proposal(T::MaxFills::get())))]
		pub fn match_request(
			origin: OriginFor<T>,
			request: RequestId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (book, stored) = Self::do_match_request(who, request)?;
			let used = T::WeightInfo::match_request(book)
				.saturating_add(T::WeightInfo::check_proposal(stored));
			Ok(Some(used).into())
		}

		/// Propose an externally computed match (a list of offers and the power taken from
		/// each) for an open request before its gate closure. It is kept only if feasible
		/// and better than the stored one by the solution margin (a stored match that is
		/// no longer feasible counts as absent).
		///
		/// Origin: signed (anyone; the fee is lost on a rejected solution).
		#[pallet::call_index(16)]
		#[pallet::weight(T::WeightInfo::submit_solution(fills.len() as u32)
			.saturating_add(T::WeightInfo::check_proposal(T::MaxFills::get())))]
		pub fn submit_solution(
			origin: OriginFor<T>,
			request: RequestId,
			fills: SolutionOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let submitted = fills.len() as u32;
			let stored = Self::do_submit_solution(who, request, fills)?;
			let used = T::WeightInfo::submit_solution(submitted)
				.saturating_add(T::WeightInfo::check_proposal(stored));
			Ok(Some(used).into())
		}

		/// Buy the request's proposed match for at most `max_cost` planks: re-checks it,
		/// holds its cost in escrow, commits the assets and announces each fill for
		/// dispatch. `flexMarket_matchPreview` shows the cost beforehand.
		///
		/// Origin: the request's DSO.
		#[pallet::call_index(17)]
		#[pallet::weight(T::WeightInfo::accept_match(T::MaxFills::get()))]
		pub fn accept_match(
			origin: OriginFor<T>,
			request: RequestId,
			max_cost: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let fills = Self::do_accept_match(who, request, max_cost)?;
			Ok(Some(T::WeightInfo::accept_match(fills)).into())
		}

		/// Report the energy a fill delivered (Wh, against the baseline) and the root of
		/// its 1-minute samples, once per fill, from the window's start until the
		/// contract's reporting deadline (the window's end plus the settlement grace in
		/// force when the match was bought, `Contracts.report_deadline`).
		///
		/// Origin: a metering oracle of the request's DSO.
		#[pallet::call_index(18)]
		#[pallet::weight(T::WeightInfo::report_delivery())]
		pub fn report_delivery(
			origin: OriginFor<T>,
			request: RequestId,
			fill_index: u32,
			delivered_wh: u64,
			samples_root: H256,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_report_delivery(who, request, fill_index, delivered_wh, samples_root)
				.map_err(|e| e.with_weight(reads::<T>(4)))?;
			Ok(().into())
		}

		/// Settle a due request: pay each FSP by delivered energy from escrow and return
		/// the rest to the DSO. The agenda does this on its own at the reporting deadline;
		/// anyone may do it sooner after it.
		///
		/// Origin: signed (anyone).
		#[pallet::call_index(19)]
		#[pallet::weight(T::WeightInfo::settle(T::MaxFills::get()))]
		pub fn settle(origin: OriginFor<T>, request: RequestId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let fills = Self::do_settle(request).map_err(|e| e.with_weight(reads::<T>(2)))?;
			Ok(Some(T::WeightInfo::settle(fills)).into())
		}

		/// Set the market parameters.
		///
		/// Origin: governance.
		#[pallet::call_index(20)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: ParamsOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}

		/// Run market time `scale` times as fast as the chain's timestamp from now on
		/// (1 = real time, at most `MAX_CLOCK_SCALE`). For demonstrations and test
		/// networks; market time never jumps or goes back.
		///
		/// Origin: governance.
		#[pallet::call_index(21)]
		#[pallet::weight(T::WeightInfo::set_clock())]
		pub fn set_clock(origin: OriginFor<T>, scale: u32) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_clock(scale).map(|_| ())
		}

		/// Claim a payout of `request` that settlement could not transfer to the caller
		/// (see `PayoutUnclaimed`). The caller's account must be able to receive it (hold
		/// at least the existential deposit afterwards).
		///
		/// Origin: the FSP owed.
		#[pallet::call_index(22)]
		#[pallet::weight(T::WeightInfo::claim_payout())]
		pub fn claim_payout(
			origin: OriginFor<T>,
			request: RequestId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_claim_payout(who, request).map_err(|e| e.with_weight(reads::<T>(1)))?;
			Ok(().into())
		}
	}

	/// The weight of `n` storage reads: what a call that fails on its first checks did.
	pub(crate) fn reads<T: Config>(n: u64) -> Weight {
		T::DbWeight::get().reads(n)
	}
}
