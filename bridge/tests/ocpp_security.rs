//! The OCPP port under attack: security profile 2 (TLS and passwords) with a
//! certificate made by the test, a hijacker posing as a connected charger, an
//! oversized frame, a connection flood beyond the cap, a handshake that never
//! finishes, and a charger sending faster than its message rate.

mod common;

use common::{
	devices::{self, car_config},
	ocpp::{accepted, next_json, upgrade_request, wait_for},
	until,
};
use flex_bridge::{
	clock::Clock,
	metrics::Metrics,
	ocpp::{
		auth,
		central::{CentralOptions, CentralSystem, ChargerConfig, ChargerEvent},
		limits::{Limits, Refusal},
		tls,
	},
	sim::charger::{ChargerSim, ChargerSimConfig},
};
use futures::{SinkExt, StreamExt};
use rustls::{
	crypto::ring,
	pki_types::{pem::PemObject, CertificateDer, ServerName},
	ClientConfig, RootCertStore,
};
use serde_json::Value;
use std::{
	net::SocketAddr,
	path::{Path, PathBuf},
	sync::Arc,
	time::Duration,
};
use tokio::{
	io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
	net::{TcpListener, TcpStream},
	sync::mpsc::Receiver,
	time::timeout,
};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_tungstenite::{tungstenite::Message, WebSocketStream};

const PASSWORD: &str = "correct horse battery staple";

fn charger(id: &str, password: Option<&str>) -> ChargerConfig {
	ChargerConfig { password: password.map(String::from), ..devices::charger(id) }
}

struct Central {
	cs: CentralSystem,
	events: Receiver<ChargerEvent>,
	addr: SocketAddr,
	metrics: Arc<Metrics>,
}

impl Central {
	fn refused(&self, why: Refusal) -> u64 {
		self.metrics.ocpp.refused_count(why)
	}
}

async fn start(chargers: Vec<ChargerConfig>, limits: Limits, tls: Option<TlsAcceptor>) -> Central {
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	let options = CentralOptions {
		limits,
		tls,
		..CentralOptions::new(Clock::real(), Duration::from_secs(2), 60)
	};
	let metrics = options.metrics.clone();
	let (cs, events) = CentralSystem::with_options(chargers, options);
	tokio::spawn(cs.clone().serve(listener));
	Central { cs, events, addr, metrics }
}

fn car(url: String, id: &str, password: Option<&str>) -> ChargerSimConfig {
	ChargerSimConfig {
		password: password.map(String::from),
		..car_config(&url, id, 60.0, 30.0, Clock::real())
	}
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) PEM files.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
	let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
	let rcgen::CertifiedKey { cert, key_pair } = rcgen::generate_simple_self_signed(names).unwrap();
	let (cert_path, key_path) = (dir.join("ocpp.crt"), dir.join("ocpp.key"));
	std::fs::write(&cert_path, cert.pem()).unwrap();
	std::fs::write(&key_path, key_pair.serialize_pem()).unwrap();
	(cert_path, key_path)
}

fn trusting(cert: &Path) -> Arc<ClientConfig> {
	let mut roots = RootCertStore::empty();
	roots.add(CertificateDer::from_pem_file(cert).unwrap()).unwrap();
	let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
		.with_safe_default_protocol_versions()
		.unwrap()
		.with_root_certificates(roots)
		.with_no_client_auth();
	Arc::new(config)
}

async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
	stream: S,
	url: String,
	auth: Option<&str>,
) -> Result<WebSocketStream<S>, String> {
	let req = upgrade_request(&url, true, auth);
	tokio_tungstenite::client_async(req, stream).await.map(|(ws, _)| ws).map_err(|e| e.to_string())
}

/// A raw charger over ws://.
async fn ws(
	addr: SocketAddr,
	id: &str,
	auth: Option<&str>,
) -> Result<WebSocketStream<TcpStream>, String> {
	let tcp = TcpStream::connect(addr).await.unwrap();
	upgrade(tcp, format!("ws://{addr}/ocpp/{id}"), auth).await
}

/// A raw charger over wss://.
async fn wss(
	addr: SocketAddr,
	ca: Arc<ClientConfig>,
	id: &str,
	auth: Option<&str>,
) -> Result<WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>, String> {
	let tcp = TcpStream::connect(addr).await.unwrap();
	let name = ServerName::try_from("127.0.0.1").unwrap();
	let stream = TlsConnector::from(ca).connect(name, tcp).await.map_err(|e| e.to_string())?;
	upgrade(stream, format!("wss://127.0.0.1:{}/ocpp/{id}", addr.port()), auth).await
}

async fn booted(events: &mut Receiver<ChargerEvent>, who: &str) {
	wait_for(events, |e| matches!(e, ChargerEvent::Booted { id, .. } if id == who)).await;
}

