//! Stored matches: keeping the best one per request, telling whether it is still
//! feasible, and the firmness of the offers it holds once the request's gate closes.
//!
//! A proposal is checked when it is stored, but the book moves on: an offer may be
//! withdrawn or taken by another match, an asset suspended or committed elsewhere. A
//! stored proposal that no longer passes the check counts as absent: a new solution
//! need not beat it, the merit order runs at gate closure, and it cannot be bought.
//! From gate closure until the request is bought or expires, the offers of its stored
//! proposal are firm: their FSPs can neither edit nor withdraw them.

use crate::{pallet::*, OfferId, Proposal, ProposedFill, RequestId};
use alloc::vec::Vec;
use flex_solver::Score;
use frame_support::{ensure, pallet_prelude::*};

/// A proposal as checked against the book as it stands now.
pub struct LiveProposal<Balance> {
	/// Its score now.
	pub score: Score,
	/// What buying it would cost now, in planks.
	pub cost: Balance,
	/// Number of fills.
	pub fills: u32,
}

impl<T: Config> Pallet<T> {
	/// The stored proposal of request `id` checked against the book as it stands:
	/// `Ok(None)` without one, `Err(fills)` when it is no longer feasible (with its
	/// number of fills, the work the check did).
	pub(crate) fn live_proposal(
		request: &RequestOf<T>,
		id: RequestId,
	) -> Result<Option<LiveProposal<BalanceOf<T>>>, u32> {
		let Some(stored) = Proposals::<T>::get(id) else { return Ok(None) };
		let fills = stored.fills.len() as u32;
		match Self::score_fills(request, &stored.fills) {
			Ok((score, book)) => {
				let cost = Self::total_cost(request, &stored.fills, &book.offers);
				Ok(Some(LiveProposal { score, cost, fills }))
			},
			Err(_) => Err(fills),
		}
	}

	/// Stores `fills` as the proposal of request `id`, replacing any other, and indexes
	/// its offers with the request's gate closure.
	pub(crate) fn put_proposal(
		id: RequestId,
		gate_closure: crate::Moment,
		proposal: ProposalOf<T>,
	) {
		Self::drop_proposal(id);
		for fill in proposal.fills.iter() {
			ProposedOffers::<T>::insert(fill.offer, id, gate_closure);
		}
		Proposals::<T>::insert(id, proposal);
	}

	/// Removes the proposal of request `id` and its index entries; returns its number
	/// of fills (0 without one).
	pub(crate) fn drop_proposal(id: RequestId) -> u32 {
		let Some(old) = Proposals::<T>::take(id) else { return 0 };
		for fill in old.fills.iter() {
			ProposedOffers::<T>::remove(fill.offer, id);
		}
		old.fills.len() as u32
	}

	/// Refuses to change offer `offer` while a request whose gate has closed holds it
	/// in its stored proposal. Returns how many proposals hold it (the work done), in
	/// the error too.
	pub(crate) fn ensure_not_firm(offer: OfferId) -> Result<u32, (DispatchError, u32)> {
		let now = Self::now();
		let mut holders = 0;
		for (_, gate_closure) in ProposedOffers::<T>::iter_prefix(offer) {
			holders += 1;
			if now >= gate_closure {
				return Err((Error::<T>::OfferFirm.into(), holders));
			}
		}
		Ok(holders)
	}

	/// Number of fills of the stored proposal of request `id` (0 without one).
	pub(crate) fn stored_fills(id: RequestId) -> u32 {
		Proposals::<T>::get(id).map_or(0, |p| p.fills.len() as u32)
	}

	/// Builds the proposal record of `fills` found by `by`.
	pub(crate) fn proposal_of(
		by: T::AccountId,
		fills: Vec<ProposedFill>,
		score: &Score,
		cost: BalanceOf<T>,
	) -> Result<ProposalOf<T>, DispatchError> {
		let fills = BoundedVec::try_from(fills).map_err(|_| Error::<T>::TooLong)?;
		Ok(Proposal {
			submitter: by,
			fills,
			covered_w: score.covered_w,
			score_w_price: score.cost,
			cost,
		})
	}

	/// Refuses a solution that does not beat the live stored one by the margin.
	pub(crate) fn ensure_beats(
		score: &Score,
		stored: &Option<LiveProposal<BalanceOf<T>>>,
	) -> DispatchResult {
		if let Some(stored) = stored {
			let margin = Params::<T>::get().solution_margin.mul_floor(stored.score.cost);
			ensure!(score.beats(&stored.score, margin), Error::<T>::NotBetter);
		}
		Ok(())
	}
}
