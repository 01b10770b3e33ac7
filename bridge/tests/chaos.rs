//! The chaos run (`scripts/bridge-chaos.sh`, outside the timed suite): a dev chain
//! contracts 100 simulated batteries for one window; the bridge daemon is killed
//! (SIGKILL) at random moments during the window and while it reports, 20 times, and
//! restarted each time. Every fill must end with exactly one delivery report on chain:
//! none lost, none duplicated. `CHAOS_DEVICES`, `CHAOS_KILLS` and `CHAOS_SEED` change
//! the run.

mod common;

use common::{
	chain::{buy, create_request, field, market_events, submit_many, up_offer, up_request, UNIT},
	devices::{battery_config, serve_battery},
	process::{spawn_bridge, Proc},
};
use flex_bridge::{
	chain::runtime::{
		self,
		runtime_types::{
			bounded_collections::bounded_vec::BoundedVec, pallet_flex_market::types as t,
		},
	},
	clock::Clock,
};
use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};
use subxt_signer::sr25519::dev;

fn env(name: &str, default: u64) -> u64 {
	std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A small deterministic generator (xorshift), seeded so a run can be repeated.
struct Rng(u64);

impl Rng {
	fn below(&mut self, n: u64) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0 % n
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the chaos run takes minutes: scripts/bridge-chaos.sh"]
async fn the_bridge_killed_at_random_moments_loses_and_duplicates_no_report() {
	let (devices, kills) = (env("CHAOS_DEVICES", 100) as u32, env("CHAOS_KILLS", 20));
	let seed = env("CHAOS_SEED", Clock::real_now_ms());
	let mut rng = Rng(seed | 1);
	println!("[chaos] {devices} devices, {kills} kills, seed {seed}");
	let dir = tempfile::tempdir().unwrap();
	// Reports are taken until 4 minutes after the window.
	let (_node, api, url) = common::chain::dev_chain(dir.path(), 4 * 60_000).await;
	let (bob, dave) = (dev::bob(), dev::dave());

	// The batteries: 10 kW for the window is well within their charge.
	let mut ports = Vec::new();
	let mut batteries = Vec::new();
	for i in 0..devices {
		let (addr, b) =
			serve_battery(battery_config(&format!("CHAOS-{i}"), 80.0, Clock::real())).await;
		ports.push(addr.port());
		batteries.push(b);
	}

	// The market: Bob's assets, prequalified by Dave, offered, matched and bought.
	let at = api.at_current_block().await.unwrap();
	let first = at
		.storage()
		.fetch(runtime::storage().flex_market().next_asset_id(), ())
		.await
		.unwrap()
		.decode()
		.unwrap();
	let spec = |i: u32| t::AssetSpec {
		kind: t::AssetKind::Battery,
		location: 1,
		max_export_w: 10_000,
		max_import_w: 10_000,
		capacity_wh: 13_500,
		min_soc_percent: 5,
		device: BoundedVec(format!("chaos-{i}").into_bytes()),
	};
	let register =
		(0..devices).map(|i| runtime::transactions().flex_market().register_asset(spec(i)));
	submit_many(&api, register.collect(), &bob).await;
	let ids: Vec<u32> = (first..first + devices).collect();
	let prequalify = ids.iter().map(|a| {
		runtime::transactions().flex_market().set_asset_status(*a, t::AssetStatus::Prequalified)
	});
	submit_many(&api, prequalify.collect(), &dave).await;
	let now = Clock::real_now_ms();
	let start = (now + 100_000).div_ceil(60_000) * 60_000;
	let end = start + 3 * 60_000;
	let window = || t::Window { start, end };
	let offers = ids.iter().map(|a| {
		runtime::transactions().flex_market().create_offer(up_offer(
			*a,
			window(),
			10_000,
			UNIT / 10,
		))
	});
	submit_many(&api, offers.collect(), &bob).await;
	let request =
		create_request(&api, up_request(window(), 10_000 * devices, UNIT / 5), &dave).await;
	buy(&api, request, &dave).await;
	let bought_at = api.at_current_block().await.unwrap().block_number();
	assert!(Clock::real_now_ms() < start, "the market setup ran past the window start");
	println!("[chaos] request {request}: {devices} fills bought, window {start}..{end}");

	// The bridge, killed and restarted.
	let mut config = format!(
		"[chain]\nurl = \"{url}\"\noracle_key = \"//Eve\"\nstart_block = {bought_at}\n\n\
		 [store]\npath = \"{}\"\n\n[http]\nlisten = \"127.0.0.1:{}\"\n\n[ocpp]\nlisten = \"127.0.0.1:{}\"\n\n",
		dir.path().join("bridge.redb").display(),
		common::free_port(),
		common::free_port()
	);
	for (a, port) in ids.iter().zip(&ports) {
		config.push_str(&format!(
			"[[asset]]\nid = {a}\nmodbus = {{ address = \"127.0.0.1:{port}\" }}\n\n"
		));
	}
	let config_path = dir.path().join("bridge.toml");
	std::fs::write(&config_path, config).unwrap();
	let mut logs = Vec::new();
	let start_bridge =
		|n: usize| spawn_bridge(&config_path, dir.path().join(format!("bridge-{n}.log")));
	let mut bridge: Proc = start_bridge(0);
	Clock::real().sleep_until(start - 5_000).await;
	let began = Instant::now();
	for k in 1..=kills as usize {
		// 12 s apart on average: the kills cover the window and the reports after it.
		tokio::time::sleep(Duration::from_millis(4_000 + rng.below(16_000))).await;
		bridge.kill();
		let at = Clock::real_now_ms();
		println!(
			"[chaos] kill {k} at {:+.1} s of the window ({} s long)",
			(at as f64 - start as f64) / 1_000.0,
			(end - start) / 1_000
		);
		logs.push(bridge.log());
		tokio::time::sleep(Duration::from_millis(300 + rng.below(1_700))).await;
		bridge = start_bridge(k);
	}
	println!("[chaos] {kills} kills in {:.0} s", began.elapsed().as_secs_f64());

	// Every fill reported once, within the grace.
	let deadline = Instant::now() + Duration::from_secs(420);
	let reported = loop {
		let events = market_events(&api, bought_at).await;
		let mut per_fill: BTreeMap<u128, u32> = BTreeMap::new();
		for (_, v) in events.iter().filter(|(n, _)| n == "DeliveryReported") {
			*per_fill.entry(field(v, "fill_index")).or_default() += 1;
		}
		if per_fill.len() as u32 == devices || Instant::now() > deadline {
			break (per_fill, events);
		}
		tokio::time::sleep(Duration::from_secs(5)).await;
	};
	let (per_fill, events) = reported;
	logs.push(bridge.log());
	let lost = devices - per_fill.len() as u32;
	let duplicated = per_fill.values().filter(|n| **n > 1).count();
	let refused_twice = logs.iter().map(|l| l.matches("AlreadyReported").count()).sum::<usize>();
	let resumed = logs.iter().map(|l| l.matches("resuming").count()).sum::<usize>();
	let mut delivered: Vec<u64> = events
		.iter()
		.filter(|(n, _)| n == "DeliveryReported")
		.map(|(_, v)| field(v, "delivered_wh") as u64)
		.collect();
	delivered.sort();
	let exported: Vec<f64> = batteries
		.iter()
		.map(|b| {
			let mut b = b.lock().unwrap();
			b.refresh();
			b.storage.exported_wh
		})
		.collect();
	println!(
		"[chaos] fills {devices}, reported {}, lost {lost}, duplicated on chain {duplicated}",
		per_fill.len()
	);
	println!("[chaos] reposts the chain refused as already reported: {refused_twice}; dispatches resumed: {resumed}");
	if let (Some(lo), Some(hi)) = (delivered.first(), delivered.last()) {
		let mean = delivered.iter().sum::<u64>() as f64 / delivered.len() as f64;
		let dev_mean = exported.iter().sum::<f64>() / exported.len() as f64;
		println!(
			"[chaos] delivered per fill: min {lo} Wh, mean {mean:.0} Wh, max {hi} Wh (contracted 500 Wh; devices exported {dev_mean:.0} Wh on average)"
		);
	}
	assert_eq!(lost, 0, "every fill reported");
	assert_eq!(duplicated, 0, "no fill reported twice");
}