/// Reads frames, answering the central system's CALLs with `Accepted`, until one
/// answers `id`.
async fn answer_to<S: AsyncRead + AsyncWrite + Unpin>(
	ws: &mut WebSocketStream<S>,
	id: &str,
) -> Value {
	loop {
		let v = next_json(ws).await;
		if v[0] == 2 {
			ws.send(accepted(&v)).await.unwrap();
		} else if v[1] == id {
			return v;
		}
	}
}

/// Connects as charger `RAW` over ws:// and checks that a heartbeat is answered.
async fn heartbeat_answered(addr: SocketAddr) {
	let mut raw = ws(addr, "RAW", None).await.unwrap();
	raw.send(Message::text(r#"[2,"hb","Heartbeat",{}]"#)).await.unwrap();
	assert_eq!(answer_to(&mut raw, "hb").await[0], 3);
}

/// Waits until the server ends the connection (close frame, error or end of stream).
async fn closed<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>) {
	timeout(Duration::from_secs(10), async {
		loop {
			match ws.next().await {
				None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
				Some(Ok(_)) => continue,
			}
		}
	})
	.await
	.expect("the server closes the connection");
}

/// Whether the server ends a raw TCP connection within `within`.
async fn dropped(s: &mut TcpStream, within: Duration) -> bool {
	let mut buf = [0u8; 64];
	loop {
		match timeout(within, s.read(&mut buf)).await {
			Err(_) => return false,
			Ok(Ok(0)) | Ok(Err(_)) => return true,
			Ok(Ok(_)) => continue,
		}
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_2_tls_and_passwords_admit_the_right_charger_only() {
	let dir = tempfile::tempdir().unwrap();
	let (cert, key) = self_signed(dir.path());
	let acceptor = tls::acceptor(&cert, &key).unwrap();
	let mut c =
		start(vec![charger("V2G-TLS", Some(PASSWORD))], Limits::default(), Some(acceptor)).await;

	// The simulated charger over wss:// with its password: boots and takes a setpoint.
	let url = format!("wss://127.0.0.1:{}/ocpp", c.addr.port());
	let sim = ChargerSim::new(car(url, "V2G-TLS", Some(PASSWORD))).with_ca_cert(&cert).unwrap();
	tokio::spawn(sim.clone().run());
	booted(&mut c.events, "V2G-TLS").await;
	until(|| sim.state.lock().unwrap().aligned_interval_s == 60).await;
	c.cs.set_power("V2G-TLS", 5_000.0).await.unwrap();
	assert_eq!(sim.state.lock().unwrap().storage.setpoint_w, 5_000.0);

	// Over TLS, a wrong or missing password gets 401.
	let ca = trusting(&cert);
	let wrong = auth::basic_header("V2G-TLS", "correct horse battery stapler");
	let e = wss(c.addr, ca.clone(), "V2G-TLS", Some(&wrong)).await.unwrap_err();
	assert!(e.contains("401"), "{e}");
	let e = wss(c.addr, ca.clone(), "V2G-TLS", None).await.unwrap_err();
	assert!(e.contains("401"), "{e}");
	assert_eq!(c.refused(Refusal::Unauthorized), 2);
	// Plain ws:// to the TLS port, even with the password, gets nowhere.
	let right = auth::basic_header("V2G-TLS", PASSWORD);
	assert!(ws(c.addr, "V2G-TLS", Some(&right)).await.is_err());
	until(|| c.refused(Refusal::Tls) == 1).await;
	// The charger's session was never disturbed.
	assert!(c.cs.is_connected("V2G-TLS"));
	assert_eq!(sim.state.lock().unwrap().sessions, 1);
	// A sim without the certificate authority cannot speak wss:// at all.
	let lone = ChargerSim::new(car(format!("wss://127.0.0.1:{}/ocpp", c.addr.port()), "X", None));
	assert!(lone.with_ca_cert(&dir.path().join("missing.pem")).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hijacker_without_credentials_cannot_take_over_a_session() {
	let mut c =
		start(vec![charger("OPEN", None), charger("SEC", Some(PASSWORD))], Limits::default(), None)
			.await;
	let sim = ChargerSim::new(car(format!("ws://{}/ocpp", c.addr), "OPEN", None));
	tokio::spawn(sim.clone().run());
	booted(&mut c.events, "OPEN").await;
	until(|| sim.state.lock().unwrap().aligned_interval_s == 60).await;

	// Same id, no way to prove anything: refused while the charger's session lives.
	let e = ws(c.addr, "OPEN", None).await.unwrap_err();
	assert!(e.contains("409"), "{e}");
	assert_eq!(c.refused(Refusal::SessionTaken), 1);
	// Commands still reach the real charger, on its first session.
	c.cs.set_power("OPEN", 3_000.0).await.unwrap();
	assert_eq!(sim.state.lock().unwrap().storage.setpoint_w, 3_000.0);
	assert_eq!(sim.state.lock().unwrap().sessions, 1);

	// With a password, only a newcomer that proves it may replace the session (as a
	// rebooted charger does).
	let right = auth::basic_header("SEC", PASSWORD);
	let mut first = ws(c.addr, "SEC", Some(&right)).await.unwrap();
	assert!(ws(c.addr, "SEC", None).await.unwrap_err().contains("401"));
	let wrong = auth::basic_header("SEC", "not the password, not at all");
	assert!(ws(c.addr, "SEC", Some(&wrong)).await.unwrap_err().contains("401"));
	let mut second = ws(c.addr, "SEC", Some(&right)).await.unwrap();
	closed(&mut first).await;
	// The charger's commands go to the session that replaced it.
	let cs = c.cs.clone();
	let trigger = tokio::spawn(async move { cs.trigger_meter_values("SEC").await });
	loop {
		let v = next_json(&mut second).await;
		if v[0] == 2 {
			let action = v[2].clone();
			second.send(accepted(&v)).await.unwrap();
			if action == "TriggerMessage" {
				break;
			}
		}
	}
	trigger.await.unwrap().unwrap();
	assert!(c.cs.is_connected("SEC"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_closes_the_connection() {
	let c = start(vec![charger("RAW", None)], Limits::default(), None).await;
	let mut raw = ws(c.addr, "RAW", None).await.unwrap();
	// Just under 64 KiB: answered.
	let padded = format!("[2,\"big\",\"Heartbeat\",{{}}]{}", " ".repeat(60 * 1024));
	raw.send(Message::text(padded)).await.unwrap();
	assert_eq!(answer_to(&mut raw, "big").await[0], 3);
	// Above it: the connection is closed; nothing of it is parsed.
	let _ = raw
		.send(Message::text(format!("[2,\"huge\",\"Heartbeat\",{{}}]{}", " ".repeat(100 * 1024))))
		.await;
	closed(&mut raw).await;
	until(|| !c.cs.is_connected("RAW")).await;
	assert_eq!(c.refused(Refusal::Oversized), 1);
	// The charger can come back with normal frames.
	heartbeat_answered(c.addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_beyond_the_cap_is_turned_away() {
	let limits = Limits {
		max_connections: 4,
		handshake_timeout: Duration::from_secs(2),
		..Default::default()
	};
	let c = start(vec![charger("RAW", None)], limits, None).await;
	let mut idle = Vec::new();
	for _ in 0..4 {
		idle.push(TcpStream::connect(c.addr).await.unwrap());
	}
	until(|| c.cs.open_connections() == 4).await;
	// Beyond the cap: closed at once, without a handshake.
	for _ in 0..6 {
		let mut extra = TcpStream::connect(c.addr).await.unwrap();
		assert!(dropped(&mut extra, Duration::from_secs(1)).await, "closed at once");
	}
	assert_eq!(c.refused(Refusal::Capacity), 6);
	assert_eq!(c.cs.open_connections(), 4);
	// The silent ones are dropped at the handshake timeout, and the slots are free again.
	for s in &mut idle {
		assert!(dropped(s, Duration::from_secs(5)).await, "dropped at the handshake timeout");
	}
	until(|| c.cs.open_connections() == 0).await;
	assert_eq!(c.refused(Refusal::HandshakeTimeout), 4);
	heartbeat_answered(c.addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_that_never_finishes_is_dropped() {
	let limits = Limits { handshake_timeout: Duration::from_secs(1), ..Default::default() };
	let c = start(vec![charger("RAW", None)], limits, None).await;
	let mut slow = TcpStream::connect(c.addr).await.unwrap();
	// An upgrade request whose headers never end.
	slow.write_all(b"GET /ocpp/RAW HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
		.await
		.unwrap();
	assert!(!dropped(&mut slow, Duration::from_millis(500)).await, "not before the timeout");
	assert!(dropped(&mut slow, Duration::from_secs(3)).await, "dropped after it");
	assert_eq!(c.refused(Refusal::HandshakeTimeout), 1);
	until(|| c.cs.open_connections() == 0).await;
	assert!(!c.cs.is_connected("RAW"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_connection_is_held_to_its_message_rate() {
	// 10 messages a minute: a burst of 10, then one every 6 s.
	let limits = Limits { messages_per_minute: 10, ..Default::default() };
	let c = start(vec![charger("RAW", None)], limits, None).await;
	let mut raw = ws(c.addr, "RAW", None).await.unwrap();
	for i in 0..15 {
		raw.send(Message::text(format!(r#"[2,"h{i}","Heartbeat",{{}}]"#))).await.unwrap();
	}
	let mut answered = 0;
	let window = tokio::time::Instant::now() + Duration::from_secs(2);
	while let Ok(Some(Ok(m))) = tokio::time::timeout_at(window, raw.next()).await {
		if let Message::Text(t) = m {
			let v: Value = serde_json::from_str(t.as_str()).unwrap();
			answered += (v[0] == 3) as u32;
		}
	}
	assert_eq!(answered, 10, "the burst, no more");
	assert!(c.metrics.ocpp.rate_limited.load(std::sync::atomic::Ordering::Relaxed) >= 1);
	// The rest wait their turn rather than being lost.
	assert_eq!(answer_to(&mut raw, "h10").await[0], 3);
	assert!(c.cs.is_connected("RAW"));
}
