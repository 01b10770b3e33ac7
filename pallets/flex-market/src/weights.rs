//! Placeholder weights, replaced by `scripts/benchmark-pallet.sh` output.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::ParityDbWeight, Weight},
};

/// Weight functions needed for `pallet_flex_market`.
pub trait WeightInfo {
	fn register_dso(l: u32) -> Weight;
	fn remove_dso(l: u32) -> Weight;
	fn appoint_oracle() -> Weight;
	fn remove_oracle() -> Weight;
	fn register_fsp() -> Weight;
	fn register_asset() -> Weight;
	fn update_asset() -> Weight;
	fn deregister_asset() -> Weight;
	fn set_asset_status() -> Weight;
	fn create_request() -> Weight;
	fn update_request() -> Weight;
	fn cancel_request() -> Weight;
	fn create_offer() -> Weight;
	fn update_offer() -> Weight;
	fn cancel_offer() -> Weight;
	fn match_request(n: u32) -> Weight;
	fn submit_solution(f: u32) -> Weight;
	fn accept_match(f: u32) -> Weight;
	fn report_delivery() -> Weight;
	fn settle(f: u32) -> Weight;
	fn set_params() -> Weight;
	fn expire_request() -> Weight;
	fn expire_offer() -> Weight;
	fn prune(f: u32) -> Weight;
	fn agenda_bucket() -> Weight;
}

/// Weights for `pallet_flex_market` on the reference machine.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_dso(_l: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_l.into()))
			.saturating_add(T::DbWeight::get().reads_writes(3, 3).saturating_mul(_l.into()))
	}
	fn remove_dso(_l: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_l.into()))
			.saturating_add(T::DbWeight::get().reads_writes(3, 3).saturating_mul(_l.into()))
	}
	fn appoint_oracle() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn remove_oracle() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn register_fsp() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn register_asset() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn update_asset() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn deregister_asset() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn set_asset_status() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn create_request() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn update_request() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn cancel_request() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn create_offer() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn update_offer() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn cancel_offer() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn match_request(_n: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(3, 3).saturating_mul(_n.into()))
	}
	fn submit_solution(_f: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_f.into()))
			.saturating_add(T::DbWeight::get().reads_writes(3, 3).saturating_mul(_f.into()))
	}
	fn accept_match(_f: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_f.into()))
			.saturating_add(T::DbWeight::get().reads_writes(3, 3).saturating_mul(_f.into()))
	}
	fn report_delivery() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn settle(_f: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_f.into()))
			.saturating_add(T::DbWeight::get().reads_writes(3, 3).saturating_mul(_f.into()))
	}
	fn set_params() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn expire_request() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn expire_offer() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn prune(_f: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_f.into()))
			.saturating_add(T::DbWeight::get().reads_writes(3, 3).saturating_mul(_f.into()))
	}
	fn agenda_bucket() -> Weight {
		Weight::from_parts(50_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
}

impl WeightInfo for () {
	fn register_dso(_l: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_l.into()))
	}
	fn remove_dso(_l: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_l.into()))
	}
	fn appoint_oracle() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn remove_oracle() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn register_fsp() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn register_asset() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn update_asset() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn deregister_asset() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn set_asset_status() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn create_request() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn update_request() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn cancel_request() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn create_offer() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn update_offer() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn cancel_offer() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn match_request(_n: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_n.into()))
	}
	fn submit_solution(_f: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_f.into()))
	}
	fn accept_match(_f: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_f.into()))
	}
	fn report_delivery() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn settle(_f: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_f.into()))
	}
	fn set_params() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn expire_request() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn expire_offer() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
	fn prune(_f: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(_f.into()))
	}
	fn agenda_bucket() -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 5))
	}
}
