//! Settlement: each fill is paid by delivered energy out of escrow; the rest goes
//! back to the DSO. No report by the deadline counts as zero delivery.

use crate::{buying::energy_cost, pallet::*, FillOutcome, RequestId, RequestStatus};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
};
use sp_runtime::{traits::Saturating, Perbill, SaturatedConversion};

/// Settlement of one fill in plain numbers (amounts in the smallest currency unit).
///
/// The FSP earns `min(delivered, contracted) × price`; below `penalty_threshold` a
/// penalty of `penalty_rate × undelivered × price` is deducted (never more than the
/// earnings); whatever of `cost` is not paid is refunded.
pub fn settle_fill(
	contracted_wh: u64,
	delivered_wh: u64,
	price: u128,
	cost: u128,
	penalty_threshold: Perbill,
	penalty_rate: Perbill,
) -> FillOutcome<u128> {
	let counted = delivered_wh.min(contracted_wh);
	let delivery_rate = if contracted_wh == 0 {
		Perbill::one()
	} else {
		Perbill::from_rational(counted, contracted_wh)
	};
	let earned = energy_cost(counted, price).min(cost);
	let penalty = if delivery_rate < penalty_threshold {
		penalty_rate.mul_floor(energy_cost(contracted_wh - counted, price)).min(earned)
	} else {
		0
	};
	let paid = earned - penalty;
	FillOutcome { delivery_rate, paid, penalty, refunded: cost - paid }
}

impl<T: Config> Pallet<T> {
	/// Settles every fill of the due request `id`. Returns the number of fills.
	pub fn do_settle(id: RequestId) -> Result<u32, DispatchError> {
		let request = Requests::<T>::get(id).ok_or(Error::<T>::UnknownRequest)?;
		ensure!(request.status == RequestStatus::Accepted, Error::<T>::NotAccepted);
		ensure!(Self::now() >= Self::report_deadline(&request), Error::<T>::SettlementNotDue);
		let mut contract = Contracts::<T>::get(id).ok_or(Error::<T>::NotAccepted)?;
		let params = Params::<T>::get();
		let escrow = HoldReason::Escrow.into();
		let (mut delivered_wh, mut paid, mut refunded) = (0u64, 0u128, 0u128);
		for index in 0..contract.fill_count {
			let Some(mut fill) = Fills::<T>::get(id, index) else { continue };
			let delivered = fill.report.map(|r| r.delivered_wh).unwrap_or(0);
			let o = settle_fill(
				fill.energy_wh,
				delivered,
				fill.price.saturated_into(),
				fill.cost.saturated_into(),
				params.penalty_threshold,
				params.penalty_rate,
			);
			let outcome = FillOutcome {
				delivery_rate: o.delivery_rate,
				paid: o.paid.saturated_into::<BalanceOf<T>>(),
				penalty: o.penalty.saturated_into::<BalanceOf<T>>(),
				refunded: o.refunded.saturated_into::<BalanceOf<T>>(),
			};
			T::Currency::transfer_on_hold(
				&escrow,
				&request.dso,
				&fill.fsp,
				outcome.paid,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			)?;
			T::Currency::release(&escrow, &request.dso, outcome.refunded, Precision::Exact)?;
			Commitments::<T>::mutate(fill.asset, |c| c.retain(|c| c.request != id));
			contract.escrow = contract.escrow.saturating_sub(outcome.paid + outcome.refunded);
			delivered_wh += delivered.min(fill.energy_wh);
			paid += o.paid;
			refunded += o.refunded;
			fill.outcome = Some(outcome);
			Self::deposit_event(Event::FillSettled {
				request: id,
				fill: index,
				asset: fill.asset,
				fsp: fill.fsp.clone(),
				contracted_wh: fill.energy_wh,
				delivered_wh: delivered,
				delivery_rate: outcome.delivery_rate,
				paid: outcome.paid,
				penalty: outcome.penalty,
				refunded: outcome.refunded,
			});
			Fills::<T>::insert(id, index, fill);
		}
		let fills = contract.fill_count;
		let delivery_rate = if contract.energy_wh == 0 {
			Perbill::one()
		} else {
			Perbill::from_rational(delivered_wh, contract.energy_wh)
		};
		Self::deposit_event(Event::RequestSettled {
			request: id,
			contracted_wh: contract.energy_wh,
			delivered_wh,
			delivery_rate,
			paid: paid.saturated_into(),
			refunded: refunded.saturated_into(),
		});
		Contracts::<T>::insert(id, contract);
		Self::finish_request(id, request, RequestStatus::Settled)?;
		Ok(fills)
	}
}
