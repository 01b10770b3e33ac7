//! The bridge against a real dev chain: the market contracts a battery (SunSpec over
//! Modbus TCP) and a V2G charger (OCPP 1.6J) for a 2-minute window; the bridge
//! daemon dispatches both, is killed mid-window and restarted, meters them, and posts
//! exactly one delivery report per fill; the chain settles them by what the devices'
//! physics delivered (their state-of-charge floors stop them early); the FSPs'
//! webhooks hear of the match, the purchase, the dispatch and the settlement.

use axum::{extract::State, routing::post, Json, Router};
use flex_bridge::{
	chain::runtime::{
		self,
		runtime_types::{
			bounded_collections::bounded_vec::BoundedVec, pallet_flex_market::types as t,
		},
	},
	clock::Clock,
	sim::charger::ChargerSimConfig,
};
use std::{
	collections::BTreeMap,
	future::IntoFuture,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};
use subxt_signer::sr25519::{dev, Keypair};

mod common;

use common::{
	chain::{
		bridge_json, buy, create_request, field, market_events, submit, up_offer, up_request, Api,
		UNIT,
	},
	devices::{battery_config, car_config, run_charger, serve_battery},
	process::spawn_bridge,
};

/// 0.10 FLEX per kWh, the pilot's price.
const PRICE: u128 = UNIT / 10;

async fn register(api: &Api, who: &Keypair, kind: t::AssetKind, min_soc: u8, device: &str) -> u32 {
	let spec = t::AssetSpec {
		kind,
		location: 1,
		max_export_w: 10_000,
		max_import_w: 10_000,
		capacity_wh: 40_000,
		min_soc_percent: min_soc,
		device: BoundedVec(device.as_bytes().to_vec()),
	};
	let events = submit(api, runtime::transactions().flex_market().register_asset(spec), who).await;
	events.find_first::<runtime::flex_market::events::AssetRegistered>().unwrap().unwrap().asset
}

#[derive(Clone, Default)]
struct Hooks(Arc<Mutex<Vec<serde_json::Value>>>);

