//! `flex-pilot`: the README's main command. Starts a dev chain, the bridge and
//! simulated devices, replays the EFLEX field pilot (or a competitive scenario)
//! through real extrinsics, OCPP-J and Modbus TCP, and prints Table III.

mod chart;
mod market;
mod procs;
mod report;
mod scenario;
mod transformer;

use anyhow::{bail, Context, Result};
use clap::Parser;
use flex_bridge::{
	chain::{
		runtime::{
			self,
			runtime_types::{
				bounded_collections::bounded_vec::BoundedVec,
				flexchain_runtime::RuntimeCall,
				pallet_flex_market::{pallet::Call as MarketCall, types as t},
				sp_arithmetic::per_things::Perbill,
			},
		},
		ss58, Chain, MarketEvent, SS58_PREFIX,
	},
	clock::Clock,
	metering::{Sample, MINUTE_MS},
};
use market::{account, Market, UNIT};
use report::{AssetRow, BalanceRow, Report};
use scenario::{Device, Scenario};
use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
	process::ExitCode,
	time::{Duration, Instant},
};
use subxt_signer::{sr25519::Keypair, SecretUri};
use transformer::{Profile, Transformer};

/// Replays the field pilot end to end on a local dev chain with simulated devices.
#[derive(Parser, Debug)]
#[command(name = "flex-pilot", version)]
struct Cli {
	/// `pilot` (the EFLEX field pilot) or `competition` (five FSPs, an outage, penalties).
	#[arg(long, default_value = "pilot")]
	scenario: String,
	/// Market time runs this many times faster than real time (the 45-minute window
	/// takes 3 minutes at 15).
	#[arg(long, default_value_t = 15)]
	scale: u32,
	/// Stop everything after the report instead of leaving the chain running.
	#[arg(long)]
	exit: bool,
	/// Where logs, the chain's database, the report and the charts go (emptied first).
	#[arg(long, default_value = "pilot-run")]
	out: PathBuf,
	/// The node's JSON-RPC port.
	#[arg(long, default_value_t = 9944)]
	rpc_port: u16,
	/// First of the local ports for the bridge (HTTP, OCPP) and the batteries (Modbus).
	#[arg(long, default_value_t = 19_000)]
	port_base: u16,
	/// Where the node, bridge and simulator binaries are (default: beside this one).
	#[arg(long)]
	bin_dir: Option<PathBuf>,
}

fn key(uri: &str) -> Result<Keypair> {
	let parsed: SecretUri = uri.parse().map_err(|e| anyhow::anyhow!("secret URI {uri}: {e}"))?;
	Keypair::from_uri(&parsed).map_err(|e| anyhow::anyhow!("secret URI {uri}: {e}"))
}

/// A submitted extrinsic waiting for finality.
type Pending<'a> =
	std::pin::Pin<Box<dyn std::future::Future<Output = Result<market::Events>> + Send + 'a>>;

fn say(msg: impl AsRef<str>) {
	println!("[pilot] {}", msg.as_ref());
}

