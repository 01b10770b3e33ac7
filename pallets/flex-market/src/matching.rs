//! Matching: which offers are eligible for a request, the on-chain merit order,
//! and the check of externally computed solutions. The arithmetic itself lives in
//! the `flex-solver` crate, shared with the off-chain worker.

use crate::{
	pallet::*, AssetStatus, OfferId, OfferStatus, Pricing, ProposedFill, RequestId, RequestStatus,
	WeightInfo,
};
use alloc::{collections::BTreeMap, vec::Vec};
use flex_solver::{Candidate, Demand, Infeasible, Score};
use frame_support::{
	dispatch::{DispatchErrorWithPostInfo, WithPostDispatchInfo},
	ensure,
	pallet_prelude::*,
};
use sp_runtime::SaturatedConversion;

/// The candidates of a request as the solver sees them, with the chain's records
/// beside them in the same order.
pub struct MatchBook<T: Config> {
	/// What the request asks for.
	pub demand: Demand,
	/// Eligible offers in solver form.
	pub candidates: Vec<Candidate>,
	/// Free power (W) of each asset group over the request's window.
	pub headroom: Vec<u32>,
	/// The offers behind `candidates`, same order.
	pub offers: Vec<(OfferId, OfferOf<T>)>,
}

impl<T: Config> MatchBook<T> {
	fn new(request: &RequestOf<T>) -> Self {
		let s = &request.spec;
		Self {
			demand: Demand {
				power_w: s.power_w,
				max_price: s.max_price.saturated_into(),
				partial: s.partial,
				max_over_w: s.max_over_w,
				pricing: match s.pricing {
					Pricing::PayAsBid => flex_solver::Pricing::PayAsBid,
					Pricing::PayAsClear => flex_solver::Pricing::PayAsClear,
				},
			},
			candidates: Vec::new(),
			headroom: Vec::new(),
			offers: Vec::new(),
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Runs the merit order over the request's book and stores the result if it is the
	/// best so far. Returns the book's size and the stored proposal's number of fills.
	pub(crate) fn do_match_request(
		dso: T::AccountId,
		id: RequestId,
	) -> Result<(u32, u32), DispatchErrorWithPostInfo> {
		let early = |e: Error<T>| e.with_weight(reads::<T>(2));
		let request = Requests::<T>::get(id).ok_or_else(|| early(Error::<T>::UnknownRequest))?;
		ensure!(request.dso == dso, early(Error::<T>::NotRequestOwner));
		Self::ensure_matchable(&request).map_err(|e| e.with_weight(reads::<T>(2)))?;
		let stored = Self::live_proposal(&request, id);
		let stored_fills = match &stored {
			Ok(p) => p.as_ref().map_or(0, |p| p.fills),
			Err(fills) => *fills,
		};
		let book_size = BookSize::<T>::get((request.spec.location, request.spec.direction));
		let used = T::WeightInfo::match_request(book_size)
			.saturating_add(T::WeightInfo::check_proposal(stored_fills));
		let (fills, score, size) =
			Self::merit_order_of(&request).map_err(|e| e.with_weight(used))?;
		Self::keep_if_better(id, &request, dso, fills, score, stored.unwrap_or(None))
			.map_err(|e| e.with_weight(used))?;
		Ok((size, stored_fills))
	}

	/// At gate closure a live stored proposal stays the request's match; without one
	/// (or when it is no longer feasible, then it is dropped) the on-chain merit order
	/// runs as the fallback. Returns the book's size; a no-op for requests not open or
	/// not yet closed.
	pub(crate) fn do_close_gate(id: RequestId) -> Result<u32, DispatchError> {
		let Some(request) = Requests::<T>::get(id) else { return Ok(0) };
		if request.status != RequestStatus::Open || Self::now() < request.spec.gate_closure {
			return Ok(0);
		}
		match Self::live_proposal(&request, id) {
			Ok(Some(_)) => return Ok(0),
			Ok(None) => {},
			Err(_) => {
				Self::drop_proposal(id);
				Self::deposit_event(Event::ProposalDropped { request: id });
			},
		}
		match Self::merit_order_of(&request) {
			Ok((fills, score, size)) => {
				Self::keep_if_better(id, &request, request.dso.clone(), fills, score, None)?;
				Ok(size)
			},
			// Nothing eligible covers it: the request stays open without a match.
			Err(_) => Ok(0),
		}
	}

	/// The merit order over the request's book: fills, score and the book's size.
	pub(crate) fn merit_order_of(
		request: &RequestOf<T>,
	) -> Result<(Vec<ProposedFill>, Score, u32), DispatchError> {
		let (book, size) = Self::eligible_book(request);
		let solution = flex_solver::merit_order(&book.demand, &book.candidates, &book.headroom)
			.ok_or(Error::<T>::InsufficientCover)?;
		let fills = solution
			.fills
			.iter()
			.map(|f| ProposedFill { offer: book.candidates[f.index].id, power_w: f.power_w })
			.collect();
		Ok((fills, solution.score, size))
	}

	/// Checks an externally computed solution and stores it if it is the best so far.
	/// Returns the number of fills of the stored proposal it was compared with.
	pub(crate) fn do_submit_solution(
		who: T::AccountId,
		id: RequestId,
		fills: SolutionOf<T>,
	) -> Result<u32, DispatchErrorWithPostInfo> {
		let early = |e: DispatchError| e.with_weight(reads::<T>(2));
		let request =
			Requests::<T>::get(id).ok_or_else(|| early(Error::<T>::UnknownRequest.into()))?;
		Self::ensure_matchable(&request).map_err(early)?;
		ensure!(Self::now() < request.spec.gate_closure, early(Error::<T>::GateClosed.into()));
		let submitted = fills.len() as u32;
		let fail = |e: DispatchError, stored| {
			e.with_weight(
				T::WeightInfo::submit_solution(submitted)
					.saturating_add(T::WeightInfo::check_proposal(stored)),
			)
		};
		let score = Self::score_fills(&request, &fills).map_err(|e| fail(e, 0))?.0;
		let stored = Self::live_proposal(&request, id);
		let stored_fills = match &stored {
			Ok(p) => p.as_ref().map_or(0, |p| p.fills),
			Err(fills) => *fills,
		};
		Self::keep_if_better(id, &request, who, fills.into_inner(), score, stored.unwrap_or(None))
			.map_err(|e| fail(e, stored_fills))?;
		Ok(stored_fills)
	}

	/// Checks `fills` against the request and the current state of the offers and
	/// assets; returns the score and the book the fills index into (same order).
	pub(crate) fn score_fills(
		request: &RequestOf<T>,
		fills: &[ProposedFill],
	) -> Result<(Score, MatchBook<T>), DispatchError> {
		let mut book = MatchBook::<T>::new(request);
		let mut groups = BTreeMap::new();
		let mut solver_fills = Vec::with_capacity(fills.len());
		for fill in fills {
			ensure!(book.offers.iter().all(|(o, _)| *o != fill.offer), Error::<T>::DuplicateFill);
			let offer = Offers::<T>::get(fill.offer).ok_or(Error::<T>::UnknownOffer)?;
			Self::eligibility(request, &offer)?;
			solver_fills
				.push(flex_solver::Fill { index: book.offers.len(), power_w: fill.power_w });
			Self::push_candidate(request, &mut book, &mut groups, fill.offer, offer)?;
		}
		let score =
			flex_solver::check(&book.demand, &book.candidates, &book.headroom, &solver_fills)
				.map_err(Self::infeasible_error)?;
		Ok((score, book))
	}

	/// All eligible offers of the request's book, and the book's size.
	pub(crate) fn eligible_book(request: &RequestOf<T>) -> (MatchBook<T>, u32) {
		let mut book = MatchBook::<T>::new(request);
		let mut groups = BTreeMap::new();
		let key = (request.spec.location, request.spec.direction);
		let mut ids: Vec<OfferId> = Book::<T>::iter_key_prefix(key).collect();
		let size = ids.len() as u32;
		// Candidates in offer-id order, so that solutions are independent of storage order.
		ids.sort_unstable();
		for offer_id in ids {
			let Some(offer) = Offers::<T>::get(offer_id) else { continue };
			if Self::eligibility(request, &offer).is_ok() {
				// Only an asset that vanished fails here; such an offer is not eligible.
				let _ = Self::push_candidate(request, &mut book, &mut groups, offer_id, offer);
			}
		}
		(book, size)
	}

	/// Why `offer` cannot serve `request`, if it cannot (asset status aside).
	pub(crate) fn eligibility(request: &RequestOf<T>, offer: &OfferOf<T>) -> DispatchResult {
		let (r, o) = (&request.spec, &offer.spec);
		ensure!(offer.status == OfferStatus::Open, Error::<T>::OfferNotOpen);
		ensure!(offer.location == r.location, Error::<T>::LocationMismatch);
		ensure!(o.direction == r.direction, Error::<T>::DirectionMismatch);
		ensure!(o.window.covers(&r.window), Error::<T>::WindowNotCovered);
		ensure!(o.price <= r.max_price, Error::<T>::PriceAboveMaximum);
		Ok(())
	}

	/// Adds an offer to `book`, grouping offers of one asset under one headroom.
	fn push_candidate(
		request: &RequestOf<T>,
		book: &mut MatchBook<T>,
		groups: &mut BTreeMap<crate::AssetId, usize>,
		offer_id: OfferId,
		offer: OfferOf<T>,
	) -> DispatchResult {
		let asset_id = offer.spec.asset;
		let group = match groups.get(&asset_id) {
			Some(g) => *g,
			None => {
				let asset = Assets::<T>::get(asset_id).ok_or(Error::<T>::UnknownAsset)?;
				ensure!(asset.status == AssetStatus::Prequalified, Error::<T>::AssetNotQualified);
				let commitments = Commitments::<T>::get(asset_id);
				book.headroom.push(Self::headroom(
					&asset,
					&commitments,
					&request.spec.window,
					request.spec.direction,
				));
				groups.insert(asset_id, book.headroom.len() - 1);
				book.headroom.len() - 1
			},
		};
		book.candidates.push(Candidate {
			id: offer_id,
			power_w: offer.spec.power_w,
			min_power_w: offer.spec.min_power_w(),
			price: offer.spec.price.saturated_into(),
			group,
		});
		book.offers.push((offer_id, offer));
		Ok(())
	}

	fn ensure_matchable(request: &RequestOf<T>) -> DispatchResult {
		match request.status {
			RequestStatus::Open => {},
			RequestStatus::Accepted => return Err(Error::<T>::AlreadyAccepted.into()),
			_ => return Err(Error::<T>::RequestNotOpen.into()),
		}
		ensure!(Self::now() < request.spec.window.start, Error::<T>::WindowStarted);
		Ok(())
	}

	/// Stores a proposal that beats the live stored one (if any) by the solution margin.
	fn keep_if_better(
		id: RequestId,
		request: &RequestOf<T>,
		by: T::AccountId,
		fills: Vec<ProposedFill>,
		score: Score,
		stored: Option<crate::proposals::LiveProposal<BalanceOf<T>>>,
	) -> DispatchResult {
		Self::ensure_beats(&score, &stored)?;
		let offers: Vec<_> =
			fills.iter().filter_map(|f| Offers::<T>::get(f.offer).map(|o| (f.offer, o))).collect();
		let cost = Self::total_cost(request, &fills, &offers);
		let count = fills.len() as u32;
		let proposal = Self::proposal_of(by.clone(), fills, &score, cost)?;
		Self::put_proposal(id, request.spec.gate_closure, proposal);
		Self::deposit_event(Event::MatchProposed {
			request: id,
			by,
			fills: count,
			covered_w: score.covered_w,
			score_w_price: score.cost,
			cost,
		});
		Ok(())
	}

	fn infeasible_error(e: Infeasible) -> DispatchError {
		match e {
			Infeasible::Empty => Error::<T>::EmptySolution,
			Infeasible::UnknownCandidate => Error::<T>::UnknownOffer,
			Infeasible::DuplicateCandidate => Error::<T>::DuplicateFill,
			Infeasible::FillOutOfRange => Error::<T>::FillOutOfRange,
			Infeasible::PriceAboveMaximum => Error::<T>::PriceAboveMaximum,
			Infeasible::GroupOverCommitted => Error::<T>::OverCommitted,
			Infeasible::OverCovered => Error::<T>::OverCovered,
			Infeasible::NotFullyCovered => Error::<T>::InsufficientCover,
		}
		.into()
	}
}
