//! A throwaway dev chain for the tests that need one (`chain_e2e.rs`, `chaos.rs`), its
//! market parameters set in its genesis: the node, transactions, the market's requests, offers and purchases, and its events.

use super::{
	free_port,
	process::{spawn, Proc},
};
use flex_bridge::chain::runtime::{self, runtime_types::pallet_flex_market::types as t};
use std::{
	path::{Path, PathBuf},
	process::{Command, Stdio},
	time::{Duration, Instant},
};
use subxt::{OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::Keypair;

/// A client of the dev chain.
pub type Api = OnlineClient<SubstrateConfig>;
/// One FLEX in planks.
pub const UNIT: u128 = 1_000_000_000_000;
/// The most a DSO in the tests pays for a match, in planks.
pub const MAX_COST: u128 = 1_000 * UNIT;

/// The node: `$FLEXCHAIN_NODE`, or `flexchain-node` beside the test's profile
/// directory, or in the target directory's `release/`.
pub fn node_binary() -> PathBuf {
	if let Some(p) = std::env::var_os("FLEXCHAIN_NODE") {
		return PathBuf::from(p);
	}
	let exe = std::env::current_exe().unwrap();
	let profile = exe.parent().unwrap().parent().unwrap();
	let candidates =
		[profile.join("flexchain-node"), profile.parent().unwrap().join("release/flexchain-node")];
	candidates.iter().find(|p| p.exists()).cloned().unwrap_or_else(|| {
		panic!(
			"{} is missing: build it with `cargo build --release -p flexchain-node`, or set FLEXCHAIN_NODE",
			candidates[0].display()
		)
	})
}

/// The market parameters of the test chains, as the runtime's genesis JSON takes them
/// (`MarketParams`, camelCase): the runtime's defaults but for the settlement grace.
pub fn genesis_params(grace_ms: u64) -> serde_json::Value {
	serde_json::json!({
		"settlementGraceMs": grace_ms,
		"retentionMs": 7 * 24 * 3_600_000u64,
		"penaltyThreshold": 0,
		"penaltyRate": 0,
		"requestDeposit": UNIT / 10,
		"assetDeposit": UNIT / 10,
		"fspDeposit": UNIT,
		"solutionMargin": 0,
		"priceCap": null,
		"horizonMs": 7 * 24 * 3_600_000u64,
	})
}

/// Writes the dev chain's specification to `dir/spec.json` with the market parameters
/// `params` in its genesis (the runtime has no sudo: a test chain sets what it needs at
/// genesis). The chain type stays Development, so the node still keys its solver.
pub fn dev_spec(dir: &Path, params: serde_json::Value) -> PathBuf {
	let out = Command::new(node_binary())
		.args(["build-spec", "--chain", "dev"])
		.stderr(Stdio::null())
		.output()
		.expect("build-spec runs");
	assert!(out.status.success(), "build-spec --chain dev failed");
	let mut spec: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON spec");
	spec["genesis"]["runtimeGenesis"]["patch"]["flexMarket"]["params"] = params;
	let path = dir.join("spec.json");
	std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
	path
}

/// A throwaway dev chain (the development preset, Alice validating) whose market settles
/// `grace_ms` after a window, and a client once it finalized a block.
pub async fn dev_chain(dir: &Path, grace_ms: u64) -> (Proc, Api, String) {
	let spec = dev_spec(dir, genesis_params(grace_ms));
	let rpc = free_port();
	let node = spawn(
		&node_binary(),
		&[
			"--chain",
			&spec.display().to_string(),
			"--alice",
			"--validator",
			"--force-authoring",
			"--tmp",
			// A validator needs a stable network identity; a fixed one for a throwaway chain.
			"--node-key",
			"0000000000000000000000000000000000000000000000000000000000000001",
			"--rpc-port",
			&rpc.to_string(),
			"--port",
			&free_port().to_string(),
			"--no-prometheus",
			"--no-telemetry",
			"--no-mdns",
		]
		.map(String::from),
		dir.join("node.log"),
	);
	let url = format!("ws://127.0.0.1:{rpc}");
	let started = Instant::now();
	loop {
		if let Ok(api) = Api::from_insecure_url(&url).await {
			if api.at_current_block().await.is_ok_and(|b| b.block_number() >= 1) {
				return (node, api, url);
			}
		}
		assert!(
			started.elapsed() < Duration::from_secs(120),
			"node did not finalize a block:\n{}",
			node.log()
		);
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// Submits a transaction and waits until it is finalized and succeeded.
pub async fn submit<Call: subxt::transactions::Payload>(
	api: &Api,
	call: Call,
	who: &Keypair,
) -> subxt::extrinsics::ExtrinsicEvents<SubstrateConfig> {
	let at = api.at_current_block().await.unwrap();
	at.transactions()
		.sign_and_submit_then_watch_default(&call, who)
		.await
		.unwrap()
		.wait_for_finalized_success()
		.await
		.unwrap_or_else(|e| panic!("transaction failed: {e}"))
}

/// Submits many transactions of one signer with consecutive nonces, without waiting
/// for each, then waits until the finalized nonce passed them all.
pub async fn submit_many<Call: subxt::transactions::Payload>(
	api: &Api,
	calls: Vec<Call>,
	who: &Keypair,
) {
	let account = subxt::utils::AccountId32(who.public_key().0);
	let mut at = api.at_current_block().await.unwrap();
	let first = at.transactions().account_nonce(&account).await.unwrap();
	let n = calls.len() as u64;
	for (i, call) in calls.iter().enumerate() {
		let params = subxt::config::SubstrateExtrinsicParamsBuilder::<SubstrateConfig>::new()
			.nonce(first + i as u64)
			.build();
		at.transactions().sign_and_submit(call, who, params).await.unwrap();
	}
	let started = Instant::now();
	loop {
		at = api.at_current_block().await.unwrap();
		if at.transactions().account_nonce(&account).await.unwrap() >= first + n {
			return;
		}
		assert!(started.elapsed() < Duration::from_secs(300), "{n} transactions finalized in time");
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}

/// A request for `power_w` up at location 1 over `window`, pay as bid, full cover only,
/// at most `max_price` per kWh; its gate closes 25 s before the window.
pub fn up_request(window: t::Window, power_w: u32, max_price: u128) -> t::RequestSpec<u128> {
	t::RequestSpec {
		location: 1,
		gate_closure: window.start - 25_000,
		window,
		direction: t::Direction::Up,
		power_w,
		max_price,
		partial: false,
		pricing: t::Pricing::PayAsBid,
		max_over_w: 0,
	}
}

/// An all-or-nothing offer of `asset`'s `power_w` up over `window` at `price` per kWh.
pub fn up_offer(asset: u32, window: t::Window, power_w: u32, price: u128) -> t::OfferSpec<u128> {
	t::OfferSpec {
		asset,
		window,
		direction: t::Direction::Up,
		power_w,
		price,
		divisibility: t::Divisibility::AllOrNothing,
	}
}

/// Posts `spec` as `dso`'s request: its id.
pub async fn create_request(api: &Api, spec: t::RequestSpec<u128>, dso: &Keypair) -> u32 {
	let created =
		submit(api, runtime::transactions().flex_market().create_request(spec), dso).await;
	created.find_first::<runtime::flex_market::events::RequestCreated>().unwrap().unwrap().request
}

/// Stores the merit order's match of `request` and buys it as `dso` (for at most
/// [`MAX_COST`]). The off-chain worker may have proposed the same match already; either
/// way one is stored, so the match transaction may fail.
pub async fn buy(api: &Api, request: u32, dso: &Keypair) {
	let at = api.at_current_block().await.unwrap();
	let _ = at
		.transactions()
		.sign_and_submit_then_watch_default(
			&runtime::transactions().flex_market().match_request(request),
			dso,
		)
		.await
		.unwrap()
		.wait_for_finalized_success()
		.await;
	submit(api, runtime::transactions().flex_market().accept_match(request, MAX_COST), dso).await;
}

/// All market events of finalized blocks `from..=now`, as (event name, decoded value).
pub async fn market_events(api: &Api, from: u64) -> Vec<(String, subxt::dynamic::Value)> {
	let head = api.at_current_block().await.unwrap().block_number();
	let mut out = Vec::new();
	for n in from..=head {
		let at = api.at_block(n).await.unwrap();
		for e in at.events().fetch().await.unwrap().iter() {
			let e = e.unwrap();
			if e.pallet_name() == "FlexMarket" {
				out.push((
					e.event_name().to_string(),
					e.decode_fields_unchecked_as::<subxt::dynamic::Value>().unwrap(),
				));
			}
		}
	}
	out
}

/// A numeric field of a decoded event.
pub fn field(v: &subxt::dynamic::Value, name: &str) -> u128 {
	let text = v.to_string();
	let at = text.find(&format!("{name}: ")).unwrap_or_else(|| panic!("{name} in {text}"));
	text[at + name.len() + 2..]
		.chars()
		.take_while(|c| c.is_ascii_digit())
		.collect::<String>()
		.parse()
		.unwrap()
}

/// The JSON the bridge's HTTP port `http` answers at `path` (`/health`, `/dispatches`).
pub async fn bridge_json(http: u16, path: &str) -> serde_json::Value {
	reqwest::get(format!("http://127.0.0.1:{http}{path}")).await.unwrap().json().await.unwrap()
}
