//! A dev chain for the tests that need one (`chain_e2e.rs`, `chaos.rs`): the node,
//! transactions, the market's events.
#![allow(dead_code)]

use flex_bridge::chain::runtime::{
	self,
	runtime_types::{
		flexchain_runtime::RuntimeCall,
		pallet_flex_market::{pallet::Call as MarketCall, types as t},
	},
};
use std::{
	net::TcpListener as StdListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
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

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
	StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

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

/// A child process, killed when dropped, its output in a log file.
pub struct Proc(pub Child, pub PathBuf);

impl Proc {
	/// Its output so far.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.1).unwrap_or_default()
	}
}

impl Drop for Proc {
	fn drop(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

/// Starts `bin` with `args`, its output to `log`.
pub fn spawn(bin: &Path, args: &[String], log: PathBuf) -> Proc {
	let out = std::fs::File::create(&log).unwrap();
	let child = Command::new(bin)
		.args(args)
		.stdout(out.try_clone().unwrap())
		.stderr(out)
		.stdin(Stdio::null())
		.spawn()
		.unwrap_or_else(|e| panic!("{} starts: {e}", bin.display()));
	Proc(child, log)
}

/// A throwaway dev chain, and a client once it finalized a block.
pub async fn dev_chain(dir: &Path) -> (Proc, Api, String) {
	let rpc = free_port();
	let node = spawn(
		&node_binary(),
		&[
			"--dev",
			"--tmp",
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

/// Sets the market parameters through sudo (settlement `grace_ms` after a window).
pub async fn set_params(api: &Api, grace_ms: u64) {
	let params = t::MarketParams {
		settlement_grace_ms: grace_ms,
		retention_ms: 7 * 24 * 3_600_000,
		penalty_threshold: runtime::runtime_types::sp_arithmetic::per_things::Perbill(0),
		penalty_rate: runtime::runtime_types::sp_arithmetic::per_things::Perbill(0),
		request_deposit: UNIT / 10,
		asset_deposit: UNIT / 10,
		fsp_deposit: UNIT,
		solution_margin: runtime::runtime_types::sp_arithmetic::per_things::Perbill(0),
		price_cap: None,
		horizon_ms: 7 * 24 * 3_600_000,
	};
	let sudo = runtime::transactions()
		.sudo()
		.sudo(RuntimeCall::FlexMarket(MarketCall::set_params { params }));
	submit(api, sudo, &subxt_signer::sr25519::dev::alice()).await;
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
