//! Settlement: each fill is paid by delivered energy out of escrow; the rest goes
//! back to the DSO. No report by the deadline counts as zero delivery.
//!
//! Settlement always completes. A payout that cannot be transferred to its FSP (the
//! FSP's account was reaped and the payout is below the existential deposit, say)
//! stays held from the DSO under `HoldReason::Unclaimed`, recorded in
//! `UnclaimedPayouts`, until the FSP claims it with `claim_payout`.

use crate::{buying::energy_cost, pallet::*, FillOutcome, RequestId, RequestStatus};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
};
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill, SaturatedConversion,
};

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
	/// Settles every fill of the due request `id`. Returns the number of fills. Once
	/// the request is due this cannot fail: a payout that cannot be transferred is
	/// parked for its FSP to claim.
	pub(crate) fn do_settle(id: RequestId) -> Result<u32, DispatchError> {
		let request = Requests::<T>::get(id).ok_or(Error::<T>::UnknownRequest)?;
		ensure!(request.status == RequestStatus::Accepted, Error::<T>::NotAccepted);
		let mut contract = Contracts::<T>::get(id).ok_or(Error::<T>::NotAccepted)?;
		ensure!(Self::now() >= contract.report_deadline, Error::<T>::SettlementNotDue);
		let params = Params::<T>::get();
		let mut totals = Totals::default();
		for index in 0..contract.fill_count {
			let Some(fill) = Fills::<T>::get(id, index) else { continue };
			let outcome = Self::settle_one(id, index, &request.dso, fill, &params, &mut totals);
			contract.escrow =
				contract.escrow.saturating_sub(outcome.paid.saturating_add(outcome.refunded));
		}
		let fills = contract.fill_count;
		let delivery_rate = if contract.energy_wh == 0 {
			Perbill::one()
		} else {
			Perbill::from_rational(totals.delivered_wh, contract.energy_wh)
		};
		Self::deposit_event(Event::RequestSettled {
			request: id,
			contracted_wh: contract.energy_wh,
			delivered_wh: totals.delivered_wh,
			delivery_rate,
			paid: totals.paid.saturated_into(),
			refunded: totals.refunded.saturated_into(),
		});
		Contracts::<T>::insert(id, contract);
		Self::finish_request(id, request, RequestStatus::Settled)?;
		Ok(fills)
	}

	/// Settles fill `index`: pays the FSP (or parks the payout), refunds the DSO,
	/// frees the asset's commitment and records the outcome.
	fn settle_one(
		id: RequestId,
		index: u32,
		dso: &T::AccountId,
		mut fill: FillOf<T>,
		params: &ParamsOf<T>,
		totals: &mut Totals,
	) -> FillOutcome<BalanceOf<T>> {
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
		Self::pay_out(id, dso, &fill.fsp, outcome.paid);
		Self::refund(dso, outcome.refunded);
		Commitments::<T>::mutate(fill.asset, |c| c.retain(|c| c.request != id));
		totals.delivered_wh = totals.delivered_wh.saturating_add(delivered.min(fill.energy_wh));
		totals.paid = totals.paid.saturating_add(o.paid);
		totals.refunded = totals.refunded.saturating_add(o.refunded);
		fill.outcome = Some(outcome);
		Self::deposit_event(Event::FillSettled {
			request: id,
			fill_index: index,
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
		outcome
	}

	/// Transfers `amount` from the DSO's escrow to `fsp`. If the transfer fails (for
	/// example below the existential deposit to an account that was reaped), the amount
	/// moves to the `Unclaimed` hold on the DSO's account and is recorded for the FSP.
	fn pay_out(id: RequestId, dso: &T::AccountId, fsp: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		let escrow = HoldReason::Escrow.into();
		let paid = frame_support::storage::with_storage_layer(|| {
			T::Currency::transfer_on_hold(
				&escrow,
				dso,
				fsp,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			)
		});
		if paid.is_ok() {
			return;
		}
		let parked = frame_support::storage::with_storage_layer(|| {
			T::Currency::release(&escrow, dso, amount, Precision::Exact)?;
			T::Currency::hold(&HoldReason::Unclaimed.into(), dso, amount)
		});
		if let Err(e) = parked {
			// Cannot happen: the escrow holds the amount, and releasing it frees as much.
			log::error!(target: crate::LOG_TARGET, "payout of {id} left in escrow: {e:?}");
			return;
		}
		UnclaimedPayouts::<T>::mutate(fsp, id, |entry| {
			let before = entry.as_ref().map(|(_, a)| *a).unwrap_or_else(Zero::zero);
			*entry = Some((dso.clone(), before.saturating_add(amount)));
		});
		Self::deposit_event(Event::PayoutUnclaimed {
			request: id,
			fsp: fsp.clone(),
			dso: dso.clone(),
			amount,
		});
	}

	/// Releases `amount` of the DSO's escrow back to it.
	fn refund(dso: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		let released =
			T::Currency::release(&HoldReason::Escrow.into(), dso, amount, Precision::Exact);
		if let Err(e) = released {
			log::error!(target: crate::LOG_TARGET, "refund of {amount:?} failed: {e:?}");
		}
	}

	/// Transfers the payout of request `id` parked for `fsp` at settlement.
	pub(crate) fn do_claim_payout(fsp: T::AccountId, id: RequestId) -> DispatchResult {
		let (dso, amount) =
			UnclaimedPayouts::<T>::get(&fsp, id).ok_or(Error::<T>::NoUnclaimedPayout)?;
		T::Currency::transfer_on_hold(
			&HoldReason::Unclaimed.into(),
			&dso,
			&fsp,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		)?;
		UnclaimedPayouts::<T>::remove(&fsp, id);
		Self::deposit_event(Event::PayoutClaimed { request: id, fsp, amount });
		Ok(())
	}
}

/// What a settlement paid so far, in plain numbers.
#[derive(Default)]
struct Totals {
	delivered_wh: u64,
	paid: u128,
	refunded: u128,
}
