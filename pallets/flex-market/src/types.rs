//! The market's domain types. Units are in the field names: watts (`_w`),
//! watt-hours (`_wh`), milliseconds (`_ms`). Every moment (`start`, `end`,
//! `gate_closure`, `..._at`) is Unix milliseconds of market time (see [`MarketClock`]).
//! Every price is in planks (the currency's smallest unit, 10^-12 FLEX) per kWh;
//! every amount of money is in planks.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::*, traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound,
	PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Perbill;

/// A grid location (an LV transformer area or a feeder), chosen by governance.
pub type LocationId = u32;
/// Identifies a registered flexible asset.
pub type AssetId = u32;
/// Identifies a DSO request for flexibility.
pub type RequestId = u32;
/// Identifies an FSP offer.
pub type OfferId = u64;
/// Unix time in milliseconds (of market time, see [`MarketClock`]).
pub type Moment = u64;

/// Milliseconds per hour: energy (Wh) = power (W) × duration (ms) / this.
pub const MS_PER_HOUR: u64 = 3_600_000;
/// Watt-hours per kilowatt-hour: prices are per kWh.
pub const WH_PER_KWH: u128 = 1_000;
/// The highest price the market takes, in planks per kWh (about 18 million FLEX).
/// With powers in u32 W, windows of a day and a thousand fills, every cost and score
/// stays far below `u128::MAX`.
pub const MAX_PRICE_PER_KWH: u128 = u64::MAX as u128;

/// Which way the flexibility goes, seen from the grid.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
)]
pub enum Direction {
	/// Less consumption or more injection: a battery or car discharges, a load
	/// reduces, a generator produces more. Limited by an asset's `max_export_w`.
	Up,
	/// More consumption or less injection: a battery or car charges, a load
	/// increases. Limited by an asset's `max_import_w`.
	Down,
}

/// What kind of device an asset is.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum AssetKind {
	/// Stationary battery storage.
	Battery,
	/// Bidirectional (vehicle-to-grid) charger.
	V2gCharger,
	/// Unidirectional EV charger (load shifting).
	EvCharger,
	/// A controllable load.
	FlexibleLoad,
	/// A controllable generator.
	Generator,
}

/// Whether an asset may be offered.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum AssetStatus {
	/// Registered, waiting for the DSO's prequalification.
	Pending,
	/// Prequalified by the DSO: may be offered.
	Prequalified,
	/// Suspended by the DSO: its offers are not eligible.
	Suspended,
}

/// A delivery window `[start, end)` in Unix milliseconds of market time.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct Window {
	/// First millisecond of delivery.
	pub start: Moment,
	/// First millisecond after delivery.
	pub end: Moment,
}

impl Window {
	/// Length of the window in milliseconds.
	pub fn duration_ms(&self) -> u64 {
		self.end.saturating_sub(self.start)
	}

	/// Whether the two windows share any millisecond.
	pub fn overlaps(&self, other: &Window) -> bool {
		self.start < other.end && other.start < self.end
	}

	/// Whether `self` contains all of `other`.
	pub fn covers(&self, other: &Window) -> bool {
		self.start <= other.start && other.end <= self.end
	}

	/// Energy in Wh of `power_w` held over the whole window (rounded down).
	pub fn energy_wh(&self, power_w: u32) -> u64 {
		(power_w as u64).saturating_mul(self.duration_ms()) / MS_PER_HOUR
	}
}

/// The technical description of an asset, given by its owner.
#[derive(
	CloneNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxDeviceRefLen))]
pub struct AssetSpec<MaxDeviceRefLen: Get<u32>> {
	/// Kind of device.
	pub kind: AssetKind,
	/// Grid location the asset is connected at.
	pub location: LocationId,
	/// Highest power it can deliver `Up` (discharge, export, load reduction), in W;
	/// limits its `Up` offers.
	pub max_export_w: u32,
	/// Highest power it can deliver `Down` (charge, import, load increase), in W;
	/// limits its `Down` offers.
	pub max_import_w: u32,
	/// Usable energy capacity in Wh (0 for devices without storage).
	pub capacity_wh: u32,
	/// Lowest state of charge it may be driven to, in percent (0-100): the bridge
	/// stops a discharge there.
	pub min_soc_percent: u8,
	/// Reference the DSO's bridge resolves to a device (a charge point id, a Modbus address).
	pub device: BoundedVec<u8, MaxDeviceRefLen>,
}

