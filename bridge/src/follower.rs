//! The chain follower: finalized blocks in order, one method per market event.
//!
//! A fresh store starts at the configured block or the finalized head; a bridge that
//! fell more than `catch_up_blocks` behind (the node keeps only 256 blocks of state)
//! catches up from the market's storage, the fills bought for its assets and not yet
//! settled, instead of replaying every event. Its lag is in `/health` and `/metrics`.

use crate::{
	chain::{Chain, ChainError, Fill, MarketEvent, OpenFill},
	clock::Clock,
	daemon::{save_clock, ChainLink, CURSOR},
	dispatch::{DeviceLink, Dispatch, Dispatcher},
	notify::Notification,
	store::{ReportState, StoreError},
	writer,
};
use std::{
	collections::{BTreeMap, BTreeSet},
	sync::{atomic::Ordering, Arc},
	time::Duration,
};
use tokio::sync::mpsc;

/// Times in a row a block's events may fail to load before the follower catches up
/// from storage instead (its state may be pruned).
const BLOCK_FAILURES: u32 = 5;

/// Why a step of the follower failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
	/// The chain.
	#[error(transparent)]
	Chain(#[from] ChainError),
	/// The local store.
	#[error(transparent)]
	Store(#[from] StoreError),
}

/// A new dispatch for the daemon to run (and own).
pub type NewDispatch = (Dispatch, DeviceLink);

/// Follows finalized blocks and acts on market events.
pub struct Follower {
	/// The chain.
	pub chain: Arc<ChainLink>,
	/// Dispatch context.
	pub dispatcher: Dispatcher,
	/// The bridge's devices.
	pub devices: Arc<BTreeMap<u32, DeviceLink>>,
	/// The configured assets.
	pub assets: Vec<crate::config::AssetConfig>,
	/// Where new dispatches go to be spawned.
	pub spawn: mpsc::Sender<NewDispatch>,
	/// The block a fresh store starts from (default: the finalized head).
	pub start_block: Option<u64>,
	/// Blocks behind beyond which to catch up from storage.
	pub catch_up_blocks: u64,
	/// The chain's clock the bridge runs on, and where to say it changed (none when
	/// the config fixes the clock).
	pub clock: Option<(Clock, mpsc::Sender<String>)>,
}

impl Follower {
	/// Follows finalized blocks from the stored cursor on; returns when the chain's
	/// clock changed.
	pub async fn follow(self) {
		let mut failures = 0;
		loop {
			match self.step(failures >= BLOCK_FAILURES).await {
				Ok(true) => return,
				Ok(false) => {
					failures = 0;
					tokio::time::sleep(Duration::from_millis(1_000)).await
				},
				Err(e) => {
					failures += 1;
					tracing::warn!(target: "chain", "following the chain failed: {e}; retrying");
					if matches!(&e, FollowError::Chain(c) if c.is_transport()) {
						self.chain.reset().await;
					}
					tokio::time::sleep(Duration::from_secs(2)).await;
				},
			}
		}
	}

	async fn cursor(&self) -> Result<Option<u64>, StoreError> {
		writer::blocking(&self.dispatcher.store, |s| s.meta(CURSOR)).await
	}

	async fn set_cursor(&self, n: u64) -> Result<(), StoreError> {
		writer::blocking(&self.dispatcher.store, move |s| s.set_meta(CURSOR, n)).await?;
		self.dispatcher.metrics.last_block.store(n, Ordering::Relaxed);
		Ok(())
	}

	/// Processes the finalized blocks not yet seen; `true` when the clock changed.
	/// `stuck`: blocks failed to load several times in a row.
	async fn step(&self, stuck: bool) -> Result<bool, FollowError> {
		let c = self.chain.get().await?;
		let finalized = c.finalized().await?;
		self.dispatcher.metrics.chain_head.store(finalized, Ordering::Relaxed);
		let mut cursor = match self.cursor().await? {
			Some(n) => n,
			None => return self.start_fresh(&c, finalized).await.map(|()| false),
		};
		if stuck || finalized.saturating_sub(cursor) > self.catch_up_blocks {
			tracing::warn!(target: "chain", cursor, finalized, "behind the chain: catching up from the market's storage");
			self.catch_up(&c).await?;
			return Ok(false);
		}
		while cursor < finalized {
			let n = cursor + 1;
			let mut clock_set = false;
			for event in c.events(n).await? {
				clock_set |= matches!(event, MarketEvent::ClockSet { .. });
				self.on_event(&c, n, event).await?;
			}
			self.set_cursor(n).await?;
			cursor = n;
			if clock_set && self.clock_changed(&c).await? {
				return Ok(true);
			}
		}
		Ok(false)
	}

	/// A fresh store: from the configured block, or from the finalized head with the
	/// open fills found in storage.
	async fn start_fresh(&self, c: &Chain, finalized: u64) -> Result<(), FollowError> {
		match self.start_block {
			Some(n) => {
				tracing::info!(target: "chain", "fresh store: following from block {n}");
				self.set_cursor(n.saturating_sub(1)).await?;
			},
			None => {
				tracing::info!(target: "chain", finalized, "fresh store: following from the finalized head");
				self.catch_up(c).await?;
			},
		}
		Ok(())
	}

	/// Takes up every fill bought for the bridge's assets that storage holds and the
	/// store does not, marks reports the chain has as posted, and moves the cursor to
	/// the head read.
	async fn catch_up(&self, c: &Chain) -> Result<(), FollowError> {
		let ours: BTreeSet<u32> = self.devices.keys().copied().collect();
		let (head, open) = c.open_fills(&ours).await?;
		let n = open.len();
		for OpenFill { fill, reported } in open {
			let known =
				self.dispatcher.store.dispatch::<Dispatch>(fill.request as u64, fill.fill)?;
			if reported {
				self.mark_posted(fill.request, fill.fill, None).await?;
			} else if known.is_none() && self.dispatcher.clock.now_ms() < fill.report_deadline_ms {
				self.take(c, fill).await?;
			}
		}
		self.set_cursor(head).await?;
		self.dispatcher.metrics.catch_ups.fetch_add(1, Ordering::Relaxed);
		tracing::info!(target: "chain", head, fills = n, "caught up from the market's storage");
		Ok(())
	}

	async fn clock_changed(&self, c: &Chain) -> Result<bool, FollowError> {
		let Some((running, changed)) = &self.clock else { return Ok(false) };
		let now = c.market_clock().await?;
		if now == *running {
			return Ok(false);
		}
		save_clock(&self.dispatcher.store, &now)?;
		tracing::error!(target: "bridge", "the chain's market clock changed: {}", now.describe());
		let _ = changed.send(now.describe()).await;
		Ok(true)
	}

	async fn on_event(&self, c: &Chain, block: u64, event: MarketEvent) -> Result<(), FollowError> {
		match event {
			MarketEvent::MatchProposed { request } => {
				self.on_match_proposed(c, block, request).await
			},
			MarketEvent::FillContracted(fill) => self.on_fill_contracted(c, block, fill).await,
			MarketEvent::DeliveryReported { request, fill, delivered_wh } => {
				self.mark_posted(request, fill, Some(delivered_wh)).await
			},
			MarketEvent::FillSettled { .. } => self.on_fill_settled(event).await,
			MarketEvent::ClockSet { scale } => {
				tracing::info!(target: "chain", block, scale, "market clock set");
				Ok(())
			},
		}
	}

	/// A match proposed: the FSPs of the bridge's assets in it hear of it.
	async fn on_match_proposed(
		&self,
		c: &Chain,
		block: u64,
		request: u32,
	) -> Result<(), FollowError> {
		for (offer, asset, fsp) in c.proposal(block, request).await? {
			if self.devices.contains_key(&asset) {
				self.dispatcher.notifier.send(Notification {
					event: "match",
					fsp,
					request: request as u64,
					fill: None,
					asset: Some(asset),
					details: serde_json::json!({ "offer": offer }),
				});
			}
		}
		Ok(())
	}

	/// A fill bought: with its reporting deadline, dispatched if it is for one of the
	/// bridge's assets and new.
	async fn on_fill_contracted(
		&self,
		c: &Chain,
		block: u64,
		mut fill: Fill,
	) -> Result<(), FollowError> {
		if !self.devices.contains_key(&fill.asset) {
			return Ok(());
		}
		if fill.report_deadline_ms == 0 {
			fill.report_deadline_ms = c.report_deadline(block, fill.request).await?;
		}
		self.take(c, fill).await
	}

	/// Records and spawns the dispatch of `fill`, unless the store has it already.
	async fn take(&self, c: &Chain, fill: Fill) -> Result<(), FollowError> {
		let Some(link) = self.devices.get(&fill.asset) else { return Ok(()) };
		let store = &self.dispatcher.store;
		if store.dispatch::<Dispatch>(fill.request as u64, fill.fill)?.is_some() {
			return Ok(());
		}
		let configured =
			self.assets.iter().find(|a| a.id == fill.asset).and_then(|a| a.min_soc_percent);
		let min_soc = match configured {
			Some(m) => Some(m),
			None => c.asset_min_soc(fill.asset).await?.map(f64::from),
		};
		tracing::info!(target: "bridge", request = fill.request, fill = fill.fill, asset = fill.asset, power_w = fill.power_w, start_ms = fill.start_ms, end_ms = fill.end_ms, deadline_ms = fill.report_deadline_ms, "fill contracted");
		self.dispatcher.notifier.send(Notification {
			event: "buy",
			fsp: fill.fsp.clone(),
			request: fill.request as u64,
			fill: Some(fill.fill),
			asset: Some(fill.asset),
			details: serde_json::to_value(&fill).unwrap_or_default(),
		});
		let d = Dispatch::new(fill, min_soc);
		let d2 = d.clone();
		writer::blocking(store, move |s| s.put_dispatch(d2.fill.request as u64, d2.fill.fill, &d2))
			.await?;
		// The daemon owns the task; if it is gone, the daemon is stopping and the
		// stored dispatch resumes at the next start.
		let _ = self.spawn.send((d, link.clone())).await;
		Ok(())
	}

	/// A report on chain: the store's copy is posted.
	async fn mark_posted(
		&self,
		request: u32,
		fill: u32,
		on_chain_wh: Option<u64>,
	) -> Result<(), FollowError> {
		let store = &self.dispatcher.store;
		let Some(mut r) = store.report(request as u64, fill)? else { return Ok(()) };
		if r.state != ReportState::Posted {
			r.state = ReportState::Posted;
			let r2 = r.clone();
			writer::blocking(store, move |s| s.update_report(&r2)).await?;
		}
		if let Some(wh) = on_chain_wh.filter(|wh| *wh != r.delivered_wh) {
			tracing::warn!(target: "bridge", request, fill, "chain holds {wh} Wh, the bridge measured {} Wh", r.delivered_wh);
		}
		Ok(())
	}

	/// A fill settled: kept with its dispatch, and the FSP hears of it.
	async fn on_fill_settled(&self, event: MarketEvent) -> Result<(), FollowError> {
		let MarketEvent::FillSettled {
			request,
			fill,
			asset,
			fsp,
			contracted_wh,
			delivered_wh,
			rate_ppb,
			paid,
			penalty,
			refunded,
		} = event
		else {
			return Ok(());
		};
		if !self.devices.contains_key(&asset) {
			return Ok(());
		}
		let store = &self.dispatcher.store;
		if let Some(mut d) = store.dispatch::<Dispatch>(request as u64, fill)? {
			d.settlement = Some((rate_ppb, paid));
			writer::blocking(store, move |s| s.put_dispatch(request as u64, fill, &d)).await?;
		}
		self.dispatcher.notifier.send(Notification {
			event: "settlement",
			fsp,
			request: request as u64,
			fill: Some(fill),
			asset: Some(asset),
			details: serde_json::json!({
				"contracted_wh": contracted_wh, "delivered_wh": delivered_wh,
				"delivery_rate_percent": rate_ppb as f64 / 1e7,
				"paid": paid.to_string(), "penalty": penalty.to_string(), "refunded": refunded.to_string(),
			}),
		});
		Ok(())
	}
}
