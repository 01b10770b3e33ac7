//! Phase 3: the assets. Each FSP registers and adds its asset, whose device
//! reference names the endpoint the bridge will reach it at (a Modbus port or an OCPP
//! charge point id, assigned once here); the chain's `AssetRegistered` event whose
//! owner is the FSP gives the asset's id.

use crate::{
	context::{say, Endpoint, Run},
	genesis::LOCATION,
	market::{account, all, Events, Pending},
	scenario::{AssetPlan, Device},
};
use anyhow::{Context, Result};
use flex_bridge::chain::runtime::{
	self,
	flex_market::events::AssetRegistered,
	runtime_types::{bounded_collections::bounded_vec::BoundedVec, pallet_flex_market::types as t},
};
use subxt::utils::AccountId32;
use subxt_signer::sr25519::Keypair;

/// Everything a running scenario knows about one of its assets.
pub struct Live {
	/// The scenario's plan for it.
	pub plan: AssetPlan,
	/// Its FSP.
	pub fsp: Keypair,
	/// Its id on chain.
	pub asset: u32,
	/// Where the bridge reaches its device.
	pub endpoint: Endpoint,
}

/// The chain's kind of an asset's device.
fn kind(device: Device) -> t::AssetKind {
	match device {
		Device::ModbusBattery => t::AssetKind::Battery,
		Device::OcppCharger => t::AssetKind::V2gCharger,
	}
}

/// What an FSP registers for `plan` reached at `endpoint`.
fn spec(plan: &AssetPlan, endpoint: &Endpoint) -> t::AssetSpec {
	t::AssetSpec {
		kind: kind(plan.device),
		location: LOCATION,
		max_export_w: plan.offer_w,
		max_import_w: plan.offer_w,
		capacity_wh: plan.capacity_wh as u32,
		min_soc_percent: plan.min_soc_percent,
		device: BoundedVec(endpoint.device().into_bytes()),
	}
}

/// The id of the asset that `owner` registered at the pilot's location as `kind`,
/// from the `AssetRegistered` events among `events`.
fn registered(events: &[Events], owner: &AccountId32, device: Device) -> Result<u32> {
	for e in events.iter().flat_map(|e| e.find::<AssetRegistered>()) {
		let e = e?;
		let same_kind = std::mem::discriminant(&e.kind) == std::mem::discriminant(&kind(device));
		if &e.owner == owner && e.location == LOCATION && same_kind {
			return Ok(e.asset);
		}
	}
	anyhow::bail!("no AssetRegistered event for {owner} at location {LOCATION}")
}

/// The FSPs register and add their assets; their ids from the chain.
pub async fn register(run: &Run) -> Result<Vec<Live>> {
	let fsps = &run.cast.fsps;
	say(format!("{} FSPs register and add their assets", fsps.len()));
	let endpoints = run.ports.endpoints(&run.sc.assets);
	let m = &run.nodes.fsp;
	let mut round: Vec<Pending> = Vec::new();
	for ((plan, fsp), endpoint) in run.sc.assets.iter().zip(fsps).zip(&endpoints) {
		let calls = runtime::transactions().flex_market();
		round.push(Box::pin(m.submit("register_fsp", calls.register_fsp(), fsp)));
		let asset = calls.register_asset(spec(plan, endpoint));
		round.push(Box::pin(m.submit("register_asset", asset, fsp)));
	}
	let events = all(round).await?;
	run.sc
		.assets
		.iter()
		.zip(fsps)
		.zip(endpoints)
		.map(|((plan, fsp), endpoint)| {
			let asset = registered(&events, &account(fsp), plan.device)
				.with_context(|| format!("{}'s asset", plan.name))?;
			Ok(Live { plan: plan.clone(), fsp: fsp.clone(), asset, endpoint })
		})
		.collect()
}
