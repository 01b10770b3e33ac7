//! DSO requests for flexibility: post, edit, cancel, and how they finish.

use crate::{pallet::*, Moment, Request, RequestId, RequestStatus, Task, Window};
use frame_support::{ensure, pallet_prelude::*};
use sp_runtime::traits::Zero;

impl<T: Config> Pallet<T> {
	/// Posts a request of `dso` at one of its locations.
	pub(crate) fn do_create_request(dso: T::AccountId, spec: RequestSpecOf<T>) -> DispatchResult {
		Self::check_request_spec(&dso, &spec)?;
		let location = spec.location;
		ensure!(
			OpenRequestCount::<T>::get(location) < T::MaxOpenRequestsPerLocation::get(),
			Error::<T>::TooManyRequests
		);
		let params = Params::<T>::get();
		Self::check_price_cap(&spec, &params)?;
		let deposit = params.request_deposit;
		Self::hold_deposit(&dso, deposit)?;
		let id = NextRequestId::<T>::get();
		NextRequestId::<T>::put(id.checked_add(1).ok_or(Error::<T>::Overflow)?);
		Self::schedule(spec.gate_closure, Task::CloseGate(id))?;
		Self::schedule(spec.window.start, Task::ExpireRequest(id))?;
		OpenRequests::<T>::insert(location, id, ());
		OpenRequestCount::<T>::mutate(location, |n| *n += 1);
		Dsos::<T>::mutate(&dso, |d| {
			if let Some(d) = d {
				d.active_requests += 1
			}
		});
		Requests::<T>::insert(
			id,
			Request { dso: dso.clone(), spec: spec.clone(), status: RequestStatus::Open, deposit },
		);
		Self::deposit_event(Event::RequestCreated { request: id, dso, spec });
		Ok(())
	}

	/// Replaces the description of an open request before its gate closure. Returns
	/// the number of fills of the proposal it dropped.
	pub(crate) fn do_update_request(
		dso: T::AccountId,
		id: RequestId,
		spec: RequestSpecOf<T>,
	) -> Result<u32, DispatchError> {
		let mut request = Self::open_request_of(&dso, id)?;
		Self::check_request_spec(&dso, &spec)?;
		let old = request.spec.location;
		if spec.location != old {
			ensure!(
				OpenRequestCount::<T>::get(spec.location) < T::MaxOpenRequestsPerLocation::get(),
				Error::<T>::TooManyRequests
			);
			OpenRequests::<T>::remove(old, id);
			OpenRequestCount::<T>::mutate(old, |n| *n = n.saturating_sub(1));
			OpenRequests::<T>::insert(spec.location, id, ());
			OpenRequestCount::<T>::mutate(spec.location, |n| *n += 1);
		}
		if spec.gate_closure != request.spec.gate_closure {
			Self::schedule(spec.gate_closure, Task::CloseGate(id))?;
		}
		if spec.window.start != request.spec.window.start {
			Self::schedule(spec.window.start, Task::ExpireRequest(id))?;
		}
		Self::check_price_cap(&spec, &Params::<T>::get())?;
		request.spec = spec.clone();
		Requests::<T>::insert(id, request);
		let dropped = Self::drop_proposal(id);
		Self::deposit_event(Event::RequestUpdated { request: id, spec });
		Ok(dropped)
	}

	/// Cancels an open request before its gate closure. Returns the number of fills of
	/// the proposal it dropped.
	pub(crate) fn do_cancel_request(
		dso: T::AccountId,
		id: RequestId,
	) -> Result<u32, DispatchError> {
		let request = Self::open_request_of(&dso, id)?;
		let dropped = Self::finish_request(id, request, RequestStatus::Cancelled)?;
		Self::deposit_event(Event::RequestCancelled { request: id });
		Ok(dropped)
	}

	/// Expires a request whose window started without an accepted match. Returns
	/// whether it did; a no-op for requests in any other state.
	pub(crate) fn do_expire_request(id: RequestId) -> Result<bool, DispatchError> {
		let Some(request) = Requests::<T>::get(id) else { return Ok(false) };
		if request.status != RequestStatus::Open || Self::now() < request.spec.window.start {
			return Ok(false);
		}
		Self::finish_request(id, request, RequestStatus::Expired)?;
		Self::deposit_event(Event::RequestExpired { request: id });
		Ok(true)
	}

	/// Ends a request's life in `status`: leaves the open index, drops its proposal,
	/// returns its deposit and schedules its pruning. Returns the number of fills of the
	/// proposal it dropped.
	pub(crate) fn finish_request(
		id: RequestId,
		mut request: RequestOf<T>,
		status: RequestStatus,
	) -> Result<u32, DispatchError> {
		let retention = Params::<T>::get().retention_ms;
		Self::schedule(Self::now().saturating_add(retention), Task::Prune(id))?;
		let mut dropped = 0;
		if request.status == RequestStatus::Open {
			let location = request.spec.location;
			OpenRequests::<T>::remove(location, id);
			OpenRequestCount::<T>::mutate(location, |n| *n = n.saturating_sub(1));
			dropped = Self::drop_proposal(id);
		}
		Dsos::<T>::mutate(&request.dso, |d| {
			if let Some(d) = d {
				d.active_requests = d.active_requests.saturating_sub(1)
			}
		});
		Self::release_deposit(&request.dso, request.deposit);
		request.deposit = Zero::zero();
		request.status = status;
		Requests::<T>::insert(id, request);
		Ok(dropped)
	}

	/// The open request `id` of `dso`, before its gate closure.
	fn open_request_of(dso: &T::AccountId, id: RequestId) -> Result<RequestOf<T>, DispatchError> {
		let request = Requests::<T>::get(id).ok_or(Error::<T>::UnknownRequest)?;
		ensure!(&request.dso == dso, Error::<T>::NotRequestOwner);
		ensure!(request.status == RequestStatus::Open, Error::<T>::RequestNotOpen);
		ensure!(Self::now() < request.spec.gate_closure, Error::<T>::GateClosed);
		Ok(request)
	}

	fn check_request_spec(dso: &T::AccountId, spec: &RequestSpecOf<T>) -> DispatchResult {
		ensure!(&Self::operator_of(spec.location)? == dso, Error::<T>::NotLocationOperator);
		let now = Self::now();
		Self::check_window(&spec.window, now)?;
		ensure!(
			now < spec.gate_closure && spec.gate_closure <= spec.window.start,
			Error::<T>::InvalidGateClosure
		);
		ensure!(spec.power_w > 0, Error::<T>::PowerOutOfRange);
		Self::check_price(&spec.max_price)?;
		Ok(())
	}

	/// A request may not offer more per kWh than the market's price cap.
	pub(crate) fn check_price_cap(spec: &RequestSpecOf<T>, params: &ParamsOf<T>) -> DispatchResult {
		match params.price_cap {
			Some(cap) if spec.max_price > cap => Err(Error::<T>::PriceAboveCap.into()),
			_ => Ok(()),
		}
	}

	/// A window must be non-empty, not longer than `MaxWindowMs`, start after `now`
	/// and no further ahead than the market's horizon.
	pub(crate) fn check_window(window: &Window, now: Moment) -> DispatchResult {
		ensure!(
			window.start < window.end
				&& window.duration_ms() <= T::MaxWindowMs::get()
				&& now < window.start,
			Error::<T>::InvalidWindow
		);
		let horizon = Params::<T>::get().horizon_ms;
		ensure!(window.start <= now.saturating_add(horizon), Error::<T>::WindowTooFar);
		Ok(())
	}
}
