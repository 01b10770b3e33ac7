//! A charger that lies about its meter, against the central system and the bridge's
//! metering at 60x market time: readings dated in the future (to pre-write the minutes
//! of a window), stale ones, a register that runs backwards, readings of another
//! connector, and a charger over-reporting its fill, which is capped at its contract.

mod common;

use common::{
	dispatch::{dispatcher, fill, metered_charger},
	ledger::MemLedger,
	ocpp::{accepted, connect},
	until,
};
use flex_bridge::{
	anomaly::AnomalyKind,
	chain::Fill,
	clock::Clock,
	dispatch::{DeviceLink, Dispatch, Dispatcher},
	metering::{self, MINUTE_MS},
	metrics::Gauges,
	store::Store,
};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{sync::Arc, time::Duration};
use tokio::{sync::mpsc, time::timeout};
use tokio_tungstenite::tungstenite::Message;

/// A market minute per real second.
const SCALE: f64 = 60.0;
const ASSET: u32 = 9;

struct Rig {
	/// The link to charger `CP`.
	link: DeviceLink,
	dispatcher: Dispatcher,
	ledger: Arc<MemLedger>,
	clock: Clock,
	url: String,
	_dir: tempfile::TempDir,
}

impl Rig {
	fn store(&self) -> &Store {
		&self.dispatcher.store
	}

	fn count(&self, kind: AnomalyKind) -> u64 {
		self.dispatcher.metrics.anomalies.get(kind)
	}
}

/// The central system with charger `CP` on connector 1 for asset 9, and the bridge's
/// metering behind it.
async fn rig() -> Rig {
	let clock = Clock::scaled(Clock::real_now_ms(), SCALE);
	let dir = tempfile::tempdir().unwrap();
	let ledger = Arc::new(MemLedger::default());
	let dispatcher = dispatcher(dir.path(), clock, ledger.clone());
	let (link, url) = metered_charger(&dispatcher, "CP", ASSET, Duration::from_secs(2)).await;
	Rig { link, dispatcher, ledger, clock, url, _dir: dir }
}

/// A charger under the test's control: it answers every CALL with `Accepted` and sends
/// whatever frames the test gives it.
async fn forger(url: &str) -> mpsc::Sender<String> {
	let mut ws = connect(&format!("{url}/CP"), true, None).await.unwrap();
	let (tx, mut rx) = mpsc::channel::<String>(16);
	tokio::spawn(async move {
		loop {
			tokio::select! {
				Some(text) = rx.recv() => ws.send(Message::text(text)).await.unwrap(),
				Some(Ok(Message::Text(t))) = ws.next() => {
					let v: Value = serde_json::from_str(t.as_str()).unwrap();
					if v[0] == 2 {
						ws.send(accepted(&v)).await.unwrap();
					}
				},
				else => return,
			}
		}
	});
	tx
}

