//! The chain side: follows finalized blocks, reads the market's events and storage,
//! and posts delivery reports signed by the oracle key. Types come from the runtime's
//! metadata (`bridge/metadata/flexchain.scale`, refreshed by `scripts/refresh-metadata.sh`).

pub mod error;
pub mod ss58;

pub use error::ChainError;
use error::{from_finalized, node};

use crate::clock::Clock;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use subxt::{utils::H256, OnlineClient, SubstrateConfig};
use subxt_signer::{sr25519::Keypair, SecretUri};

/// Types of the flexchain runtime, generated from its metadata.
#[subxt::subxt(runtime_metadata_path = "metadata/flexchain.scale")]
pub mod runtime {}

use runtime::{
	flex_market::events as ev,
	runtime_types::pallet_flex_market::{
		pallet::Error as MarketError, types::Direction as ChainDirection,
	},
};

/// The chain's SS58 prefix.
pub const SS58_PREFIX: u16 = 7171;

/// Which way a fill delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
	/// Export / discharge.
	Up,
	/// Import / charge.
	Down,
}

/// A bought fill: what the bridge dispatches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fill {
	/// The request.
	pub request: u32,
	/// Index of the fill in the match.
	pub fill: u32,
	/// The offer taken.
	pub offer: u64,
	/// The asset.
	pub asset: u32,
	/// The asset's device reference.
	pub device: String,
	/// The FSP (SS58).
	pub fsp: String,
	/// Window start, market ms.
	pub start_ms: u64,
	/// Window end, market ms.
	pub end_ms: u64,
	/// Which way.
	pub direction: Direction,
	/// Contracted power, W.
	pub power_w: u32,
	/// Contracted energy, Wh.
	pub energy_wh: u64,
	/// Price per kWh in plancks.
	pub price: u128,
	/// Contracted cost in plancks.
	pub cost: u128,
	/// Reports are taken until then (market ms): the window's end plus the settlement
	/// grace in force when the match was bought.
	#[serde(default)]
	pub report_deadline_ms: u64,
}

/// A fill bought for one of the bridge's assets and not yet reported, found in the
/// market's storage (catching up after an outage or on a fresh store).
#[derive(Clone, Debug, PartialEq)]
pub struct OpenFill {
	/// The fill as the event would have told it.
	pub fill: Fill,
	/// Whether the chain has its report already.
	pub reported: bool,
}

/// A market event the bridge acts on.
#[derive(Clone, Debug, PartialEq)]
pub enum MarketEvent {
	/// A match was proposed for a request.
	MatchProposed {
		/// The request.
		request: u32,
	},
	/// A fill was bought.
	FillContracted(Fill),
	/// A delivery report landed.
	DeliveryReported {
		/// The request.
		request: u32,
		/// The fill.
		fill: u32,
		/// Delivered Wh.
		delivered_wh: u64,
	},
	/// A fill was settled.
	FillSettled {
		/// The request.
		request: u32,
		/// The fill.
		fill: u32,
		/// The asset.
		asset: u32,
		/// The FSP (SS58).
		fsp: String,
		/// Contracted Wh.
		contracted_wh: u64,
		/// Delivered Wh.
		delivered_wh: u64,
		/// Delivery rate in parts per billion.
		rate_ppb: u32,
		/// Paid to the FSP, plancks.
		paid: u128,
		/// Penalty, plancks.
		penalty: u128,
		/// Returned to the DSO, plancks.
		refunded: u128,
	},
	/// Governance changed the pace of the market clock.
	ClockSet {
		/// Market ms per chain ms.
		scale: u32,
	},
}

/// How a report submission ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportOutcome {
	/// In a finalized block now.
	Posted,
	/// The chain already had a report for that fill.
	AlreadyReported,
}

fn direction(d: &ChainDirection) -> Direction {
	match d {
		ChainDirection::Up => Direction::Up,
		ChainDirection::Down => Direction::Down,
	}
}

/// A connection to a node with the oracle's key.
pub struct Chain {
	api: OnlineClient<SubstrateConfig>,
	signer: Keypair,
	/// The next nonce to use while earlier reports are not finalized yet.
	next_nonce: tokio::sync::Mutex<Option<u64>>,
}

impl Chain {
	/// Connects to `url` and loads the oracle key from `secret_uri`.
	pub async fn connect(url: &str, secret_uri: &str) -> Result<Self, ChainError> {
		let uri = SecretUri::from_str(secret_uri)
			.map_err(|_| ChainError::Key("not a valid secret URI".into()))?;
		let signer =
			Keypair::from_uri(&uri).map_err(|_| ChainError::Key("cannot derive a key".into()))?;
		let api = if url.starts_with("ws://") {
			OnlineClient::<SubstrateConfig>::from_insecure_url(url).await
		} else {
			OnlineClient::<SubstrateConfig>::from_url(url).await
		}
		.map_err(node)?;
		Ok(Self { api, signer, next_nonce: Default::default() })
	}

