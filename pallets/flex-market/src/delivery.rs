//! Delivery: the DSO's metering oracle reports, once per fill, what was delivered.
//!
//! Reports are taken from the window's start until the contract's reporting deadline:
//! the window's end plus the settlement grace (`MarketParams::settlement_grace_ms`) in
//! force when the match was bought, stored as `Contract::report_deadline`.

use crate::{pallet::*, DeliveryReport, RequestId, RequestStatus};
use frame_support::{ensure, pallet_prelude::*};
use sp_core::H256;

impl<T: Config> Pallet<T> {
	/// Records the delivery of fill `index` of request `id`, reported by `oracle`.
	pub(crate) fn do_report_delivery(
		oracle: T::AccountId,
		id: RequestId,
		index: u32,
		delivered_wh: u64,
		samples_root: H256,
	) -> DispatchResult {
		let request = Requests::<T>::get(id).ok_or(Error::<T>::UnknownRequest)?;
		let dso = Dsos::<T>::get(&request.dso).ok_or(Error::<T>::UnknownDso)?;
		ensure!(dso.oracles.contains(&oracle), Error::<T>::NotOracle);
		ensure!(request.status == RequestStatus::Accepted, Error::<T>::NotAccepted);
		let contract = Contracts::<T>::get(id).ok_or(Error::<T>::NotAccepted)?;
		let now = Self::now();
		ensure!(now < contract.report_deadline, Error::<T>::ReportTooLate);
		ensure!(request.spec.window.start <= now, Error::<T>::WindowNotStarted);
		let asset = Fills::<T>::try_mutate(id, index, |fill| {
			let fill = fill.as_mut().ok_or(Error::<T>::UnknownFill)?;
			ensure!(fill.report.is_none(), Error::<T>::AlreadyReported);
			fill.report = Some(DeliveryReport { delivered_wh, samples_root, reported_at: now });
			Ok::<_, DispatchError>(fill.asset)
		})?;
		Contracts::<T>::insert(id, crate::Contract { reported: contract.reported + 1, ..contract });
		Self::deposit_event(Event::DeliveryReported {
			request: id,
			fill_index: index,
			asset,
			delivered_wh,
			samples_root,
		});
		Ok(())
	}
}
