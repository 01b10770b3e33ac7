//! A raw OCPP 1.6J charge point for the tests of the central system: the WebSocket
//! handshake, JSON frames, answers to the central system's CALLs, and its events.

use flex_bridge::ocpp::central::ChargerEvent;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::{
	io::{AsyncRead, AsyncWrite},
	net::TcpStream,
	sync::mpsc::Receiver,
	time::timeout,
};
use tokio_tungstenite::{
	tungstenite::{
		client::IntoClientRequest, handshake::client::Request, http::HeaderValue, Message,
	},
	MaybeTlsStream, WebSocketStream,
};

/// A charge point's connection over ws://.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The upgrade request of a charge point to `url` (`ws://…/ocpp/<id>`): asking for the
/// `ocpp1.6` subprotocol when `subprotocol`, with `auth` as its `Authorization` header.
pub fn upgrade_request(url: &str, subprotocol: bool, auth: Option<&str>) -> Request {
	let mut req = url.into_client_request().unwrap();
	if subprotocol {
		req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("ocpp1.6"));
	}
	if let Some(a) = auth {
		req.headers_mut().insert("Authorization", HeaderValue::from_str(a).unwrap());
	}
	req
}

/// Connects as a charge point to `url` (see [`upgrade_request`]); the error says why
/// the central system refused (its HTTP status among it).
pub async fn connect(url: &str, subprotocol: bool, auth: Option<&str>) -> Result<Ws, String> {
	let req = upgrade_request(url, subprotocol, auth);
	tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws).map_err(|e| e.to_string())
}

/// The next text frame as JSON; panics after 10 s without one.
pub async fn next_json<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>) -> Value {
	loop {
		let frame = timeout(Duration::from_secs(10), ws.next()).await.expect("a frame in time");
		if let Message::Text(t) = frame.unwrap().unwrap() {
			return serde_json::from_str(t.as_str()).unwrap();
		}
	}
}

/// The CALLRESULT accepting the CALL `call`: `[3, id, {"status": "Accepted"}]`.
pub fn accepted(call: &Value) -> Message {
	Message::text(json!([3, call[1], {"status": "Accepted"}]).to_string())
}

/// The first of the central system's `events` that `what` accepts; panics after 20 s.
pub async fn wait_for(
	events: &mut Receiver<ChargerEvent>,
	what: impl Fn(&ChargerEvent) -> bool,
) -> ChargerEvent {
	timeout(Duration::from_secs(20), async {
		loop {
			let e = events.recv().await.expect("events flow");
			if what(&e) {
				return e;
			}
		}
	})
	.await
	.expect("event in time")
}