	/// The oracle's account (SS58).
	pub fn oracle(&self) -> String {
		ss58::encode(&self.signer.public_key().0, SS58_PREFIX)
	}

	/// Number of the latest finalized block.
	pub async fn finalized(&self) -> Result<u64, ChainError> {
		Ok(self.api.at_current_block().await.map_err(node)?.block_number())
	}

	/// The market events of block `number`.
	pub async fn events(&self, number: u64) -> Result<Vec<MarketEvent>, ChainError> {
		let at = self.api.at_block(number).await.map_err(node)?;
		let events = at.events().fetch().await.map_err(node)?;
		let mut out = Vec::new();
		for e in events.iter() {
			let e = e.map_err(node)?;
			if e.pallet_name() != "FlexMarket" {
				continue;
			}
			if let Some(m) = e.decode_fields_as::<ev::MatchProposed>() {
				out.push(MarketEvent::MatchProposed { request: m.map_err(node)?.request });
			} else if let Some(f) = e.decode_fields_as::<ev::FillContracted>() {
				let f = f.map_err(node)?;
				out.push(MarketEvent::FillContracted(Fill {
					request: f.request,
					fill: f.fill_index,
					offer: f.offer,
					asset: f.asset,
					device: String::from_utf8_lossy(&f.device).into_owned(),
					fsp: ss58::encode(&f.fsp.0, SS58_PREFIX),
					start_ms: f.window.start,
					end_ms: f.window.end,
					direction: direction(&f.direction),
					power_w: f.power_w,
					energy_wh: f.energy_wh,
					price: f.price,
					cost: f.cost,
					report_deadline_ms: 0,
				}));
			} else if let Some(r) = e.decode_fields_as::<ev::DeliveryReported>() {
				let r = r.map_err(node)?;
				out.push(MarketEvent::DeliveryReported {
					request: r.request,
					fill: r.fill_index,
					delivered_wh: r.delivered_wh,
				});
			} else if let Some(c) = e.decode_fields_as::<ev::ClockSet>() {
				out.push(MarketEvent::ClockSet { scale: c.map_err(node)?.scale });
			} else if let Some(s) = e.decode_fields_as::<ev::FillSettled>() {
				let s = s.map_err(node)?;
				out.push(MarketEvent::FillSettled {
					request: s.request,
					fill: s.fill_index,
					asset: s.asset,
					fsp: ss58::encode(&s.fsp.0, SS58_PREFIX),
					contracted_wh: s.contracted_wh,
					delivered_wh: s.delivered_wh,
					rate_ppb: s.delivery_rate.0,
					paid: s.paid,
					penalty: s.penalty,
					refunded: s.refunded,
				});
			}
		}
		Ok(out)
	}

	/// The proposed fills of a request at block `number`: (offer, asset, FSP).
	pub async fn proposal(
		&self,
		number: u64,
		request: u32,
	) -> Result<Vec<(u64, u32, String)>, ChainError> {
		let at = self.api.at_block(number).await.map_err(node)?;
		let storage = at.storage();
		let Some(p) = storage
			.try_fetch(runtime::storage().flex_market().proposals(), (request,))
			.await
			.map_err(node)?
		else {
			return Ok(Vec::new());
		};
		let p = p.decode().map_err(node)?;
		let mut out = Vec::new();
		for f in p.fills.0 {
			if let Some(o) = storage
				.try_fetch(runtime::storage().flex_market().offers(), (f.offer,))
				.await
				.map_err(node)?
			{
				let o = o.decode().map_err(node)?;
				out.push((f.offer, o.spec.asset, ss58::encode(&o.fsp.0, SS58_PREFIX)));
			}
		}
		Ok(out)
	}

	/// The minimum state of charge (percent) registered for an asset.
	pub async fn asset_min_soc(&self, asset: u32) -> Result<Option<u8>, ChainError> {
		let at = self.api.at_current_block().await.map_err(node)?;
		let value = at
			.storage()
			.try_fetch(runtime::storage().flex_market().assets(), (asset,))
			.await
			.map_err(node)?;
		match value {
			Some(v) => Ok(Some(v.decode().map_err(node)?.spec.min_soc_percent)),
			None => Ok(None),
		}
	}

	/// The market clock of the latest finalized block (real time when the chain has
	/// none set).
	pub async fn market_clock(&self) -> Result<Clock, ChainError> {
		let at = self.api.at_current_block().await.map_err(node)?;
		let value = at
			.storage()
			.try_fetch(runtime::storage().flex_market().clock(), ())
			.await
			.map_err(node)?;
		Ok(match value {
			Some(v) => {
				let c = v.decode().map_err(node)?;
				Clock::anchored(c.chain_ms, c.market_ms, c.scale as f64)
			},
			None => Clock::real(),
		})
	}

