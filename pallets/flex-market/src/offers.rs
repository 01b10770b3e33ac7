//! FSP offers: post, edit, withdraw; the book they stand in while open.

use crate::{pallet::*, AssetId, AssetStatus, Offer, OfferId, OfferStatus, WeightInfo};
use frame_support::{
	dispatch::{DispatchErrorWithPostInfo, WithPostDispatchInfo},
	ensure,
	pallet_prelude::*,
};
use sp_runtime::traits::Zero;

impl<T: Config> Pallet<T> {
	/// Posts an offer of `fsp` for one of its prequalified assets. No deposit: the
	/// FSP and the asset hold theirs, the asset was prequalified by the DSO, the book
	/// is bounded per asset and per location, and the book sweep drops the offer once
	/// its window starts.
	pub(crate) fn do_create_offer(fsp: T::AccountId, spec: OfferSpecOf<T>) -> DispatchResult {
		ensure!(Fsps::<T>::contains_key(&fsp), Error::<T>::NotFsp);
		let location = Self::check_offer_spec(&fsp, &spec)?;
		let id = NextOfferId::<T>::get();
		NextOfferId::<T>::put(id.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let offer =
			Offer { fsp: fsp.clone(), location, spec: spec.clone(), status: OfferStatus::Open };
		Self::put_in_book(id, &offer)?;
		Offers::<T>::insert(id, offer);
		Self::deposit_event(Event::OfferCreated { offer: id, fsp, location, spec });
		Ok(())
	}

	/// Replaces the description of an open offer that is not firm; the asset stays.
	/// Returns the number of proposals holding it.
	pub(crate) fn do_update_offer(
		fsp: T::AccountId,
		id: OfferId,
		spec: OfferSpecOf<T>,
	) -> Result<u32, DispatchErrorWithPostInfo> {
		let mut offer = Self::open_offer_of(&fsp, id).map_err(|e| e.with_weight(reads::<T>(1)))?;
		let holders = Self::firmness_checked(id)?;
		let fail = |e: DispatchError| e.with_weight(T::WeightInfo::update_offer(holders));
		ensure!(spec.asset == offer.spec.asset, fail(Error::<T>::AssetChanged.into()));
		Self::check_offer_spec(&fsp, &spec).map_err(fail)?;
		Self::take_out_of_book(id, &offer);
		offer.spec = spec.clone();
		Self::put_in_book(id, &offer).map_err(fail)?;
		Offers::<T>::insert(id, offer);
		Self::deposit_event(Event::OfferUpdated { offer: id, spec });
		Ok(holders)
	}

	/// Withdraws an open offer that is not firm. Returns the number of proposals
	/// holding it.
	pub(crate) fn do_cancel_offer(
		fsp: T::AccountId,
		id: OfferId,
	) -> Result<u32, DispatchErrorWithPostInfo> {
		let offer = Self::open_offer_of(&fsp, id).map_err(|e| e.with_weight(reads::<T>(1)))?;
		let holders = Self::firmness_checked(id)?;
		Self::remove_open_offer(id, &offer);
		Self::deposit_event(Event::OfferCancelled { offer: id });
		Ok(holders)
	}

	/// Drops an offer still open when its window starts. Returns whether it did.
	pub(crate) fn do_expire_offer(id: OfferId) -> bool {
		let Some(offer) = Offers::<T>::get(id) else { return false };
		if offer.status != OfferStatus::Open || Self::now() < offer.spec.window.start {
			return false;
		}
		Self::remove_open_offer(id, &offer);
		Self::deposit_event(Event::OfferExpired { offer: id });
		true
	}

	/// Withdraws every open offer of `asset` (at most `MaxOffersPerAsset`), with an
	/// event each. Returns how many it withdrew.
	pub(crate) fn withdraw_asset_offers(asset: AssetId) -> u32 {
		let ids: alloc::vec::Vec<OfferId> = AssetOffers::<T>::iter_key_prefix(asset)
			.take(T::MaxOffersPerAsset::get() as usize)
			.collect();
		for id in &ids {
			if let Some(offer) = Offers::<T>::get(id) {
				Self::remove_open_offer(*id, &offer);
				Self::deposit_event(Event::OfferWithdrawn { offer: *id, asset });
			}
		}
		ids.len() as u32
	}

	/// Refuses when a stored proposal holds an open offer of `asset` (one read per
	/// offer): such offers must be withdrawn first, which `cancel_offer` allows until
	/// the request's gate closes.
	pub(crate) fn ensure_no_proposed_offer(asset: AssetId) -> DispatchResult {
		for id in AssetOffers::<T>::iter_key_prefix(asset) {
			let proposed = ProposedOffers::<T>::iter_prefix(id).next().is_some();
			ensure!(!proposed, Error::<T>::AssetBusy);
		}
		Ok(())
	}

	/// Marks an open offer as taken by `request`'s match: it leaves the book (the match
	/// itself now binds the FSP).
	pub(crate) fn mark_matched(id: OfferId, request: crate::RequestId) -> DispatchResult {
		Offers::<T>::try_mutate(id, |offer| {
			let offer = offer.as_mut().ok_or(Error::<T>::UnknownOffer)?;
			ensure!(offer.status == OfferStatus::Open, Error::<T>::OfferNotOpen);
			Self::take_out_of_book(id, offer);
			offer.status = OfferStatus::Matched(request);
			Ok(())
		})
	}

	fn open_offer_of(fsp: &T::AccountId, id: OfferId) -> Result<OfferOf<T>, DispatchError> {
		let offer = Offers::<T>::get(id).ok_or(Error::<T>::UnknownOffer)?;
		ensure!(&offer.fsp == fsp, Error::<T>::NotOfferOwner);
		ensure!(offer.status == OfferStatus::Open, Error::<T>::OfferNotOpen);
		Ok(offer)
	}

	/// The firmness check with the weight of what it read on failure.
	fn firmness_checked(id: OfferId) -> Result<u32, DispatchErrorWithPostInfo> {
		Self::ensure_not_firm(id).map_err(|(e, holders)| {
			e.with_weight(reads::<T>(1).saturating_add(reads::<T>(holders as u64)))
		})
	}

	/// Checks an offer against its asset and returns the asset's location.
	fn check_offer_spec(
		fsp: &T::AccountId,
		spec: &OfferSpecOf<T>,
	) -> Result<crate::LocationId, DispatchError> {
		let asset = Assets::<T>::get(spec.asset).ok_or(Error::<T>::UnknownAsset)?;
		ensure!(&asset.owner == fsp, Error::<T>::NotAssetOwner);
		ensure!(asset.status == AssetStatus::Prequalified, Error::<T>::AssetNotQualified);
		Self::check_window(&spec.window, Self::now())?;
		ensure!(
			spec.power_w > 0 && spec.power_w <= asset.spec.max_power_w(spec.direction),
			Error::<T>::PowerOutOfRange
		);
		if let crate::Divisibility::Divisible { min_power_w } = spec.divisibility {
			ensure!(min_power_w > 0 && min_power_w <= spec.power_w, Error::<T>::PowerOutOfRange);
		}
		Self::check_price(&spec.price)?;
		Ok(asset.spec.location)
	}

	fn put_in_book(id: OfferId, offer: &OfferOf<T>) -> DispatchResult {
		let key = (offer.location, offer.spec.direction);
		let asset = offer.spec.asset;
		Assets::<T>::try_mutate(asset, |a| {
			let a = a.as_mut().ok_or(Error::<T>::UnknownAsset)?;
			ensure!(a.open_offers < T::MaxOffersPerAsset::get(), Error::<T>::TooManyOffers);
			a.open_offers += 1;
			Ok::<_, DispatchError>(())
		})?;
		BookSize::<T>::try_mutate(key, |n| {
			ensure!(*n < T::MaxOffersPerBook::get(), Error::<T>::BookFull);
			*n += 1;
			Ok::<_, DispatchError>(())
		})?;
		Book::<T>::insert(key, id, ());
		AssetOffers::<T>::insert(asset, id, ());
		Ok(())
	}

	fn take_out_of_book(id: OfferId, offer: &OfferOf<T>) {
		let key = (offer.location, offer.spec.direction);
		Book::<T>::remove(key, id);
		BookSize::<T>::mutate(key, |n| *n = n.saturating_sub(1));
		AssetOffers::<T>::remove(offer.spec.asset, id);
		Assets::<T>::mutate(offer.spec.asset, |a| {
			if let Some(a) = a {
				a.open_offers = a.open_offers.saturating_sub(1)
			}
		});
	}

	fn remove_open_offer(id: OfferId, offer: &OfferOf<T>) {
		Self::take_out_of_book(id, offer);
		Offers::<T>::remove(id);
	}

	/// A price must be above zero and at most [`crate::MAX_PRICE_PER_KWH`] planks per kWh.
	pub(crate) fn check_price(price: &BalanceOf<T>) -> DispatchResult {
		ensure!(!price.is_zero(), Error::<T>::ZeroPrice);
		ensure!(
			sp_runtime::SaturatedConversion::saturated_into::<u128>(*price)
				<= crate::MAX_PRICE_PER_KWH,
			Error::<T>::PriceTooHigh
		);
		Ok(())
	}
}