impl<M: Get<u32>> AssetSpec<M> {
	/// The asset's power limit in `direction`.
	pub fn max_power_w(&self, direction: Direction) -> u32 {
		match direction {
			Direction::Up => self.max_export_w,
			Direction::Down => self.max_import_w,
		}
	}
}

/// A registered asset.
#[derive(
	CloneNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxDeviceRefLen))]
pub struct Asset<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxDeviceRefLen: Get<u32>,
> {
	/// The FSP (or DSO) that owns it.
	pub owner: AccountId,
	/// Its technical description.
	pub spec: AssetSpec<MaxDeviceRefLen>,
	/// Whether it may be offered.
	pub status: AssetStatus,
	/// Deposit held from the owner while registered, in planks.
	pub deposit: Balance,
	/// Number of its offers still open (at most `MaxOffersPerAsset`).
	pub open_offers: u32,
}

/// Power committed from an asset by an accepted match.
#[derive(Clone, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug)]
pub struct Commitment {
	/// The request whose match holds it.
	pub request: RequestId,
	/// The delivery window of that request.
	pub window: Window,
	/// Which way the power goes.
	pub direction: Direction,
	/// Power committed, in W.
	pub power_w: u32,
}

/// How accepted offers of a request are paid.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum Pricing {
	/// Each fill is paid its own offer's price.
	PayAsBid,
	/// Every fill is paid the highest price among the accepted offers (the
	/// clearing price).
	PayAsClear,
}

/// What a DSO asks for.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct RequestSpec<Balance> {
	/// The grid location (transformer area or feeder) where the power is needed.
	pub location: LocationId,
	/// When the power is needed (Unix ms of market time); it must start after now
	/// and within the market's `horizon_ms`, and last at most `MaxWindowMs`.
	pub window: Window,
	/// Which way the power must go.
	pub direction: Direction,
	/// Power needed over the whole window, in W.
	pub power_w: u32,
	/// Highest price the DSO pays, in planks per kWh (at most the market's `price_cap`).
	pub max_price: Balance,
	/// No solutions after this moment (Unix ms of market time); from then on the
	/// offers of the stored match are firm. At or before the window's start.
	pub gate_closure: Moment,
	/// Whether a match covering less than `power_w` is acceptable (otherwise only a
	/// full cover is).
	pub partial: bool,
	/// How the accepted offers are paid.
	pub pricing: Pricing,
	/// How many W a match may cover above `power_w` ("at least `power_w`, for the
	/// least money"); 0 means never more than requested.
	pub max_over_w: u32,
}

/// Where a request is in its life.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum RequestStatus {
	/// Taking solutions until its gate closure; waiting to be bought until its
	/// window starts.
	Open,
	/// A match was bought; its cost is in escrow until settlement.
	Accepted,
	/// Delivery was settled: the FSPs were paid and the rest refunded.
	Settled,
	/// Cancelled by the DSO before its gate closure.
	Cancelled,
	/// The window started without a bought match.
	Expired,
}

/// A DSO's request for flexibility.
#[derive(Clone, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug)]
pub struct Request<AccountId, Balance> {
	/// The DSO that posted it.
	pub dso: AccountId,
	/// What it asks for.
	pub spec: RequestSpec<Balance>,
	/// Where it is in its life.
	pub status: RequestStatus,
	/// Deposit held from the DSO until it finishes, in planks.
	pub deposit: Balance,
}

/// Whether a match may take only part of an offer's power.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum Divisibility {
	/// Only the offer's whole power can be taken.
	AllOrNothing,
	/// Any power from `min_power_w` up to the offer's power can be taken.
	Divisible {
		/// Smallest part a match may take, in W (1 to the offer's power).
		min_power_w: u32,
	},
}

/// What an FSP offers.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct OfferSpec<Balance> {
	/// The prequalified asset that delivers; an offer keeps its asset for life.
	pub asset: AssetId,
	/// When it can deliver (Unix ms of market time); it serves requests whose window
	/// it covers. It must start after now and within the market's `horizon_ms`.
	pub window: Window,
	/// Which way it delivers.
	pub direction: Direction,
	/// Power offered, in W (at most the asset's limit in that direction).
	pub power_w: u32,
	/// Price asked, in planks per kWh.
	pub price: Balance,
	/// Whether a match may take part of the power.
	pub divisibility: Divisibility,
}

