//! The market parameters governance sets, and their bounds.

use crate::pallet::*;
use frame_support::{ensure, pallet_prelude::*};

impl<T: Config> Pallet<T> {
	/// Puts `params` in force if they are in range: a positive horizon and a price cap (if any) within `MAX_PRICE_PER_KWH`.
	pub(crate) fn do_set_params(params: ParamsOf<T>) -> DispatchResult {
		ensure!(params.horizon_ms > 0, Error::<T>::InvalidParams);
		if let Some(cap) = &params.price_cap {
			Self::check_price(cap).map_err(|_| Error::<T>::InvalidParams)?;
		}
		Params::<T>::put(&params);
		Self::deposit_event(Event::ParamsSet { params });
		Ok(())
	}
}
