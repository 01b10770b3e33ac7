//! JSON-RPC over HTTP to a node (the same port as its WebSocket), for the calls subxt
//! has no typed form of (`flexMarket_settlement`, a block's hash by number).

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};
use std::time::Duration;

/// The HTTP address of a node's `ws://` JSON-RPC address.
pub fn http_of(ws: &str) -> String {
	ws.replacen("ws://", "http://", 1).replacen("wss://", "https://", 1)
}

/// Calls `method` with `params` on the node at `url` (ws:// or http://): its result.
pub async fn call(url: &str, method: &str, params: Value) -> Result<Value> {
	let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
	let answer: Value = reqwest::Client::new()
		.post(http_of(url))
		.json(&body)
		.timeout(Duration::from_secs(10))
		.send()
		.await
		.with_context(|| format!("{method} at {url}"))?
		.error_for_status()?
		.json()
		.await?;
	if let Some(e) = answer.get("error") {
		return Err(anyhow!("{method} at {url}: {e}"));
	}
	Ok(answer["result"].clone())
}

#[cfg(test)]
mod tests {
	#[test]
	fn websocket_addresses_become_http() {
		assert_eq!(super::http_of("ws://127.0.0.1:9944"), "http://127.0.0.1:9944");
		assert_eq!(super::http_of("http://a:1"), "http://a:1");
	}
}