async fn hook(State(h): State<Hooks>, Json(body): Json<serde_json::Value>) -> &'static str {
	h.0.lock().unwrap().push(body);
	"ok"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_dispatches_meters_survives_a_restart_and_reports_once() {
	let dir = tempfile::tempdir().unwrap();
	// Settle a minute after a window instead of 15 minutes.
	let (node, api, url) = common::chain::dev_chain(dir.path(), 60_000).await;
	let (bob, charlie, dave) = (dev::bob(), dev::charlie(), dev::dave());

	let (battery_asset, car_asset) = tokio::join!(
		register(&api, &bob, t::AssetKind::Battery, 20, "battery-1"),
		register(&api, &charlie, t::AssetKind::V2gCharger, 30, "V2G-1"),
	);
	for asset in [battery_asset, car_asset] {
		submit(
			&api,
			runtime::transactions()
				.flex_market()
				.set_asset_status(asset, t::AssetStatus::Prequalified),
			&dave,
		)
		.await;
	}

	// A 2-minute window on minute boundaries, like the pilot's 16:00-16:45.
	let now = Clock::real_now_ms();
	let start = (now + 120_000).div_ceil(60_000) * 60_000;
	let end = start + 120_000;
	let window = || t::Window { start, end };
	let request = create_request(&api, up_request(window(), 20_000, UNIT * 21 / 100), &dave).await;
	let offer = |asset| up_offer(asset, window(), 10_000, PRICE);

	// The devices: 250 Wh above the battery's 20 % floor, 300 Wh above the car's 30 %.
	let clock = Clock::real();
	let (modbus_addr, bat) =
		serve_battery(battery_config("E2E-BAT", 20.0 + 250.0 / 135.0, clock)).await;
	let ocpp_port = common::free_port();
	let car_url = format!("ws://127.0.0.1:{ocpp_port}/ocpp");
	run_charger(ChargerSimConfig {
		password: Some("pw".into()),
		..car_config(&car_url, "V2G-1", 30.75, 30.0, clock)
	});

	// The FSPs' webhooks.
	let hooks = Hooks::default();
	let hook_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let hook_url = format!("http://{}/hook", hook_listener.local_addr().unwrap());
	tokio::spawn(
		axum::serve(
			hook_listener,
			Router::new().route("/hook", post(hook)).with_state(hooks.clone()),
		)
		.into_future(),
	);

	let http = common::free_port();
	let config = format!(
		r#"
[chain]
url = "{url}"
oracle_key = "//Eve"

[store]
path = "{store}"

[http]
listen = "127.0.0.1:{http}"

[ocpp]
listen = "127.0.0.1:{ocpp_port}"
call_timeout_s = 5

[[asset]]
id = {battery_asset}
modbus = {{ address = "{modbus_addr}", unit = 1, profile = "der704" }}

[[asset]]
id = {car_asset}
ocpp = {{ charge_point = "V2G-1", password = "pw" }}

[[webhook]]
fsp = "{bob}"
url = "{hook_url}"

[[webhook]]
fsp = "{charlie}"
url = "{hook_url}"
events = ["buy", "settlement"]
"#,
		store = dir.path().join("bridge.redb").display(),
		bob = bob.public_key().to_account_id(),
		charlie = charlie.public_key().to_account_id(),
	);
	let config_path = dir.path().join("bridge.toml");
	std::fs::write(&config_path, config).unwrap();
	let mut bridge = spawn_bridge(&config_path, dir.path().join("bridge-1.log"));

	let (a, b) = tokio::join!(
		submit(
			&api,
			runtime::transactions().flex_market().create_offer(offer(battery_asset)),
			&bob
		),
		submit(
			&api,
			runtime::transactions().flex_market().create_offer(offer(car_asset)),
			&charlie
		)
	);
	drop((a, b));
	buy(&api, request, &dave).await;
	assert!(Clock::real_now_ms() < start, "the market setup ran past the window start");

	// Kill the bridge 50 s into the window and start it again 5 s later.
	clock.sleep_until(start + 50_000).await;
	let first_log = bridge.log();
	assert!(first_log.contains("fill contracted"), "bridge log:\n{first_log}");
	bridge.kill();
	tokio::time::sleep(Duration::from_secs(5)).await;
	bridge = spawn_bridge(&config_path, dir.path().join("bridge-2.log"));

	// Wait for both reports and both settlements on chain.
	let deadline = Instant::now() + Duration::from_secs(300);
	let events = loop {
		let events = market_events(&api, 1).await;
		if events.iter().filter(|(n, _)| n == "FillSettled").count() >= 2 {
			break events;
		}
		assert!(
			Instant::now() < deadline,
			"no settlement in time\n--- bridge 1 ---\n{first_log}\n--- bridge 2 ---\n{}",
			bridge.log()
		);
		tokio::time::sleep(Duration::from_secs(3)).await;
	};
	let reports: Vec<_> = events.iter().filter(|(n, _)| n == "DeliveryReported").collect();
	assert_eq!(reports.len(), 2, "exactly one report per fill: {reports:?}");
	let mut delivered = BTreeMap::new();
	for (_, v) in &reports {
		delivered.insert(field(v, "asset") as u32, field(v, "delivered_wh") as u64);
	}
	let battery_wh = delivered[&battery_asset];
	let car_wh = delivered[&car_asset];
	println!("battery delivered {battery_wh} Wh of 333 Wh, V2G {car_wh} Wh of 333 Wh");
	assert!((245..=251).contains(&battery_wh), "battery {battery_wh} Wh");
	assert!((290..=301).contains(&car_wh), "V2G {car_wh} Wh");
	for (_, v) in events.iter().filter(|(n, _)| n == "FillSettled") {
		let asset = field(v, "asset") as u32;
		assert_eq!(field(v, "delivered_wh") as u64, delivered[&asset]);
		assert_eq!(
			field(v, "paid"),
			delivered[&asset] as u128 * PRICE / 1000,
			"paid by delivered energy"
		);
	}
	let b = bat.lock().unwrap().storage.clone();
	assert!(
		(b.soc_percent() - 20.0).abs() < 0.05,
		"battery stopped at its floor: {} %",
		b.soc_percent()
	);

	// The second bridge resumed the running fills; its log says so.
	let second_log = bridge.log();
	assert!(second_log.contains("resuming"), "bridge 2 log:\n{second_log}");
	assert!(second_log.contains("delivery reported"), "bridge 2 log:\n{second_log}");
	// Metrics and views over HTTP.
	let metrics = reqwest::get(format!("http://127.0.0.1:{http}/metrics"))
		.await
		.unwrap()
		.text()
		.await
		.unwrap();
	assert!(metrics.contains("flexbridge_reports_pending 0"), "{metrics}");
	assert!(metrics.contains("flexbridge_devices_connected 2"), "{metrics}");
	let health = bridge_json(http, "/health").await;
	assert_eq!(health["status"], "ok");
	let views = bridge_json(http, "/dispatches").await;
	assert_eq!(views["reports"].as_array().unwrap().len(), 2);

	// Webhooks: Bob hears everything about his battery, Charlie only buy and settlement.
	tokio::time::sleep(Duration::from_secs(3)).await;
	let got = hooks.0.lock().unwrap().clone();
	let count =
		|fsp: &str, ev: &str| got.iter().filter(|h| h["fsp"] == fsp && h["event"] == ev).count();
	let (bob_id, charlie_id) = (
		flex_bridge::chain::ss58::encode(&bob.public_key().0, 7171),
		flex_bridge::chain::ss58::encode(&charlie.public_key().0, 7171),
	);
	for ev in ["match", "buy", "dispatch", "settlement"] {
		assert!(count(&bob_id, ev) >= 1, "Bob's {ev} webhook: {got:?}");
	}
	assert_eq!(count(&charlie_id, "buy"), 1, "{got:?}");
	assert_eq!(count(&charlie_id, "settlement"), 1, "{got:?}");
	assert_eq!(count(&charlie_id, "dispatch"), 0, "{got:?}");
	drop(node);
}

