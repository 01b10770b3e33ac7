//! Delivery: the DSO's metering oracle reports, once per fill, what was delivered.

use crate::{pallet::*, DeliveryReport, RequestId, RequestStatus};
use frame_support::{ensure, pallet_prelude::*};
use sp_core::H256;

impl<T: Config> Pallet<T> {
	/// Records the delivery of fill `index` of request `id`, reported by `oracle`.
	pub fn do_report_delivery(
		oracle: T::AccountId,
		id: RequestId,
		index: u32,
		delivered_wh: u64,
		samples_root: H256,
	) -> DispatchResult {
		let request = Requests::<T>::get(id).ok_or(Error::<T>::UnknownRequest)?;
		let dso = Dsos::<T>::get(&request.dso).ok_or(Error::<T>::UnknownDso)?;
		ensure!(dso.oracles.contains(&oracle), Error::<T>::NotOracle);
		let now = Self::now();
		ensure!(now < Self::report_deadline(&request), Error::<T>::ReportTooLate);
		ensure!(request.status == RequestStatus::Accepted, Error::<T>::NotAccepted);
		ensure!(request.spec.window.start <= now, Error::<T>::WindowNotStarted);
		let asset = Fills::<T>::try_mutate(id, index, |fill| {
			let fill = fill.as_mut().ok_or(Error::<T>::UnknownFill)?;
			ensure!(fill.report.is_none(), Error::<T>::AlreadyReported);
			fill.report = Some(DeliveryReport { delivered_wh, samples_root, reported_at: now });
			Ok::<_, DispatchError>(fill.asset)
		})?;
		Contracts::<T>::mutate(id, |c| {
			if let Some(c) = c {
				c.reported += 1
			}
		});
		Self::deposit_event(Event::DeliveryReported {
			request: id,
			fill: index,
			asset,
			delivered_wh,
			samples_root,
		});
		Ok(())
	}

	/// Reports on `request` are taken until this time; settlement is due from it.
	pub fn report_deadline(request: &RequestOf<T>) -> crate::Moment {
		request.spec.window.end.saturating_add(Params::<T>::get().settlement_grace_ms)
	}
}
