//! Tests of the market, the pilot first.

mod attacks;
mod clock;
mod errors;
mod fuzz;
mod lifecycle;
mod offchain;
mod paging;
mod pilot;
mod properties;

use crate::{mock::*, *};

/// A refused call: its error, no change of state (it still reports the weight of
/// what it read, so `assert_noop!` does not fit).
macro_rules! assert_refused {
	($call:expr, $err:expr) => {
		frame_support::assert_storage_noop!(frame_support::assert_err_ignore_postinfo!($call, $err))
	};
}
pub(crate) use assert_refused;
use frame_support::assert_ok;

/// 16:00 +03:00, the pilot's window start.
pub const WINDOW_START: u64 = T0 + 60 * MINUTE;
/// 16:45 +03:00, the pilot's window end.
pub const WINDOW_END: u64 = T0 + 105 * MINUTE;
/// 0.21 EUR/kWh, the DSO's ceiling.
pub const MAX_PRICE: u128 = 21 * UNIT / 100;
/// 0.10 EUR/kWh, both FSPs' price.
pub const OFFER_PRICE: u128 = UNIT / 10;

pub fn window() -> Window {
	Window { start: WINDOW_START, end: WINDOW_END }
}

pub fn asset_spec(kind: AssetKind, device: &[u8], min_soc_percent: u8) -> AssetSpecOf<Test> {
	AssetSpec {
		kind,
		location: ESKISEHIR,
		max_export_w: 10_000,
		max_import_w: 10_000,
		capacity_wh: 30_000,
		min_soc_percent,
		device: device.to_vec().try_into().unwrap(),
	}
}

/// The pilot's request: 20 kW up, 16:00-16:45, at most 0.21 EUR/kWh, gate closure 15:45.
pub fn pilot_request() -> RequestSpecOf<Test> {
	RequestSpec {
		location: ESKISEHIR,
		window: window(),
		direction: Direction::Up,
		power_w: 20_000,
		max_price: MAX_PRICE,
		gate_closure: WINDOW_START - 15 * MINUTE,
		partial: false,
		pricing: Pricing::PayAsBid,
		max_over_w: 0,
	}
}

/// A 10 kW all-or-nothing offer of `asset` at 0.10 EUR/kWh for the pilot's window.
pub fn pilot_offer(asset: AssetId) -> OfferSpecOf<Test> {
	OfferSpec {
		asset,
		window: window(),
		direction: Direction::Up,
		power_w: 10_000,
		price: OFFER_PRICE,
		divisibility: Divisibility::AllOrNothing,
	}
}

/// Registers both FSPs and their assets and has the DSO prequalify them.
/// Returns (battery, v2g charger).
pub fn pilot_assets() -> (AssetId, AssetId) {
	let o = RuntimeOrigin::signed;
	assert_ok!(FlexMarket::register_fsp(o(BATTERY_OWNER)));
	assert_ok!(FlexMarket::register_fsp(o(V2G_OWNER)));
	assert_ok!(FlexMarket::register_asset(
		o(BATTERY_OWNER),
		asset_spec(AssetKind::Battery, b"modbus://127.0.0.1:5020/1", 20)
	));
	assert_ok!(FlexMarket::register_asset(
		o(V2G_OWNER),
		asset_spec(AssetKind::V2gCharger, b"ocpp://CP-EFLEX-01/1", 30)
	));
	for asset in [0, 1] {
		assert_ok!(FlexMarket::set_asset_status(o(DSO), asset, AssetStatus::Prequalified));
	}
	(0, 1)
}

/// The pilot up to a proposed match: request 0, offers 0 (battery) and 1 (V2G).
pub fn pilot_matched() {
	let (battery, v2g) = pilot_assets();
	assert_ok!(FlexMarket::create_request(RuntimeOrigin::signed(DSO), pilot_request()));
	assert_ok!(FlexMarket::create_offer(
		RuntimeOrigin::signed(BATTERY_OWNER),
		pilot_offer(battery)
	));
	assert_ok!(FlexMarket::create_offer(RuntimeOrigin::signed(V2G_OWNER), pilot_offer(v2g)));
	assert_ok!(FlexMarket::match_request(RuntimeOrigin::signed(DSO), 0));
}

/// The pilot up to a bought match.
pub fn pilot_accepted() {
	pilot_matched();
	assert_ok!(FlexMarket::accept_match(RuntimeOrigin::signed(DSO), 0, u128::MAX));
}

/// Events of the market since the last reset.
pub fn market_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::FlexMarket(e) => Some(e),
			_ => None,
		})
		.collect()
}