impl<B> OfferSpec<B> {
	/// Smallest acceptable fill in W.
	pub fn min_power_w(&self) -> u32 {
		match self.divisibility {
			Divisibility::AllOrNothing => self.power_w,
			Divisibility::Divisible { min_power_w } => min_power_w.min(self.power_w),
		}
	}
}

/// Where an offer is in its life.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum OfferStatus {
	/// In the book, available for matching.
	Open,
	/// Taken by the bought match of this request.
	Matched(RequestId),
}

/// An FSP's offer.
#[derive(Clone, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug)]
pub struct Offer<AccountId, Balance> {
	/// The FSP that posted it.
	pub fsp: AccountId,
	/// The asset's location (copied when posted).
	pub location: LocationId,
	/// What it offers.
	pub spec: OfferSpec<Balance>,
	/// Where it is in its life.
	pub status: OfferStatus,
}

/// One part of a proposed match: power taken from an offer.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct ProposedFill {
	/// The offer.
	pub offer: OfferId,
	/// Power taken from it, in W.
	pub power_w: u32,
}

/// The best match found so far for an open request.
#[derive(
	CloneNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxFills))]
pub struct Proposal<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxFills: Get<u32>,
> {
	/// Who found it (the DSO for the on-chain merit order, or a solver).
	pub submitter: AccountId,
	/// Its fills.
	pub fills: BoundedVec<ProposedFill, MaxFills>,
	/// Power the match covers towards the request, in W (at most the request's power).
	pub covered_w: u32,
	/// The solver's score: Σ fill power (W) × price per kWh (pay-as-clear: total
	/// power × clearing price). Compares matches; it is not an amount of money.
	pub score_w_price: u128,
	/// What buying the match would cost at the offers' prices when it was stored, in
	/// planks (power × window × price, summed over the fills).
	pub cost: Balance,
}

/// What a metering oracle reported for a fill.
#[derive(Clone, Copy, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug)]
pub struct DeliveryReport {
	/// Energy delivered against the baseline (zero export for batteries and V2G), in Wh.
	pub delivered_wh: u64,
	/// Hash or Merkle root of the 1-minute samples behind it.
	pub samples_root: H256,
	/// When it was reported (Unix ms of market time).
	pub reported_at: Moment,
}

/// How a fill was settled.
#[derive(Clone, Copy, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug)]
pub struct FillOutcome<Balance> {
	/// Delivered / contracted energy (delivery above the contract counts as 100 %).
	pub delivery_rate: Perbill,
	/// Paid to the FSP, in planks (or parked for it to claim, see `PayoutUnclaimed`).
	pub paid: Balance,
	/// Deducted from the payment for delivering below the penalty threshold, in planks.
	pub penalty: Balance,
	/// Returned to the DSO, in planks.
	pub refunded: Balance,
}

/// One part of an accepted match: what an asset must deliver and for how much.
#[derive(Clone, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug)]
pub struct Fill<AccountId, Balance> {
	/// The offer taken.
	pub offer: OfferId,
	/// The asset that delivers.
	pub asset: AssetId,
	/// The FSP that is paid.
	pub fsp: AccountId,
	/// Contracted power in W.
	pub power_w: u32,
	/// Price paid, in planks per kWh.
	pub price: Balance,
	/// Contracted energy in Wh (power × window).
	pub energy_wh: u64,
	/// Contracted cost (energy × price), in planks, held in escrow.
	pub cost: Balance,
	/// The metering oracle's report, once made.
	pub report: Option<DeliveryReport>,
	/// The settlement, once made.
	pub outcome: Option<FillOutcome<Balance>>,
}