fn hhmm(clock_ms: u64) -> String {
	let s = clock_ms / 1000;
	format!("{:02}:{:02}:{:02} UTC", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

/// The run's binaries.
struct Bins {
	node: PathBuf,
	bridge: PathBuf,
	battery: PathBuf,
	charger: PathBuf,
}

impl Bins {
	fn locate(dir: Option<PathBuf>) -> Result<Self> {
		let dir = match dir {
			Some(d) => d,
			None => std::env::current_exe()?
				.parent()
				.context("no directory of the executable")?
				.to_path_buf(),
		};
		let find = |name: &str| {
			let p = dir.join(name);
			if p.exists() {
				Ok(p)
			} else {
				bail!(
					"{} is missing: build with `cargo build --release --workspace --bins`",
					p.display()
				)
			}
		};
		Ok(Self {
			node: find("flexchain-node")?,
			bridge: find("flex-bridge")?,
			battery: find("sim-battery")?,
			charger: find("sim-charger")?,
		})
	}
}

/// Everything a running scenario knows about one of its assets.
struct Live {
	plan: scenario::AssetPlan,
	fsp: Keypair,
	asset: u32,
	port: u16,
	charge_point: String,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
	let cli = Cli::parse();
	let Some(scenario) = scenario::by_name(&cli.scenario) else {
		eprintln!("error: --scenario must be `pilot` or `competition`, got `{}`", cli.scenario);
		return ExitCode::from(2);
	};
	// The chain's bound (pallet_flex_market::clock::MAX_CLOCK_SCALE).
	if !(1..=600).contains(&cli.scale) {
		eprintln!("error: --scale must be from 1 to 600");
		return ExitCode::from(2);
	}
	let mut procs = procs::Procs::default();
	let outcome = tokio::select! {
		r = run(&cli, &scenario, &mut procs) => r,
		_ = tokio::signal::ctrl_c() => { say("interrupted"); Ok(()) },
	};
	let code = match outcome {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e:#}");
			ExitCode::FAILURE
		},
	};
	say("stopping the bridge, the simulators and the node");
	procs.stop_all().await;
	code
}

/// Empties the run directory of what an earlier run left.
fn prepare(out: &Path) -> Result<PathBuf> {
	std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
	for entry in std::fs::read_dir(out)? {
		let path = entry?.path();
		let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
		let ours = name == "chain"
			|| name.starts_with("bridge")
			|| name.ends_with(".log")
			|| name.ends_with(".svg")
			|| name.starts_with("report");
		if ours {
			if path.is_dir() {
				std::fs::remove_dir_all(&path)?;
			} else {
				std::fs::remove_file(&path)?;
			}
		}
	}
	Ok(std::fs::canonicalize(out)?)
}

async fn run(cli: &Cli, sc: &Scenario, procs: &mut procs::Procs) -> Result<()> {
	let started = Instant::now();
	let out = prepare(&cli.out)?;
	let bins = Bins::locate(cli.bin_dir.clone())?;
	say(format!("scenario `{}`: {}", sc.name, sc.title));
	say(format!("logs, report and charts go to {}", out.display()));

	// The chain.
	let url = format!("ws://127.0.0.1:{}", cli.rpc_port);
	say(format!("starting a dev chain on {url}"));
	let node_args: Vec<String> = [
		"--dev",
		"--base-path",
		&out.join("chain").display().to_string(),
		"--rpc-port",
		&cli.rpc_port.to_string(),
		"--port",
		"0",
		"--no-prometheus",
		"--no-telemetry",
		"--no-mdns",
	]
	.iter()
	.map(|s| s.to_string())
	.collect();
	procs.spawn("node", &bins.node, &node_args, out.join("node.log"))?;
	let m = tokio::select! {
		m = Market::connect(&url, Duration::from_secs(120)) => m?,
		e = watch(procs) => return Err(e),
	};
	say("the chain produces and finalizes blocks");

	// Governance: the market clock, the parameters, the DSO and its oracle; funding.
	let alice = key("//Alice")?;
	let dso = key("//OEDAS")?;
	let oracle_uri = "//OEDAS-meter";
	let oracle = key(oracle_uri)?;
	let fsps: Vec<Keypair> = sc.assets.iter().map(|a| key(a.fsp)).collect::<Result<_>>()?;
	let (threshold, rate) = sc.penalty.unwrap_or((0, 0));
	let params = t::MarketParams {
		settlement_grace_ms: 10 * MINUTE_MS,
		retention_ms: 7 * 24 * 60 * MINUTE_MS,
		penalty_threshold: Perbill(threshold * 10_000_000),
		penalty_rate: Perbill(rate * 10_000_000),
		request_deposit: UNIT / 10,
		asset_deposit: UNIT / 10,
		fsp_deposit: UNIT,
		solution_margin: Perbill(0),
		price_cap: None,
		horizon_ms: 7 * 24 * 60 * MINUTE_MS,
	};
	const LOCATION: u32 = 2;
	let sudo = |call| runtime::transactions().sudo().sudo(call);
	let location = BoundedVec(vec![(LOCATION, BoundedVec(b"Eskisehir OEDAS LV-1".to_vec()))]);
	say(format!(
		"governance (sudo on the dev chain): market clock at {}x, parameters, DSO with its location and metering oracle; funding the cast",
		cli.scale
	));
	let mut round: Vec<Pending> = vec![
		Box::pin(m.submit(
			"set_clock",
			sudo(RuntimeCall::FlexMarket(MarketCall::set_clock { scale: cli.scale })),
			&alice,
		)),
		Box::pin(m.submit(
			"set_params",
			sudo(RuntimeCall::FlexMarket(MarketCall::set_params { params })),
			&alice,
		)),
		Box::pin(m.submit(
			"register_dso",
			sudo(RuntimeCall::FlexMarket(MarketCall::register_dso {
				dso: account(&dso),
				locations: location,
			})),
			&alice,
		)),
		Box::pin(m.submit(
			"appoint_oracle",
			sudo(RuntimeCall::FlexMarket(MarketCall::appoint_oracle {
				dso: account(&dso),
				oracle: account(&oracle),
			})),
			&alice,
		)),
	];
	for who in [&dso, &oracle].into_iter().chain(fsps.iter()) {
		let call = runtime::transactions()
			.balances()
			.transfer_keep_alive(subxt::utils::MultiAddress::Id(account(who)), 1_000 * UNIT);
		round.push(Box::pin(m.submit("transfer", call, &alice)));
	}
	all(round).await?;
	let clock = m.clock().await?;
	if (clock.scale - cli.scale as f64).abs() > 1e-9 {
		bail!("the chain's clock runs at {}x, not {}x", clock.scale, cli.scale);
	}
	say(format!("market time now {} ({})", hhmm(clock.now_ms()), clock.describe()));

	// The window: far enough ahead for the remaining market steps at this scale.
	let now = clock.now_ms();
	let scale = cli.scale as u64;
	let start = (now + 110_000 * scale).div_ceil(MINUTE_MS) * MINUTE_MS;
	let end = start + sc.window_min * MINUTE_MS;
	let gate = start - 20_000 * scale;
	say(format!(
		"window {} - {} market time (gate closure {}), starts in {:.0} s real time",
		hhmm(start),
		hhmm(end),
		hhmm(gate),
		(clock.real_of_market(start) as f64 - Clock::real_now_ms() as f64) / 1000.0
	));

	// The FSPs register and add their assets.
	say(format!("{} FSPs register and add their assets", fsps.len()));
	let mut ports = cli.port_base + 10;
	let mut round: Vec<Pending> = Vec::new();
	for (plan, fsp) in sc.assets.iter().zip(&fsps) {
		let device = match plan.device {
			Device::ModbusBattery => {
				ports += 1;
				format!("modbus://127.0.0.1:{ports}/1")
			},
			Device::OcppCharger => format!("ocpp://{}/1", cp_id(plan)),
		};
		let kind = match plan.device {
			Device::ModbusBattery => t::AssetKind::Battery,
			Device::OcppCharger => t::AssetKind::V2gCharger,
		};
		let spec = t::AssetSpec {
			kind,
			location: LOCATION,
			max_export_w: plan.offer_w,
			max_import_w: plan.offer_w,
			capacity_wh: plan.capacity_wh as u32,
			min_soc_percent: plan.min_soc_percent,
			device: BoundedVec(device.into_bytes()),
		};
		round.push(Box::pin(m.submit(
			"register_fsp",
			runtime::transactions().flex_market().register_fsp(),
			fsp,
		)));
		round.push(Box::pin(m.submit(
			"register_asset",
			runtime::transactions().flex_market().register_asset(spec),
			fsp,
		)));
	}
	let events = all(round).await?;
	let mut live = Vec::new();
	let mut port = cli.port_base + 10;
	for ((plan, fsp), ev) in sc.assets.iter().zip(fsps).zip(events.iter().skip(1).step_by(2)) {
		let asset = ev
			.find_first::<runtime::flex_market::events::AssetRegistered>()
			.context("no AssetRegistered event")??
			.asset;
		let (p, cp) = match plan.device {
			Device::ModbusBattery => {
				port += 1;
				(port, String::new())
			},
			Device::OcppCharger => (0, cp_id(plan)),
		};
		live.push(Live { plan: plan.clone(), fsp, asset, port: p, charge_point: cp });
	}

	// Balances before the market steps.
	let mut cast: Vec<(String, subxt::utils::AccountId32)> =
		vec![("DSO (//OEDAS)".into(), account(&dso))];
	for l in &live {
		cast.push((format!("FSP {} ({})", l.plan.name, l.plan.fsp), account(&l.fsp)));
	}
	let mut before = Vec::new();
	for (_, who) in &cast {
		let (free, held) = m.balance(who).await?;
		before.push(free + held);
	}

	// Devices and the bridge.
	start_devices(procs, &bins, &out, cli, &clock, &live, start)?;
	let http = cli.port_base;
	start_bridge(procs, &bins, &out, cli, &url, oracle_uri, &live)?;
	say(format!(
		"bridge on OCPP ws://127.0.0.1:{}/ocpp and HTTP http://127.0.0.1:{http}",
		cli.port_base + 1
	));

	// The DSO prequalifies the assets and posts its request; the FSPs offer.
	let window = || t::Window { start, end };
	say(format!(
		"the DSO prequalifies the assets and requests {} kW up at most {:.2} per kWh",
		sc.request_w / 1000,
		sc.max_price_milli as f64 / 1000.0
	));
	let mut round: Vec<Pending> = Vec::new();
	for l in &live {
		let call = runtime::transactions()
			.flex_market()
			.set_asset_status(l.asset, t::AssetStatus::Prequalified);
		round.push(Box::pin(m.submit("set_asset_status", call, &dso)));
	}
	let request = t::RequestSpec {
		location: LOCATION,
		window: window(),
		direction: t::Direction::Up,
		power_w: sc.request_w,
		max_price: sc.max_price_milli * UNIT / 1000,
		gate_closure: gate,
		partial: sc.partial,
		pricing: t::Pricing::PayAsBid,
		max_over_w: 0,
	};
	round.push(Box::pin(m.submit(
		"create_request",
		runtime::transactions().flex_market().create_request(request),
		&dso,
	)));
	let events = all(round).await?;
	let request = events
		.last()
		.context("no events")?
		.find_first::<runtime::flex_market::events::RequestCreated>()
		.context("no RequestCreated event")??
		.request;
	say("the FSPs post their offers");
	let mut round: Vec<Pending> = Vec::new();
	for l in &live {
		let offer = t::OfferSpec {
			asset: l.asset,
			window: window(),
			direction: t::Direction::Up,
			power_w: l.plan.offer_w,
			price: l.plan.price_milli * UNIT / 1000,
			divisibility: match l.plan.divisible_min_w {
				Some(min_power_w) => t::Divisibility::Divisible { min_power_w },
				None => t::Divisibility::AllOrNothing,
			},
		};
		round.push(Box::pin(m.submit(
			"create_offer",
			runtime::transactions().flex_market().create_offer(offer),
			&l.fsp,
		)));
	}
	all(round).await?;
	say("the DSO matches and buys the match; the cost goes into escrow");
	// The node's off-chain solver proposes during the minutes before gate closure; the
	// DSO runs the chain's merit order only when nothing is proposed yet.
	let kept = "  the off-chain solver's match is stored and at least as cheap: keeping it";
	if m.has_proposal(request).await? {
		say(kept);
	} else {
		let call = runtime::transactions().flex_market().match_request(request);
		match m.submit("match_request", call, &dso).await {
			Ok(_) => say("  the chain's merit order proposed the match"),
			// The solver's proposal landed in the meantime.
			Err(e) if e.to_string().contains("NotBetter") => say(kept),
			Err(e) => return Err(e),
		}
	}
	// The DSO pays at most what the stored match costs now.
	let cost = m.proposal_cost(request).await?.context("no match to buy")?;
	say(format!("  buying for at most {:.3} FLEX", cost as f64 / UNIT as f64));
	let call = runtime::transactions().flex_market().accept_match(request, cost);
	let bought = m.submit("accept_match", call, &dso).await?;
	let mut accepted = BTreeMap::new();
	for f in bought.find::<runtime::flex_market::events::FillContracted>() {
		let f = f?;
		accepted.insert(f.asset, (f.fill_index, f.power_w, f.energy_wh));
	}
	for l in &live {
		match accepted.get(&l.asset) {
			Some((_, w, wh)) => {
				say(format!("  {}: {} kW, {} Wh contracted", l.plan.name, w / 1000, wh))
			},
			None => say(format!("  {}: not in the match", l.plan.name)),
		}
	}
	let escrow = m.escrow(&account(&dso)).await?;
	say(format!("escrow held from the DSO: {:.3} FLEX", escrow as f64 / UNIT as f64));
	if Clock::real_now_ms() >= clock.real_of_market(start) {
		bail!("the market steps ran past the window's start; try a smaller --scale");
	}

	// The window: progress every few market minutes.
	say(format!(
		"waiting for the window ({:.0} s)",
		(clock.real_of_market(start) as f64 - Clock::real_now_ms() as f64) / 1000.0
	));
	let bridge_http = format!("http://127.0.0.1:{http}");
	let client = reqwest::Client::new();
	let mut minute = start;
	while minute < end + 5 * MINUTE_MS {
		minute += 5 * MINUTE_MS;
		tokio::select! {
			_ = clock.sleep_until(minute.min(end + MINUTE_MS)) => {},
			e = watch(procs) => return Err(e),
		}
		if minute <= end {
			let mut line = format!("{} +{:>2} min |", hhmm(minute), (minute - start) / MINUTE_MS);
			for l in live.iter().filter(|l| accepted.contains_key(&l.asset)) {
				let s = samples(&client, &bridge_http, l.asset, start, minute)
					.await
					.unwrap_or_default();
				let wh = s
					.last()
					.zip(s.first())
					.map(|(b, a)| b.exported_wh.saturating_sub(a.exported_wh))
					.unwrap_or(0);
				let soc = s.last().and_then(|x| x.soc_permille).map(|p| p as f64 / 10.0);
				line += &format!(
					" {} {:.2} kWh{} |",
					l.plan.name,
					wh as f64 / 1000.0,
					soc.map(|s| format!(" SoC {s:.1} %")).unwrap_or_default()
				);
			}
			say(line);
		}
	}

	// Reports and settlement, from finalized blocks.
	say("the bridge reports delivery; settlement follows the grace period");
	let chain = Chain::connect(&url, oracle_uri).await?;
	let deadline = Instant::now()
		+ Duration::from_secs(120)
		+ clock.real_duration(Duration::from_secs(11 * 60));
	let mut reports: BTreeMap<u32, u32> = BTreeMap::new();
	let mut settled: BTreeMap<u32, (u64, u64, u32, u128, u128)> = BTreeMap::new();
	let mut next_block = 1;
	while settled.len() < accepted.len() {
		if Instant::now() > deadline {
			bail!(
				"no settlement of every fill in time: {} of {} settled; see {}",
				settled.len(),
				accepted.len(),
				out.join("bridge.log").display()
			);
		}
		procs.check()?;
		let head = chain.finalized().await?;
		while next_block <= head {
			for e in chain.events(next_block).await? {
				match e {
					MarketEvent::DeliveryReported { request: r, fill, delivered_wh }
						if r == request =>
					{
						*reports.entry(fill).or_default() += 1;
						say(format!("  delivery reported for fill {fill}: {delivered_wh} Wh"));
					},
					MarketEvent::FillSettled {
						request: r,
						asset,
						contracted_wh,
						delivered_wh,
						rate_ppb,
						paid,
						penalty,
						..
					} if r == request => {
						settled
							.insert(asset, (contracted_wh, delivered_wh, rate_ppb, paid, penalty));
					},
					_ => {},
				}
			}
			next_block += 1;
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
	say("settled");

	// The report.
	let minutes = sc.window_min;
	let mut rows = Vec::new();
	let mut powers = Vec::new();
	let mut charts = Vec::new();
	for l in &live {
		let s = samples(&client, &bridge_http, l.asset, start, end).await.unwrap_or_default();
		let readings: Vec<(u64, i64)> = s
			.iter()
			.map(|x| ((x.at_ms - start) / MINUTE_MS, x.exported_wh as i64 - x.imported_wh as i64))
			.collect();
		let kw = report::minute_power_kw(&readings, minutes);
		let soc: Vec<(f64, f64)> = s
			.iter()
			.filter_map(|x| {
				x.soc_permille.map(|p| (((x.at_ms - start) / MINUTE_MS) as f64, p as f64 / 10.0))
			})
			.collect();
		let metered = match (s.first(), s.last()) {
			(Some(a), Some(b)) if a.at_ms == start => b.exported_wh.saturating_sub(a.exported_wh),
			_ => 0,
		};
		let (fill_w, contracted, delivered, rate_ppb, paid, penalty) =
			match (accepted.get(&l.asset), settled.get(&l.asset)) {
				(Some((_, w, _)), Some((c, d, r, p, pen))) => (*w, *c, *d, *r, *p, *pen),
				_ => (0, 0, 0, 0, 0, 0),
			};
		let fill = accepted.get(&l.asset).map(|a| a.0);
		let why = why(l, sc, fill_w, rate_ppb, penalty);
		rows.push(AssetRow {
			name: l.plan.name.into(),
			role: l.plan.role.into(),
			asset: l.asset,
			fsp: ss58::encode(&l.fsp.public_key().0, SS58_PREFIX),
			offered_w: l.plan.offer_w,
			price_per_kwh: l.plan.price_milli as f64 / 1000.0,
			accepted_w: fill_w,
			contracted_wh: contracted,
			delivered_wh: delivered,
			metered_wh: metered,
			rate_percent: rate_ppb as f64 / 1e7,
			paid,
			penalty,
			reports: fill.and_then(|f| reports.get(&f).copied()).unwrap_or(0),
			why,
		});
		if fill_w > 0 {
			charts.push((l.plan.name, l.asset, kw.clone(), soc));
			powers.push(kw);
		}
	}
	let tr = Transformer { profile: Profile::shipped()?, scale: sc.base_scale };
	let series = tr.series(minutes as u32, &powers);
	let load = transformer::summarize(&series);
	let mut balances = Vec::new();
	for ((who, id), before) in cast.iter().zip(before) {
		let (free, held) = m.balance(id).await?;
		balances.push(BalanceRow { who: who.clone(), before, after: free + held });
	}
	let report = Report {
		scenario: sc.name.into(),
		scale: cli.scale as f64,
		window: (start, end),
		requested_w: sc.request_w,
		contracted_wh: rows.iter().map(|r| r.contracted_wh).sum(),
		delivered_wh: rows.iter().map(|r| r.delivered_wh).sum(),
		paid: rows.iter().map(|r| r.paid).sum(),
		assets: rows,
		escrow_after: m.escrow(&account(&dso)).await?,
		transformer: series,
		load,
		balances,
		real_seconds: started.elapsed().as_secs_f64(),
	};
	let text = report.text();
	println!("{text}");
	std::fs::write(out.join("report.txt"), &text)?;
	std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&report)?)?;
	write_charts(&out, &charts, &report)?;
	say(format!("report and charts in {} ({:.0} s real time)", out.display(), report.real_seconds));

	if cli.exit {
		return Ok(());
	}
	say(format!(
		"the chain keeps running: https://polkadot.js.org/apps/?rpc={url} (Ctrl-C stops everything)"
	));
	loop {
		tokio::select! {
			_ = tokio::time::sleep(Duration::from_secs(5)) => {},
			e = watch(procs) => return Err(e),
		}
	}
}

/// Resolves once a started process has exited, with its log's end.
async fn watch(procs: &mut procs::Procs) -> anyhow::Error {
	loop {
		if let Err(e) = procs.check() {
			return e;
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// Runs extrinsics concurrently (nonces are handed out in the order given, so one
/// account's calls land in that order); fails if any failed.
async fn all(round: Vec<Pending<'_>>) -> Result<Vec<market::Events>> {
	futures::future::join_all(round).await.into_iter().collect()
}

fn cp_id(plan: &scenario::AssetPlan) -> String {
	plan.fsp.trim_start_matches("//").to_uppercase()
}

/// One line on why an asset was paid what it was.
fn why(l: &Live, sc: &Scenario, accepted_w: u32, rate_ppb: u32, penalty: u128) -> String {
	if accepted_w == 0 {
		return if l.plan.price_milli > sc.max_price_milli {
			"not matched: its price is above the DSO's ceiling".into()
		} else {
			"not matched: cheaper offers covered the request".into()
		};
	}
	let mut s = format!("{}; paid for {:.1} % of its contract", l.plan.role, rate_ppb as f64 / 1e7);
	if accepted_w < l.plan.offer_w {
		s += &format!(", {} of {} kW taken", accepted_w / 1000, l.plan.offer_w / 1000);
	}
	if penalty > 0 {
		s += &format!(
			", penalty {:.3} FLEX (below {} %)",
			penalty as f64 / UNIT as f64,
			sc.penalty.map(|p| p.0).unwrap_or(0)
		);
	}
	s
}

async fn samples(
	client: &reqwest::Client,
	base: &str,
	asset: u32,
	from: u64,
	to: u64,
) -> Result<Vec<Sample>> {
	Ok(client
		.get(format!("{base}/samples/{asset}?from={from}&to={to}"))
		.timeout(Duration::from_secs(5))
		.send()
		.await?
		.error_for_status()?
		.json()
		.await?)
}

fn start_devices(
	procs: &mut procs::Procs,
	bins: &Bins,
	out: &Path,
	cli: &Cli,
	clock: &Clock,
	live: &[Live],
	start: u64,
) -> Result<()> {
	for l in live {
		let mut args = vec![
			"--capacity-wh".into(),
			l.plan.capacity_wh.to_string(),
			"--soc".into(),
			l.plan.soc_percent.to_string(),
			"--max-power-w".into(),
			l.plan.offer_w.to_string(),
			"--scale".into(),
			clock.scale.to_string(),
			"--epoch-ms".into(),
			clock.epoch_ms.to_string(),
			"--market-epoch-ms".into(),
			clock.market_epoch_ms.to_string(),
		];
		if let Some((at, length)) = l.plan.offline {
			args.extend([
				"--offline-at-ms".into(),
				(start + at * MINUTE_MS).to_string(),
				"--offline-for-s".into(),
				(length * 60).to_string(),
			]);
		}
		let (name, bin) = match l.plan.device {
			Device::ModbusBattery => {
				args.extend([
					"--listen".into(),
					format!("127.0.0.1:{}", l.port),
					"--serial".into(),
					format!("SIM-{}", l.asset),
				]);
				(format!("sim-battery-{}", l.asset), &bins.battery)
			},
			Device::OcppCharger => {
				args.extend([
					"--url".into(),
					format!("ws://127.0.0.1:{}/ocpp", cli.port_base + 1),
					"--id".into(),
					l.charge_point.clone(),
					"--reserve".into(),
					l.plan.min_soc_percent.to_string(),
				]);
				(format!("sim-charger-{}", l.asset), &bins.charger)
			},
		};
		procs.spawn(&name, bin, &args, out.join(format!("{name}.log")))?;
	}
	say(format!("{} simulated devices started on the market clock", live.len()));
	Ok(())
}

fn start_bridge(
	procs: &mut procs::Procs,
	bins: &Bins,
	out: &Path,
	cli: &Cli,
	url: &str,
	oracle_uri: &str,
	live: &[Live],
) -> Result<()> {
	let mut config = format!(
		"[chain]\nurl = \"{url}\"\noracle_key = \"{oracle_uri}\"\n\n[store]\npath = \"{}\"\n\n[http]\nlisten = \"127.0.0.1:{}\"\n\n[ocpp]\nlisten = \"127.0.0.1:{}\"\ncall_timeout_s = 5\n",
		out.join("bridge.redb").display(),
		cli.port_base,
		cli.port_base + 1
	);
	for l in live {
		config += &match l.plan.device {
			Device::ModbusBattery => format!(
				"\n[[asset]]\nid = {}\nmodbus = {{ address = \"127.0.0.1:{}\", unit = 1, profile = \"der704\", timeout_s = 1.0 }}\n",
				l.asset, l.port
			),
			Device::OcppCharger => format!("\n[[asset]]\nid = {}\nocpp = {{ charge_point = \"{}\" }}\n", l.asset, l.charge_point),
		};
	}
	let path = out.join("bridge.toml");
	std::fs::write(&path, config)?;
	procs.spawn(
		"bridge",
		&bins.bridge,
		&["--config".into(), path.display().to_string()],
		out.join("bridge.log"),
	)
}

fn write_charts(
	out: &Path,
	charts: &[(&str, u32, Vec<f64>, Vec<(f64, f64)>)],
	report: &Report,
) -> Result<()> {
	use chart::{Line, Panel};
	for (name, asset, kw, soc) in charts {
		let power = Panel {
			title: format!("{name}: discharge power"),
			y_label: "kW".into(),
			lines: vec![Line {
				name: "metered power".into(),
				colour: "#d62728",
				points: kw
					.iter()
					.enumerate()
					.flat_map(|(m, p)| [(m as f64, *p), (m as f64 + 1.0, *p)])
					.collect(),
			}],
			y_range: Some((0.0, 12.0)),
		};
		let soc = Panel {
			title: format!("{name}: state of charge"),
			y_label: "%".into(),
			lines: vec![Line {
				name: "state of charge".into(),
				colour: "#1f77b4",
				points: soc.clone(),
			}],
			y_range: Some((0.0, 100.0)),
		};
		std::fs::write(
			out.join(format!("asset-{asset}.svg")),
			chart::svg(&[power, soc], "minute of the window"),
		)?;
	}
	let base: Vec<(f64, f64)> =
		report.transformer.iter().map(|p| (p.minute as f64 + 0.5, p.base_kw)).collect();
	let with: Vec<(f64, f64)> =
		report.transformer.iter().map(|p| (p.minute as f64 + 0.5, p.load_kw)).collect();
	let panel = Panel {
		title: format!("Transformer load: {:.1} % lower on average", report.load.reduction_percent),
		y_label: "kW".into(),
		lines: vec![
			Line { name: "without flexibility".into(), colour: "#7f7f7f", points: base },
			Line { name: "with flexibility".into(), colour: "#2ca02c", points: with },
		],
		y_range: None,
	};
	std::fs::write(out.join("transformer.svg"), chart::svg(&[panel], "minute of the window"))?;
	Ok(())
}
