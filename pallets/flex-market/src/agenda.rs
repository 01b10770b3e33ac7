//! The agenda: housekeeping that falls due at a time (expiry, settlement, pruning),
//! kept in one-minute buckets and worked off in `on_idle` as far as the block's
//! spare weight allows. Every task checks the state it finds, so a stale or
//! repeated task does nothing.

use crate::{pallet::*, Moment, OfferStatus, RequestId, RequestStatus, Task, WeightInfo};
use frame_support::{pallet_prelude::*, weights::WeightMeter};

/// Width of an agenda bucket in ms.
pub const BUCKET_MS: u64 = 60_000;
/// Most minutes stepped over in one block (catch-up after a long stall is gradual).
/// At the fastest market clock (`MAX_CLOCK_SCALE`) and 6-second blocks, a block moves
/// market time by 60 minutes: a quarter of this.
pub const MAX_BUCKETS_PER_BLOCK: u32 = 256;
/// A settlement that failed is tried again this much later (ms of market time).
pub const SETTLE_RETRY_MS: u64 = BUCKET_MS;

impl<T: Config> Pallet<T> {
	/// Files `task` to run once the market's clock reaches `at`: into the last page of
	/// its minute, or a new page when that one is full.
	pub(crate) fn schedule(at: Moment, task: Task) -> DispatchResult {
		let mut bucket = at / BUCKET_MS;
		match AgendaCursor::<T>::get() {
			Some(cursor) => bucket = bucket.max(cursor),
			None => AgendaCursor::<T>::put(Self::now() / BUCKET_MS),
		}
		let pages = AgendaPages::<T>::get(bucket);
		if pages > 0 && Agenda::<T>::try_mutate(bucket, pages - 1, |t| t.try_push(task)).is_ok() {
			return Ok(());
		}
		let page = BoundedVec::try_from(alloc::vec![task]).map_err(|_| Error::<T>::TooLong)?;
		Agenda::<T>::insert(bucket, pages, page);
		AgendaPages::<T>::insert(bucket, pages.checked_add(1).ok_or(Error::<T>::Overflow)?);
		Ok(())
	}

	/// Works off due tasks within `limit`, a page at a time; returns the weight used.
	pub(crate) fn work_off_agenda(limit: Weight) -> Weight {
		let mut meter = WeightMeter::with_limit(limit);
		if meter.try_consume(T::WeightInfo::agenda_bucket()).is_err() {
			return meter.consumed();
		}
		let Some(mut cursor) = AgendaCursor::<T>::get() else { return meter.consumed() };
		// A minute is worked off once all of it has passed.
		let now_bucket = Self::now() / BUCKET_MS;
		let mut steps = 0;
		'minutes: while cursor < now_bucket && steps < MAX_BUCKETS_PER_BLOCK {
			let mut pages = AgendaPages::<T>::get(cursor);
			while pages > 0 {
				let page = pages - 1;
				let tasks = Agenda::<T>::get(cursor, page);
				let mut done = 0;
				for task in tasks.iter() {
					if meter.try_consume(Self::task_weight(task)).is_err() {
						break;
					}
					Self::run_task(*task);
					done += 1;
				}
				if done < tasks.len() {
					let rest: alloc::vec::Vec<Task> = tasks.into_iter().skip(done).collect();
					Agenda::<T>::insert(cursor, page, BoundedVec::truncate_from(rest));
					AgendaPages::<T>::insert(cursor, pages);
					break 'minutes;
				}
				Agenda::<T>::remove(cursor, page);
				pages = page;
				if meter.try_consume(T::WeightInfo::agenda_bucket()).is_err() {
					AgendaPages::<T>::insert(cursor, pages);
					break 'minutes;
				}
			}
			AgendaPages::<T>::remove(cursor);
			cursor += 1;
			steps += 1;
		}
		AgendaCursor::<T>::put(cursor);
		meter.consumed()
	}

	/// Worst-case weight of running `task` now.
	fn task_weight(task: &Task) -> Weight {
		let fills = |id: &RequestId| Contracts::<T>::get(id).map(|c| c.fill_count).unwrap_or(0);
		let read = T::DbWeight::get().reads(1);
		match task {
			Task::CloseGate(id) => {
				let book = Requests::<T>::get(id)
					.map(|r| BookSize::<T>::get((r.spec.location, r.spec.direction)))
					.unwrap_or(0);
				let stored = Self::stored_fills(*id);
				read.saturating_mul(3)
					.saturating_add(T::WeightInfo::match_request(book))
					.saturating_add(T::WeightInfo::check_proposal(stored))
			},
			Task::ExpireRequest(id) => {
				read.saturating_add(T::WeightInfo::expire_request(Self::stored_fills(*id)))
			},
			Task::Settle(id) => read.saturating_add(T::WeightInfo::settle(fills(id))),
			Task::Prune(id) => read.saturating_add(T::WeightInfo::prune(fills(id))),
		}
	}

	fn run_task(task: Task) {
		let result = frame_support::storage::with_storage_layer(|| match task {
			Task::CloseGate(id) => Self::do_close_gate(id).map(|_| ()),
			Task::ExpireRequest(id) => Self::do_expire_request(id).map(|_| ()),
			Task::Settle(id) => match Requests::<T>::get(id).map(|r| r.status) {
				Some(RequestStatus::Accepted) => Self::do_settle(id).map(|_| ()),
				_ => Ok(()),
			},
			Task::Prune(id) => Self::do_prune(id).map(|_| ()),
		});
		if let Err(e) = result {
			log::warn!(target: crate::LOG_TARGET, "agenda task {task:?} failed: {e:?}");
			// A settlement is never given up: it waits for the next try.
			if let Task::Settle(id) = task {
				let retry = Self::now().saturating_add(SETTLE_RETRY_MS);
				if let Err(e) = Self::schedule(retry, task) {
					log::error!(target: crate::LOG_TARGET, "cannot retry settling {id}: {e:?}");
				}
			}
		}
	}

	/// Removes a finished request with its proposal, contract, fills and matched offers.
	/// Returns the number of fills removed; a no-op for requests not finished.
	pub(crate) fn do_prune(id: RequestId) -> Result<u32, DispatchError> {
		let Some(request) = Requests::<T>::get(id) else { return Ok(0) };
		if matches!(request.status, RequestStatus::Open | RequestStatus::Accepted) {
			return Ok(0);
		}
		let fills = Contracts::<T>::take(id).map(|c| c.fill_count).unwrap_or(0);
		for index in 0..fills {
			if let Some(fill) = Fills::<T>::take(id, index) {
				if Offers::<T>::get(fill.offer).map(|o| o.status) == Some(OfferStatus::Matched(id))
				{
					Offers::<T>::remove(fill.offer);
				}
			}
		}
		Self::drop_proposal(id);
		Requests::<T>::remove(id);
		Self::deposit_event(Event::RequestPruned { request: id });
		Ok(fills)
	}
}
