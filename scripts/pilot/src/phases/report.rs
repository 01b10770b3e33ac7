//! Phase 7: the report. Table III per asset (from the settlement and the bridge's
//! samples), the transformer's load with and without the metered flexibility, the
//! balances before and after; printed, written as text and JSON, and charted.

use super::{
	assets::Live,
	cast::{Party, Schedule},
	settlement::Settlement,
	trade::Trade,
	window::samples,
};
use crate::{
	chart::{self, Line, Panel},
	context::{say, Run},
	market::UNIT,
	report::{self, AssetRow, BalanceRow, Report},
	scenario::Scenario,
	transformer::{self, Profile, Transformer},
};
use anyhow::Result;
use flex_bridge::{
	chain::{ss58, SS58_PREFIX},
	metering::{Sample, MINUTE_MS},
};
use std::path::Path;

/// One asset's charts: its name, id, minute power (kW) and state of charge (minute, %).
type AssetChart = (&'static str, u32, Vec<f64>, Vec<(f64, f64)>);

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

/// The asset's minute power (kW), its state of charge (minute, %) and the energy the
/// bridge metered over the window (Wh), from its samples.
fn metered(s: &[Sample], start: u64, minutes: u64) -> (Vec<f64>, Vec<(f64, f64)>, u64) {
	let readings: Vec<(u64, i64)> = s
		.iter()
		.map(|x| ((x.at_ms - start) / MINUTE_MS, x.exported_wh as i64 - x.imported_wh as i64))
		.collect();
	let kw = report::minute_power_kw(&readings, minutes);
	let soc = s
		.iter()
		.filter_map(|x| {
			x.soc_permille.map(|p| (((x.at_ms - start) / MINUTE_MS) as f64, p as f64 / 10.0))
		})
		.collect();
	let wh = match (s.first(), s.last()) {
		(Some(a), Some(b)) if a.at_ms == start => b.exported_wh.saturating_sub(a.exported_wh),
		_ => 0,
	};
	(kw, soc, wh)
}

/// Table III's row of one asset.
fn row(run: &Run, l: &Live, trade: &Trade, done: &Settlement, metered_wh: u64) -> AssetRow {
	let accepted = trade.accepted.get(&l.asset);
	let settled = done.settled.get(&l.asset);
	let fill_w = accepted.map_or(0, |a| a.power_w);
	let (contracted, delivered, rate_ppb, paid, penalty) = match (accepted, settled) {
		(Some(_), Some(s)) => (s.contracted_wh, s.delivered_wh, s.rate_ppb, s.paid, s.penalty),
		_ => (0, 0, 0, 0, 0),
	};
	AssetRow {
		name: l.plan.name.into(),
		role: l.plan.role.into(),
		asset: l.asset,
		fsp: ss58::encode(&l.fsp.public_key().0, SS58_PREFIX),
		offered_w: l.plan.offer_w,
		price_per_kwh: l.plan.price_milli as f64 / 1000.0,
		accepted_w: fill_w,
		contracted_wh: contracted,
		delivered_wh: delivered,
		metered_wh,
		rate_percent: rate_ppb as f64 / 1e7,
		paid,
		penalty,
		reports: accepted.and_then(|a| done.reports.get(&a.fill).copied()).unwrap_or(0),
		why: why(l, &run.sc, fill_w, rate_ppb, penalty),
	}
}

/// What the report phase is given.
pub struct Outcome<'a> {
	/// The window.
	pub schedule: &'a Schedule,
	/// The assets.
	pub live: &'a [Live],
	/// The trade.
	pub trade: &'a Trade,
	/// The settlement.
	pub settlement: &'a Settlement,
	/// Who is in the balances, and their balances before the market steps.
	pub balances: &'a (Vec<Party>, Vec<u128>),
}

/// Builds the report, prints it and writes it with its charts.
pub async fn write(run: &Run, o: &Outcome<'_>) -> Result<Report> {
	let (start, end) = (o.schedule.start, o.schedule.end);
	let minutes = run.sc.window_min;
	let client = reqwest::Client::new();
	let (mut rows, mut powers, mut charts) = (Vec::new(), Vec::new(), Vec::new());
	for l in o.live {
		let s = samples(&client, &run.bridge_http(), l.asset, start, end).await.unwrap_or_default();
		let (kw, soc, metered_wh) = metered(&s, start, minutes);
		let row = row(run, l, o.trade, o.settlement, metered_wh);
		if row.accepted_w > 0 {
			charts.push((l.plan.name, l.asset, kw.clone(), soc));
			powers.push(kw);
		}
		rows.push(row);
	}
	let tr = Transformer { profile: Profile::shipped()?, scale: run.sc.base_scale };
	let series = tr.series(minutes as u32, &powers);
	let load = transformer::summarize(&series);
	let m = &run.nodes.dso;
	let mut balances = Vec::new();
	for ((who, id), before) in o.balances.0.iter().zip(&o.balances.1) {
		let (free, held) = m.balance(id).await?;
		balances.push(BalanceRow { who: who.clone(), before: *before, after: free + held });
	}
	let report = Report {
		scenario: run.sc.name.into(),
		scale: run.cli.scale as f64,
		window: (start, end),
		requested_w: run.sc.request_w,
		contracted_wh: rows.iter().map(|r| r.contracted_wh).sum(),
		delivered_wh: rows.iter().map(|r| r.delivered_wh).sum(),
		paid: rows.iter().map(|r| r.paid).sum(),
		assets: rows,
		escrow_after: m.escrow(&run.cast.dso_account()).await?,
		transformer: series,
		load,
		balances,
		real_seconds: run.started.elapsed().as_secs_f64(),
	};
	let text = report.text();
	println!("{text}");
	std::fs::write(run.out.join("report.txt"), &text)?;
	std::fs::write(run.out.join("report.json"), serde_json::to_string_pretty(&report)?)?;
	write_charts(&run.out, &charts, &report)?;
	say(format!(
		"report and charts in {} ({:.0} s real time)",
		run.out.display(),
		report.real_seconds
	));
	Ok(report)
}

/// An asset's chart: its metered power and its state of charge.
fn asset_chart((name, _, kw, soc): &AssetChart) -> String {
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
	chart::svg(&[power, soc], "minute of the window")
}

/// The transformer's chart: its load without and with the flexibility.
fn transformer_chart(report: &Report) -> String {
	let points = |f: fn(&transformer::LoadPoint) -> f64| {
		report.transformer.iter().map(|p| (p.minute as f64 + 0.5, f(p))).collect()
	};
	let panel = Panel {
		title: format!("Transformer load: {:.1} % lower on average", report.load.reduction_percent),
		y_label: "kW".into(),
		lines: vec![
			Line {
				name: "without flexibility".into(),
				colour: "#7f7f7f",
				points: points(|p| p.base_kw),
			},
			Line {
				name: "with flexibility".into(),
				colour: "#2ca02c",
				points: points(|p| p.load_kw),
			},
		],
		y_range: None,
	};
	chart::svg(&[panel], "minute of the window")
}

/// Writes `asset-N.svg` per contracted asset and `transformer.svg`.
fn write_charts(out: &Path, charts: &[AssetChart], report: &Report) -> Result<()> {
	for c in charts {
		std::fs::write(out.join(format!("asset-{}.svg", c.1)), asset_chart(c))?;
	}
	std::fs::write(out.join("transformer.svg"), transformer_chart(report))?;
	Ok(())
}