/// A clock-aligned `MeterValues` dated `at_ms` with the export register at `wh`.
fn reading(connector: u32, at_ms: u64, wh: u64) -> String {
	let at = chrono::DateTime::from_timestamp_millis(at_ms as i64).unwrap();
	let sampled = |measurand: &str, value: u64| json!({"value": value.to_string(), "measurand": measurand, "unit": "Wh", "context": "Sample.Clock"});
	json!([2, format!("m{at_ms}-{wh}-{connector}"), "MeterValues", {
		"connectorId": connector,
		"meterValue": [{"timestamp": at, "sampledValue": [
			sampled("Energy.Active.Export.Register", wh),
			sampled("Energy.Active.Import.Register", 0),
		]}],
	}])
	.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_readings_are_refused_counted_and_kept() {
	let r = rig().await;
	let cp = forger(&r.url).await;
	// A second into a market minute, so that the readings arrive inside it.
	let m0 = metering::minute_of(r.clock.now_ms()) + MINUTE_MS;
	r.clock.sleep_until(m0 + 1_000).await;

	// An honest reading: filed under the minute it arrived in.
	cp.send(reading(1, r.clock.now_ms(), 1_000)).await.unwrap();
	until(|| r.store().sample_count().unwrap() == 1).await;
	// Future-dated, to pre-write the end of a window with a high register: refused.
	cp.send(reading(1, m0 + 30 * MINUTE_MS, 9_999)).await.unwrap();
	until(|| r.count(AnomalyKind::FutureDated) == 1).await;
	// Another connector's meter (another car's energy): refused.
	cp.send(reading(2, r.clock.now_ms(), 5_000)).await.unwrap();
	until(|| r.count(AnomalyKind::WrongConnector) == 1).await;
	// An hour old, replayed: refused.
	cp.send(reading(1, m0 - 60 * MINUTE_MS, 500)).await.unwrap();
	until(|| r.count(AnomalyKind::Stale) == 1).await;

	// The next minute: a register lower than the last one is refused; a reading the
	// device dated 90 s ahead (within the tolerance) is filed under its arrival minute.
	let m1 = m0 + MINUTE_MS;
	r.clock.sleep_until(m1 + 1_000).await;
	cp.send(reading(1, r.clock.now_ms(), 900)).await.unwrap();
	cp.send(reading(1, r.clock.now_ms() + 90_000, 1_100)).await.unwrap();
	until(|| r.store().sample_count().unwrap() == 2).await;
	assert_eq!(r.count(AnomalyKind::RegisterBackwards), 1);

	let samples = r.store().samples(ASSET, 0, u64::MAX).unwrap();
	let filed: Vec<(u64, u64)> = samples.iter().map(|s| (s.at_ms, s.exported_wh)).collect();
	assert_eq!(filed, vec![(m0, 1_000), (m1, 1_100)], "nothing filed where the device said");
	// Each refusal is kept beside the samples...
	let kept = r.store().anomalies(ASSET, 0, u64::MAX, 100).unwrap();
	let kinds: Vec<AnomalyKind> = kept.iter().map(|a| a.kind).collect();
	assert_eq!(
		kinds,
		vec![
			AnomalyKind::FutureDated,
			AnomalyKind::WrongConnector,
			AnomalyKind::Stale,
			AnomalyKind::RegisterBackwards
		]
	);
	assert!(kept[3].detail.contains("900"), "{:?}", kept[3]);
	// ...and counted by kind in /metrics.
	let text = r.dispatcher.metrics.render(Gauges::default());
	for kind in ["future_dated", "wrong_connector", "stale", "register_backwards"] {
		assert!(text.contains(&format!("flexbridge_meter_anomalies_total{{kind=\"{kind}\"}} 1\n")));
	}
	assert!(text.contains("flexbridge_meter_anomalies_total{kind=\"over_reported\"} 0\n"));
	assert!(r.link.is_connected(), "the protocol answers stay polite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_reporting_charger_is_capped_at_its_contract() {
	let r = rig().await;
	let cp = forger(&r.url).await;
	let start = metering::minute_of(r.clock.now_ms()) + 2 * MINUTE_MS;
	let end = start + 10 * MINUTE_MS;
	// Contracted 10 kW for 10 minutes (1 667 Wh); the charger claims 500 Wh a minute.
	{
		let (cp, clock) = (cp.clone(), r.clock);
		tokio::spawn(async move {
			let mut minute = metering::minute_of(clock.now_ms()) + MINUTE_MS;
			let mut wh = 10_000;
			while minute <= end + MINUTE_MS {
				clock.sleep_until(minute).await;
				let _ = cp.send(reading(1, minute, wh)).await;
				wh += 500;
				minute += MINUTE_MS;
			}
		});
	}
	// No deadline stored: the default grace.
	let fill =
		Fill { offer: 1, energy_wh: 1_667, report_deadline_ms: 0, ..fill(4, ASSET, start, 10, 0) };
	let run = r.dispatcher.clone().run(Dispatch::new(fill, None), r.link.clone());
	timeout(Duration::from_secs(60), run).await.expect("the fill is reported");

	let report = r.store().report(4, 0).unwrap().unwrap();
	// 10 kW × 10 min × 1.02.
	assert_eq!(report.delivered_wh, 1_700);
	assert_eq!(report.metered_wh, Some(5_000));
	let over: Vec<_> =
		report.anomalies.iter().filter(|a| a.kind == AnomalyKind::OverReported).collect();
	assert_eq!(over.len(), 1, "{:?}", report.anomalies);
	assert!(over[0].detail.contains("5000 Wh"), "{}", over[0].detail);
	assert_eq!(r.ledger.delivered(4, 0), Some(1_700), "the chain hears the capped figure");
	assert_eq!(r.count(AnomalyKind::OverReported), 1);
	let log = r.store().commands(10).unwrap();
	assert!(log.iter().any(|c| c.command == "power 10000 W" && c.outcome == "ok"), "{log:?}");
}
