//! FSP offers: post, edit, withdraw; the book they stand in while open.

use crate::{pallet::*, AssetStatus, Offer, OfferId, OfferStatus};
use frame_support::{ensure, pallet_prelude::*};
use sp_runtime::traits::Zero;

impl<T: Config> Pallet<T> {
	/// Posts an offer of `fsp` for one of its prequalified assets. No deposit: the
	/// FSP and the asset hold theirs, the book is bounded, and the book sweep drops the
	/// offer once its window starts.
	pub fn do_create_offer(fsp: T::AccountId, spec: OfferSpecOf<T>) -> DispatchResult {
		ensure!(Fsps::<T>::contains_key(&fsp), Error::<T>::NotFsp);
		let location = Self::check_offer_spec(&fsp, &spec)?;
		let id = NextOfferId::<T>::get();
		NextOfferId::<T>::put(id.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let offer = Offer {
			fsp: fsp.clone(),
			location,
			spec: spec.clone(),
			status: OfferStatus::Open,
			deposit: Zero::zero(),
		};
		Self::put_in_book(id, &offer)?;
		Offers::<T>::insert(id, offer);
		Self::deposit_event(Event::OfferCreated { offer: id, fsp, location, spec });
		Ok(())
	}

	/// Replaces the description of an open offer.
	pub fn do_update_offer(fsp: T::AccountId, id: OfferId, spec: OfferSpecOf<T>) -> DispatchResult {
		let mut offer = Self::open_offer_of(&fsp, id)?;
		let location = Self::check_offer_spec(&fsp, &spec)?;
		Self::take_out_of_book(id, &offer);
		offer.location = location;
		offer.spec = spec.clone();
		Self::put_in_book(id, &offer)?;
		Offers::<T>::insert(id, offer);
		Self::deposit_event(Event::OfferUpdated { offer: id, spec });
		Ok(())
	}

	/// Withdraws an open offer (and returns the deposit of one posted before v2).
	pub fn do_cancel_offer(fsp: T::AccountId, id: OfferId) -> DispatchResult {
		let offer = Self::open_offer_of(&fsp, id)?;
		Self::remove_open_offer(id, &offer);
		Self::deposit_event(Event::OfferCancelled { offer: id });
		Ok(())
	}

	/// Drops an offer still open when its window starts. Returns whether it did.
	pub fn do_expire_offer(id: OfferId) -> bool {
		let Some(offer) = Offers::<T>::get(id) else { return false };
		if offer.status != OfferStatus::Open || Self::now() < offer.spec.window.start {
			return false;
		}
		Self::remove_open_offer(id, &offer);
		Self::deposit_event(Event::OfferExpired { offer: id });
		true
	}

	/// Marks an open offer as taken by `request`'s match: it leaves the book and its
	/// deposit is returned (the match itself now binds the FSP).
	pub(crate) fn mark_matched(id: OfferId, request: crate::RequestId) -> DispatchResult {
		Offers::<T>::try_mutate(id, |offer| {
			let offer = offer.as_mut().ok_or(Error::<T>::UnknownOffer)?;
			ensure!(offer.status == OfferStatus::Open, Error::<T>::OfferNotOpen);
			Self::take_out_of_book(id, offer);
			Self::release_deposit(&offer.fsp, offer.deposit);
			offer.deposit = Zero::zero();
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
		ensure!(!spec.price.is_zero(), Error::<T>::ZeroPrice);
		Ok(asset.spec.location)
	}

	fn put_in_book(id: OfferId, offer: &OfferOf<T>) -> DispatchResult {
		let key = (offer.location, offer.spec.direction);
		BookSize::<T>::try_mutate(key, |n| {
			ensure!(*n < T::MaxOffersPerBook::get(), Error::<T>::BookFull);
			*n += 1;
			Ok::<_, DispatchError>(())
		})?;
		Book::<T>::insert(key, id, ());
		Assets::<T>::mutate(offer.spec.asset, |a| {
			if let Some(a) = a {
				a.open_offers += 1
			}
		});
		Ok(())
	}

	fn take_out_of_book(id: OfferId, offer: &OfferOf<T>) {
		let key = (offer.location, offer.spec.direction);
		Book::<T>::remove(key, id);
		BookSize::<T>::mutate(key, |n| *n = n.saturating_sub(1));
		Assets::<T>::mutate(offer.spec.asset, |a| {
			if let Some(a) = a {
				a.open_offers = a.open_offers.saturating_sub(1)
			}
		});
	}

	fn remove_open_offer(id: OfferId, offer: &OfferOf<T>) {
		Self::take_out_of_book(id, offer);
		Offers::<T>::remove(id);
		Self::release_deposit(&offer.fsp, offer.deposit);
	}
}
