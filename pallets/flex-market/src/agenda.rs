//! The agenda: housekeeping that falls due at a time (expiry, settlement, pruning),
//! kept in one-minute buckets and worked off in `on_idle` as far as the block's
//! spare weight allows. Every task checks the state it finds, so a stale or
//! repeated task does nothing.

use crate::{pallet::*, Moment, OfferStatus, RequestId, RequestStatus, Task, WeightInfo};
use frame_support::{pallet_prelude::*, weights::WeightMeter};

/// Width of an agenda bucket in ms.
pub const BUCKET_MS: u64 = 60_000;
/// How many later buckets a task may spill into when its own is full.
pub const MAX_SPILL: u64 = 4;
/// Most empty buckets skipped in one block (catch-up after a long stall is gradual).
pub const MAX_BUCKETS_PER_BLOCK: u32 = 64;

impl<T: Config> Pallet<T> {
	/// Files `task` to run once the market's clock reaches `at`.
	pub(crate) fn schedule(at: Moment, task: Task) -> DispatchResult {
		let mut bucket = at / BUCKET_MS;
		match AgendaCursor::<T>::get() {
			Some(cursor) => bucket = bucket.max(cursor),
			None => AgendaCursor::<T>::put(Self::now() / BUCKET_MS),
		}
		for b in bucket..bucket + MAX_SPILL {
			if Agenda::<T>::try_mutate(b, |tasks| tasks.try_push(task)).is_ok() {
				return Ok(());
			}
		}
		Err(Error::<T>::AgendaFull.into())
	}

	/// Works off due tasks within `limit`; returns the weight used.
	pub fn work_off_agenda(limit: Weight) -> Weight {
		let mut meter = WeightMeter::with_limit(limit);
		if meter.try_consume(T::WeightInfo::agenda_bucket()).is_err() {
			return meter.consumed();
		}
		let Some(mut cursor) = AgendaCursor::<T>::get() else { return meter.consumed() };
		// A bucket is worked off once all of its minute has passed.
		let now_bucket = Self::now() / BUCKET_MS;
		let mut buckets = 0;
		while cursor < now_bucket && buckets < MAX_BUCKETS_PER_BLOCK {
			let tasks = Agenda::<T>::get(cursor);
			let mut done = 0;
			for task in tasks.iter() {
				let weight = Self::task_weight(task);
				if meter.try_consume(weight).is_err() {
					break;
				}
				Self::run_task(*task);
				done += 1;
			}
			if done < tasks.len() {
				let rest: alloc::vec::Vec<Task> = tasks.into_iter().skip(done).collect();
				Agenda::<T>::insert(cursor, BoundedVec::truncate_from(rest));
				break;
			}
			Agenda::<T>::remove(cursor);
			cursor += 1;
			buckets += 1;
			if meter.try_consume(T::WeightInfo::agenda_bucket()).is_err() {
				break;
			}
		}
		AgendaCursor::<T>::put(cursor);
		meter.consumed()
	}

	/// Worst-case weight of running `task` now.
	fn task_weight(task: &Task) -> Weight {
		let fills = |id: &RequestId| {
			Contracts::<T>::get(id).map(|c| c.fill_count).unwrap_or(0)
		};
		let read = T::DbWeight::get().reads(1);
		match task {
			Task::ExpireRequest(_) => T::WeightInfo::expire_request(),
			Task::ExpireOffer(_) => T::WeightInfo::expire_offer(),
			Task::Settle(id) => read.saturating_add(T::WeightInfo::settle(fills(id))),
			Task::Prune(id) => read.saturating_add(T::WeightInfo::prune(fills(id))),
		}
	}

	fn run_task(task: Task) {
		let result = frame_support::storage::with_storage_layer(|| match task {
			Task::ExpireRequest(id) => Self::do_expire_request(id).map(|_| ()),
			Task::ExpireOffer(id) => {
				Self::do_expire_offer(id);
				Ok(())
			},
			Task::Settle(id) => match Requests::<T>::get(id).map(|r| r.status) {
				Some(RequestStatus::Accepted) => Self::do_settle(id).map(|_| ()),
				_ => Ok(()),
			},
			Task::Prune(id) => Self::do_prune(id).map(|_| ()),
		});
		if let Err(e) = result {
			log::warn!(target: crate::LOG_TARGET, "agenda task {task:?} failed: {e:?}");
		}
	}

	/// Removes a finished request with its proposal, contract, fills and matched offers.
	/// Returns the number of fills removed; a no-op for requests not finished.
	pub fn do_prune(id: RequestId) -> Result<u32, DispatchError> {
		let Some(request) = Requests::<T>::get(id) else { return Ok(0) };
		if matches!(request.status, RequestStatus::Open | RequestStatus::Accepted) {
			return Ok(0);
		}
		let fills = Contracts::<T>::take(id).map(|c| c.fill_count).unwrap_or(0);
		for index in 0..fills {
			if let Some(fill) = Fills::<T>::take(id, index) {
				if Offers::<T>::get(fill.offer).map(|o| o.status) ==
					Some(OfferStatus::Matched(id))
				{
					Offers::<T>::remove(fill.offer);
				}
			}
		}
		Proposals::<T>::remove(id);
		Requests::<T>::remove(id);
		Self::deposit_event(Event::RequestPruned { request: id });
		Ok(fills)
	}
}