	/// Posts a delivery report and waits until it is finalized.
	pub async fn report_delivery(
		&self,
		request: u32,
		fill: u32,
		delivered_wh: u64,
		samples_root: [u8; 32],
	) -> Result<ReportOutcome, ChainError> {
		let call = runtime::transactions().flex_market().report_delivery(
			request,
			fill,
			delivered_wh,
			H256(samples_root),
		);
		// Nonces are handed out under a lock, so reports for several fills can be in the
		// pool at once; the finalized state's nonce is the floor.
		let progress = {
			let mut next = self.next_nonce.lock().await;
			let at = self.api.at_current_block().await.map_err(node)?;
			let account = subxt::utils::AccountId32(self.signer.public_key().0);
			let finalized = at.transactions().account_nonce(&account).await.map_err(node)?;
			let nonce = next.map_or(finalized, |n| n.max(finalized));
			let params = subxt::config::SubstrateExtrinsicParamsBuilder::<SubstrateConfig>::new()
				.nonce(nonce)
				.build();
			match at.transactions().sign_and_submit_then_watch(&call, &self.signer, params).await {
				Ok(p) => {
					*next = Some(nonce + 1);
					Ok(p)
				},
				Err(e) => {
					*next = None;
					Err(error::from_submission(e))
				},
			}
		};
		let result = match progress {
			Ok(p) => p.wait_for_finalized_success().await.map(|_| ()).map_err(from_finalized),
			Err(e) => Err(e),
		};
		if result.is_err() {
			*self.next_nonce.lock().await = None;
		}
		match result {
			Ok(()) => Ok(ReportOutcome::Posted),
			Err(ChainError::Market(MarketError::AlreadyReported)) => {
				Ok(ReportOutcome::AlreadyReported)
			},
			Err(e) => Err(e),
		}
	}

	/// The reporting deadline (market ms) of the contract of `request` at block
	/// `number`: the window's end plus the settlement grace when it was bought.
	pub async fn report_deadline(&self, number: u64, request: u32) -> Result<u64, ChainError> {
		let at = self.api.at_block(number).await.map_err(node)?;
		let contract = at
			.storage()
			.try_fetch(runtime::storage().flex_market().contracts(), (request,))
			.await
			.map_err(node)?;
		match contract {
			Some(c) => Ok(c.decode().map_err(node)?.report_deadline),
			None => Err(ChainError::Rejected(format!("request {request} has no contract"))),
		}
	}

	/// The fills of accepted matches that the market's storage holds at the finalized
	/// head for the assets in `ours`, with the deadline of their reports.
	pub async fn open_fills(
		&self,
		ours: &std::collections::BTreeSet<u32>,
	) -> Result<(u64, Vec<OpenFill>), ChainError> {
		let at = self.api.at_current_block().await.map_err(node)?;
		let head = at.block_number();
		let storage = at.storage();
		let mut fills =
			storage.iter(runtime::storage().flex_market().fills(), ()).await.map_err(node)?;
		let mut out = Vec::new();
		while let Some(kv) = fills.next().await {
			let kv = kv.map_err(node)?;
			let (request, index) = kv.key().map_err(node)?.decode().map_err(node)?;
			let f = kv.value().decode().map_err(node)?;
			if !ours.contains(&f.asset) || f.outcome.is_some() {
				continue;
			}
			let Some(r) = storage
				.try_fetch(runtime::storage().flex_market().requests(), (request,))
				.await
				.map_err(node)?
			else {
				continue;
			};
			let r = r.decode().map_err(node)?;
			let Some(contract) = storage
				.try_fetch(runtime::storage().flex_market().contracts(), (request,))
				.await
				.map_err(node)?
			else {
				continue;
			};
			let report_deadline_ms = contract.decode().map_err(node)?.report_deadline;
			let device = match storage
				.try_fetch(runtime::storage().flex_market().assets(), (f.asset,))
				.await
				.map_err(node)?
			{
				Some(a) => {
					String::from_utf8_lossy(&a.decode().map_err(node)?.spec.device.0).into_owned()
				},
				None => String::new(),
			};
			out.push(OpenFill {
				reported: f.report.is_some(),
				fill: Fill {
					request,
					fill: index,
					offer: f.offer,
					asset: f.asset,
					device,
					fsp: ss58::encode(&f.fsp.0, SS58_PREFIX),
					start_ms: r.spec.window.start,
					end_ms: r.spec.window.end,
					direction: direction(&r.spec.direction),
					power_w: f.power_w,
					energy_wh: f.energy_wh,
					price: f.price,
					cost: f.cost,
					report_deadline_ms,
				},
			});
		}
		Ok((head, out))
	}
}
