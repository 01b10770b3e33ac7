//! The demo's chain client: signs and submits the market's extrinsics, reads balances,
//! holds and the market clock.

use anyhow::{anyhow, Context, Result};
use flex_bridge::{
	chain::runtime::{
		self,
		runtime_types::{
			flexchain_runtime::RuntimeHoldReason, pallet_flex_market::pallet::HoldReason,
		},
	},
	clock::Clock,
};
use std::{collections::HashMap, time::Duration};
use subxt::{
	config::SubstrateExtrinsicParamsBuilder, extrinsics::ExtrinsicEvents, transactions::Payload,
	utils::AccountId32, OnlineClient, SubstrateConfig,
};
use subxt_signer::sr25519::Keypair;
use tokio::sync::Mutex;

/// The node's client.
pub type Api = OnlineClient<SubstrateConfig>;
/// Events of one finalized extrinsic.
pub type Events = ExtrinsicEvents<SubstrateConfig>;

/// 1 FLEX in plancks (12 decimals).
pub const UNIT: u128 = 1_000_000_000_000;

/// The account of a key.
pub fn account(k: &Keypair) -> AccountId32 {
	AccountId32(k.public_key().0)
}

/// Submits extrinsics with locally counted nonces, so one account can have several
/// in the same block.
pub struct Market {
	/// The client.
	pub api: Api,
	nonces: Mutex<HashMap<[u8; 32], u64>>,
}

impl Market {
	/// Connects, waiting up to `timeout` for the node to finalize its first block.
	pub async fn connect(url: &str, timeout: Duration) -> Result<Self> {
		let started = std::time::Instant::now();
		loop {
			if let Ok(api) = Api::from_insecure_url(url).await {
				if api.at_current_block().await.is_ok_and(|b| b.block_number() >= 1) {
					return Ok(Self { api, nonces: Default::default() });
				}
			}
			if started.elapsed() > timeout {
				return Err(anyhow!("the node at {url} did not finalize a block in {timeout:?}"));
			}
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}

	/// Signs and submits `call` as `who`, then waits until it is finalized and succeeded.
	pub async fn submit<C: Payload>(&self, what: &str, call: C, who: &Keypair) -> Result<Events> {
		let progress = {
			let mut nonces = self.nonces.lock().await;
			let at = self.api.at_current_block().await?;
			let id = account(who);
			let nonce = match nonces.get(&id.0) {
				Some(n) => *n,
				None => at.transactions().account_nonce(&id).await?,
			};
			let params =
				SubstrateExtrinsicParamsBuilder::<SubstrateConfig>::new().nonce(nonce).build();
			let p = at
				.transactions()
				.sign_and_submit_then_watch(&call, who, params)
				.await
				.with_context(|| format!("{what}: submitting"))?;
			nonces.insert(id.0, nonce + 1);
			p
		};
		progress.wait_for_finalized_success().await.map_err(|e| anyhow!("{what}: {e}"))
	}

	/// Free and held balance of `who`, plancks.
	pub async fn balance(&self, who: &AccountId32) -> Result<(u128, u128)> {
		let at = self.api.at_current_block().await?;
		let a = at.storage().try_fetch(runtime::storage().system().account(), (*who,)).await?;
		Ok(match a {
			Some(v) => {
				let v = v.decode()?;
				(v.data.free, v.data.reserved)
			},
			None => (0, 0),
		})
	}

	/// What the market holds from `who` in escrow, plancks.
	pub async fn escrow(&self, who: &AccountId32) -> Result<u128> {
		let at = self.api.at_current_block().await?;
		let holds = at.storage().try_fetch(runtime::storage().balances().holds(), (*who,)).await?;
		let Some(holds) = holds else { return Ok(0) };
		Ok(holds
			.decode()?
			.0
			.iter()
			.filter(|h| matches!(h.id, RuntimeHoldReason::FlexMarket(HoldReason::Escrow)))
			.map(|h| h.amount)
			.sum())
	}

	/// Whether a match is proposed for `request` (by the off-chain solver or a call).
	pub async fn has_proposal(&self, request: u32) -> Result<bool> {
		let at = self.api.at_current_block().await?;
		let p = at
			.storage()
			.try_fetch(runtime::storage().flex_market().proposals(), (request,))
			.await?;
		Ok(p.is_some())
	}

	/// What buying the stored proposal of `request` costs, in planks (`None` without one).
	pub async fn proposal_cost(&self, request: u32) -> Result<Option<u128>> {
		let at = self.api.at_current_block().await?;
		let p = at
			.storage()
			.try_fetch(runtime::storage().flex_market().proposals(), (request,))
			.await?;
		Ok(match p {
			Some(v) => Some(v.decode()?.cost),
			None => None,
		})
	}

	/// The market clock of the latest finalized block.
	pub async fn clock(&self) -> Result<Clock> {
		let at = self.api.at_current_block().await?;
		let value = at.storage().try_fetch(runtime::storage().flex_market().clock(), ()).await?;
		Ok(match value {
			Some(v) => {
				let c = v.decode()?;
				Clock::anchored(c.chain_ms, c.market_ms, c.scale as f64)
			},
			None => Clock::real(),
		})
	}
}