/// The bought match of a request.
#[derive(Clone, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug)]
pub struct Contract<Balance> {
	/// Number of fills (`Fills` holds them under indices `0..fill_count`).
	pub fill_count: u32,
	/// Total contracted power in W.
	pub power_w: u32,
	/// Total contracted energy in Wh.
	pub energy_wh: u64,
	/// Total cost in planks, held from the DSO at acceptance.
	pub cost: Balance,
	/// What is still held in escrow, in planks.
	pub escrow: Balance,
	/// When it was bought (Unix ms of market time).
	pub accepted_at: Moment,
	/// Number of fills reported so far.
	pub reported: u32,
	/// The reporting deadline (Unix ms of market time): the window's end plus the
	/// settlement grace in force when the match was bought. Delivery reports are taken
	/// until then; settlement runs from then on, a missing report counting as zero.
	pub report_deadline: Moment,
}

/// A registered DSO.
#[derive(
	CloneNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxLocations, MaxOracles))]
pub struct Dso<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxLocations: Get<u32>,
	MaxOracles: Get<u32>,
> {
	/// Grid locations it operates.
	pub locations: BoundedVec<LocationId, MaxLocations>,
	/// Accounts allowed to report delivery on its grid.
	pub oracles: BoundedVec<AccountId, MaxOracles>,
	/// Number of its requests not yet finished (open or accepted).
	pub active_requests: u32,
}

/// A grid location.
#[derive(
	CloneNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxNameLen))]
pub struct Location<AccountId: Clone + PartialEq + Eq + core::fmt::Debug, MaxNameLen: Get<u32>> {
	/// The DSO operating it.
	pub dso: AccountId,
	/// A human-readable name (UTF-8).
	pub name: BoundedVec<u8, MaxNameLen>,
}

/// Parameters governance can change.
#[derive(
	Clone,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct MarketParams<Balance> {
	/// Reports are taken until the window's end plus this (ms): the reporting
	/// deadline, fixed in each contract when it is bought. Settlement follows.
	pub settlement_grace_ms: u64,
	/// Finished requests are kept this long (ms) before being pruned.
	pub retention_ms: u64,
	/// Delivery rate below which a penalty applies.
	pub penalty_threshold: Perbill,
	/// Share of the undelivered energy's value deducted from the payment as penalty.
	pub penalty_rate: Perbill,
	/// Held from the DSO per request until it finishes, in planks.
	pub request_deposit: Balance,
	/// Held from the owner per asset while it is registered, in planks.
	pub asset_deposit: Balance,
	/// Held from an FSP while registered, in planks.
	pub fsp_deposit: Balance,
	/// A new solution must cost at least this share less than the stored one (same cover).
	pub solution_margin: Perbill,
	/// The regulator's ceiling on the price a DSO may pay, in planks per kWh (a
	/// request's `max_price`), checked when a request is posted and when its match is
	/// bought; `None` for no ceiling. Added in storage version 3.
	pub price_cap: Option<Balance>,
	/// How far ahead of now a request's or an offer's window may start (ms). Added in
	/// storage version 4 (default 7 days).
	pub horizon_ms: u64,
}

/// How market time runs: `market = market_ms + (chain − chain_ms) × scale`, where
/// `chain` is the chain's timestamp (all Unix ms).
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct MarketClock {
	/// Chain time (Unix ms of `pallet-timestamp`) at which this pace took effect.
	pub chain_ms: Moment,
	/// Market time (Unix ms) at that instant.
	pub market_ms: Moment,
	/// Market ms per chain ms (1 on real networks).
	pub scale: u32,
}

impl MarketClock {
	/// Market time at chain time `chain` (chain times before `chain_ms` map to `market_ms`).
	pub fn market_of(&self, chain: Moment) -> Moment {
		let elapsed = chain.saturating_sub(self.chain_ms);
		self.market_ms.saturating_add(elapsed.saturating_mul(self.scale as Moment))
	}
}

/// Housekeeping the market does on its own when its time comes.
#[derive(Clone, Copy, Encode, Decode, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug)]
pub enum Task {
	/// At gate closure: without a live proposed match, run the on-chain merit order.
	#[codec(index = 0)]
	CloseGate(RequestId),
	/// Expire the request if its window started without a bought match.
	#[codec(index = 1)]
	ExpireRequest(RequestId),
	/// Settle the request's bought match (index 2 was version 1's offer expiry).
	#[codec(index = 3)]
	Settle(RequestId),
	/// Remove the finished request and its records.
	#[codec(index = 4)]
	Prune(RequestId),
}
