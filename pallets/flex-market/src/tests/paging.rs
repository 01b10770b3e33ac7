//! The reads of the runtime API: eligible offers a page at a time, in the order
//! the whole list has (cheapest first, by id within a price), whatever the page size.

use super::*;
use crate::views::{OfferCursor, MAX_PAGE};

/// The pilot's request with `count` eligible offers of the battery and the charger at
/// prices with ties, beside offers that may not serve it: the other direction, above
/// its price, a window that does not cover it, and the offers of a suspended asset.
/// Returns the eligible offers' ids in the order a DSO sees them.
fn book_with_ties(count: u64) -> Vec<OfferId> {
	let (battery, v2g) = pilot_assets();
	let o = RuntimeOrigin::signed;
	assert_ok!(FlexMarket::create_request(o(DSO), pilot_request()));
	let mut eligible = Vec::new();
	for i in 0..count {
		let (owner, asset) = if i % 2 == 0 { (BATTERY_OWNER, battery) } else { (V2G_OWNER, v2g) };
		let mut offer = pilot_offer(asset);
		offer.price = OFFER_PRICE + (i % 4) as u128;
		assert_ok!(FlexMarket::create_offer(o(owner), offer));
		eligible.push((OFFER_PRICE + (i % 4) as u128, NextOfferId::<Test>::get() - 1));
	}
	let mut down = pilot_offer(battery);
	down.direction = Direction::Down;
	let mut dear = pilot_offer(battery);
	dear.price = MAX_PRICE + 1;
	let mut short = pilot_offer(v2g);
	short.window.end = WINDOW_END - MINUTE;
	for (owner, offer) in [(BATTERY_OWNER, down), (BATTERY_OWNER, dear), (V2G_OWNER, short)] {
		assert_ok!(FlexMarket::create_offer(o(owner), offer));
	}
	eligible.sort_unstable();
	eligible.into_iter().map(|(_, id)| id).collect()
}

/// Every page after the last offer of the one before, until a short page.
fn walk(request: RequestId, limit: u32) -> Vec<OfferId> {
	let (mut all, mut after) = (Vec::new(), None);
	loop {
		let page = FlexMarket::eligible_offers_page(request, after, limit);
		assert!(page.len() <= limit as usize, "a page of {} offers, limit {limit}", page.len());
		all.extend(page.iter().map(|(id, _)| *id));
		match page.last() {
			Some((id, offer)) if page.len() == limit as usize => {
				after = Some(OfferCursor { price: offer.spec.price, offer: *id })
			},
			_ => return all,
		}
	}
}

#[test]
fn pages_list_the_eligible_offers_cheapest_first_whatever_their_size() {
	new_test_ext().execute_with(|| {
		let expected = book_with_ties(13);
		let all: Vec<_> = FlexMarket::eligible_offers(0).into_iter().map(|(id, _)| id).collect();
		assert_eq!(all, expected);
		for limit in [1, 2, 3, 5, 13, 14, MAX_PAGE] {
			assert_eq!(walk(0, limit), expected, "pages of {limit}");
		}
	});
}

#[test]
fn a_page_starts_strictly_after_its_cursor() {
	new_test_ext().execute_with(|| {
		let expected = book_with_ties(8);
		let (id, offer) = FlexMarket::eligible_offers_page(0, None, 3).pop().unwrap();
		let cursor = OfferCursor { price: offer.spec.price, offer: id };
		let rest: Vec<_> = FlexMarket::eligible_offers_page(0, Some(cursor), 100)
			.into_iter()
			.map(|(i, _)| i)
			.collect();
		assert_eq!(rest, expected[3..]);
		// A cursor past every offer, an empty page, an unknown request: nothing.
		let last = OfferCursor { price: u128::MAX, offer: OfferId::MAX };
		assert!(FlexMarket::eligible_offers_page(0, Some(last), 100).is_empty());
		assert!(FlexMarket::eligible_offers_page(0, None, 0).is_empty());
		assert!(FlexMarket::eligible_offers_page(7, None, 100).is_empty());
	});
}

#[test]
fn offers_of_an_asset_no_longer_qualified_leave_the_pages() {
	new_test_ext().execute_with(|| {
		let expected = book_with_ties(6);
		// The charger (asset 1) is suspended: its offers leave the book.
		assert_ok!(FlexMarket::set_asset_status(
			RuntimeOrigin::signed(DSO),
			1,
			AssetStatus::Suspended
		));
		let left: Vec<_> = expected
			.into_iter()
			.filter(|id| Offers::<Test>::get(id).is_some_and(|o| o.spec.asset == 0))
			.collect();
		assert_eq!(walk(0, 2), left);
	});
}
