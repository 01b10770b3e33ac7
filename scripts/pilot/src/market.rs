//! The demo's chain client: signs and submits the market's extrinsics, reads balances,
//! holds and the market clock.

use anyhow::{anyhow, Result};
use flex_bridge::{
	chain::runtime::{
		self,
		runtime_types::{
			flexchain_runtime::RuntimeHoldReason,
			pallet_flex_market::pallet::{Error as MarketError, HoldReason},
		},
	},
	clock::Clock,
};
use std::{collections::HashMap, time::Duration};
use subxt::{
	config::SubstrateExtrinsicParamsBuilder,
	error::{DispatchError, TransactionEventsError, TransactionFinalizedSuccessError},
	extrinsics::ExtrinsicEvents,
	transactions::Payload,
	utils::AccountId32,
	OnlineClient, SubstrateConfig,
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

/// Why a submitted extrinsic did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
	/// The market pallet refused it with one of its errors.
	#[error("{what}: the market refused: {error:?}")]
	Market {
		/// Which call.
		what: String,
		/// The pallet's error.
		error: MarketError,
	},
	/// It could not be submitted or followed, or something else refused it.
	#[error("{what}: {message}")]
	Other {
		/// Which call.
		what: String,
		/// Why.
		message: String,
	},
}

impl SubmitError {
	fn other(what: &str, e: impl std::fmt::Display) -> Self {
		Self::Other { what: what.into(), message: e.to_string() }
	}

	/// The error of a transaction followed to finality: the market's own errors typed.
	fn finalized(what: &str, e: TransactionFinalizedSuccessError) -> Self {
		let TransactionFinalizedSuccessError::SuccessError(
			TransactionEventsError::ExtrinsicFailed(DispatchError::Module(module)),
		) = &e
		else {
			return Self::other(what, e);
		};
		match module.as_root_error::<runtime::Error>() {
			Ok(runtime::Error::FlexMarket(error)) => Self::Market { what: what.into(), error },
			_ => Self::other(what, e),
		}
	}
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
	pub async fn submit<C: Payload>(
		&self,
		what: &str,
		call: C,
		who: &Keypair,
	) -> Result<Events, SubmitError> {
		let fail = |e: subxt::Error| SubmitError::other(what, e);
		let progress = {
			let mut nonces = self.nonces.lock().await;
			let at = self.api.at_current_block().await.map_err(|e| fail(e.into()))?;
			let id = account(who);
			let nonce = match nonces.get(&id.0) {
				Some(n) => *n,
				None => at.transactions().account_nonce(&id).await.map_err(|e| fail(e.into()))?,
			};
			let params =
				SubstrateExtrinsicParamsBuilder::<SubstrateConfig>::new().nonce(nonce).build();
			let p = at
				.transactions()
				.sign_and_submit_then_watch(&call, who, params)
				.await
				.map_err(|e| SubmitError::other(what, format!("submitting: {e}")))?;
			nonces.insert(id.0, nonce + 1);
			p
		};
		progress.wait_for_finalized_success().await.map_err(|e| SubmitError::finalized(what, e))
	}

	/// Number of the latest finalized block.
	pub async fn finalized(&self) -> Result<u64> {
		Ok(self.api.at_current_block().await?.block_number())
	}

	/// Free and held balance of `who`, plancks.
	pub async fn balance(&self, who: &AccountId32) -> Result<(u128, u128)> {
		let at = self.api.at_current_block().await?;
		Self::balance_in(&at, who).await
	}

	/// Free and held balance of `who` at block `number`, plancks.
	pub async fn balance_at(&self, who: &AccountId32, number: u64) -> Result<(u128, u128)> {
		let at = self.api.at_block(number).await?;
		Self::balance_in(&at, who).await
	}

	async fn balance_in(
		at: &subxt::client::ClientAtBlock<
			SubstrateConfig,
			subxt::client::OnlineClientAtBlockImpl<SubstrateConfig>,
		>,
		who: &AccountId32,
	) -> Result<(u128, u128)> {
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

	/// The market clock of the latest finalized block (`None` before it is set: a clock
	/// scale from the genesis takes effect in the chain's second block).
	pub async fn clock(&self) -> Result<Option<Clock>> {
		let at = self.api.at_current_block().await?;
		let value = at.storage().try_fetch(runtime::storage().flex_market().clock(), ()).await?;
		Ok(match value {
			Some(v) => {
				let c = v.decode()?;
				Some(Clock::anchored(c.chain_ms, c.market_ms, c.scale as f64))
			},
			None => None,
		})
	}

	/// The market clock, once a finalized block has it (up to `timeout`).
	pub async fn wait_clock(&self, timeout: Duration) -> Result<Clock> {
		let started = std::time::Instant::now();
		loop {
			if let Some(clock) = self.clock().await? {
				return Ok(clock);
			}
			if started.elapsed() > timeout {
				return Err(anyhow!("no market clock on chain after {timeout:?}"));
			}
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}

	/// The locations and metering oracles of `dso` if it is a registered DSO.
	pub async fn dso(&self, dso: &AccountId32) -> Result<Option<(Vec<u32>, Vec<AccountId32>)>> {
		let at = self.api.at_current_block().await?;
		let d = at.storage().try_fetch(runtime::storage().flex_market().dsos(), (*dso,)).await?;
		Ok(match d {
			Some(v) => {
				let v = v.decode()?;
				Some((v.locations.0, v.oracles.0))
			},
			None => None,
		})
	}

	/// The settlement grace in force, market ms.
	pub async fn settlement_grace_ms(&self) -> Result<u64> {
		let at = self.api.at_current_block().await?;
		let p = at.storage().fetch(runtime::storage().flex_market().params(), ()).await?;
		Ok(p.decode()?.settlement_grace_ms)
	}
}

/// A submitted extrinsic waiting for finality.
pub type Pending<'a> =
	std::pin::Pin<Box<dyn std::future::Future<Output = Result<Events, SubmitError>> + Send + 'a>>;

/// Runs extrinsics concurrently (nonces are handed out in the order given, so one
/// account's calls land in that order); fails if any failed.
pub async fn all(round: Vec<Pending<'_>>) -> Result<Vec<Events>, SubmitError> {
	futures::future::join_all(round).await.into_iter().collect()
}