/// A bridge with a fresh store on a chain with history: it starts at the finalized
/// head instead of block 1 and takes up, from the market's storage, the fill bought
/// for its battery before it started; it dispatches, meters and reports it, and its
/// `/health` shows it caught up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_store_takes_up_a_fill_bought_before_it_started() {
	let dir = tempfile::tempdir().unwrap();
	let (_node, api, url) = common::chain::dev_chain(dir.path(), 60_000).await;
	let (bob, dave) = (dev::bob(), dev::dave());
	let asset = register(&api, &bob, t::AssetKind::Battery, 20, "battery-fresh").await;
	let prequalify =
		runtime::transactions().flex_market().set_asset_status(asset, t::AssetStatus::Prequalified);
	submit(&api, prequalify, &dave).await;
	let start = (Clock::real_now_ms() + 90_000).div_ceil(60_000) * 60_000;
	let window = || t::Window { start, end: start + 60_000 };
	let offer = runtime::transactions().flex_market().create_offer(up_offer(
		asset,
		window(),
		10_000,
		PRICE,
	));
	let (request, _) = tokio::join!(
		create_request(&api, up_request(window(), 10_000, UNIT * 21 / 100), &dave),
		submit(&api, offer, &bob),
	);
	buy(&api, request, &dave).await;
	let bought = api.at_current_block().await.unwrap().block_number();

	// Only now the battery and the bridge, on a fresh store.
	let (modbus_addr, _bat) = serve_battery(battery_config("E2E-FRESH", 73.4, Clock::real())).await;
	let http = common::free_port();
	let config = format!(
		"[chain]\nurl = \"{url}\"\noracle_key = \"//Eve\"\n\n[store]\npath = \"{}\"\n\n\
		 [http]\nlisten = \"127.0.0.1:{http}\"\n\n[ocpp]\nlisten = \"127.0.0.1:{}\"\n\n\
		 [[asset]]\nid = {asset}\nmodbus = {{ address = \"{modbus_addr}\" }}\n",
		dir.path().join("fresh.redb").display(),
		common::free_port(),
	);
	let config_path = dir.path().join("fresh.toml");
	std::fs::write(&config_path, config).unwrap();
	let bridge = spawn_bridge(&config_path, dir.path().join("fresh.log"));
	let deadline = Instant::now() + Duration::from_secs(240);
	let delivered = loop {
		let events = market_events(&api, bought).await;
		if let Some((_, v)) = events.iter().find(|(n, _)| n == "DeliveryReported") {
			break field(v, "delivered_wh") as u64;
		}
		assert!(Instant::now() < deadline, "no report in time\n{}", bridge.log());
		tokio::time::sleep(Duration::from_secs(3)).await;
	};
	let log = bridge.log();
	println!("fresh store: bought at block {bought}, delivered {delivered} Wh of 167 Wh");
	assert!(log.contains("fresh store: following from the finalized head"), "{log}");
	assert!(log.contains("caught up from the market's storage"), "{log}");
	assert!((150..=170).contains(&delivered), "{delivered} Wh");
	let health = bridge_json(http, "/health").await;
	assert_eq!(health["status"], "ok", "{health}");
	assert!(health["lag_blocks"].as_u64().unwrap() <= 20, "{health}");
	assert!(health["last_block"].as_u64().unwrap() >= bought, "{health}");
}
