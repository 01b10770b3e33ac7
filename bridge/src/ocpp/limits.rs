//! What one charger, or anyone who reaches the OCPP port, may cost the bridge: a
//! bounded handshake, a bounded number of connections, bounded frames and messages, a
//! per-connection message rate, and a session that goes quiet is dropped.

use crate::metrics::{Counters, Label};
use std::{sync::atomic::AtomicU64, time::Duration};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Default seconds a client has to finish the TLS and WebSocket handshakes.
pub const DEFAULT_HANDSHAKE_TIMEOUT_S: u64 = 5;
/// Default cap on open connections, handshakes included.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1_024;
/// Default largest WebSocket frame and message, bytes (OCPP messages are a few KiB).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Default messages a connection may send per market minute (and in a burst).
pub const DEFAULT_MESSAGES_PER_MINUTE: u32 = 120;
/// Default real seconds without any frame (pongs count) before a session is dropped.
pub const DEFAULT_IDLE_TIMEOUT_S: u64 = 60;
/// Real seconds between the pings the central system sends.
pub const PING_INTERVAL: Duration = Duration::from_secs(20);

/// The limits of the central system.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
	/// Time for the TLS and WebSocket handshakes together.
	pub handshake_timeout: Duration,
	/// Open connections at most; more are closed at once.
	pub max_connections: usize,
	/// Largest frame and message, bytes; a larger one closes the connection.
	pub max_message_bytes: usize,
	/// Messages per market minute a connection may send; faster ones wait.
	pub messages_per_minute: u32,
	/// Market ms per real ms of the clock the rate counts in.
	pub clock_scale: f64,
	/// A session without any incoming frame for this long is dropped.
	pub idle_timeout: Duration,
}

impl Default for Limits {
	fn default() -> Self {
		Self {
			handshake_timeout: Duration::from_secs(DEFAULT_HANDSHAKE_TIMEOUT_S),
			max_connections: DEFAULT_MAX_CONNECTIONS,
			max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
			messages_per_minute: DEFAULT_MESSAGES_PER_MINUTE,
			clock_scale: 1.0,
			idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_S),
		}
	}
}

impl Limits {
	/// The WebSocket settings these limits imply: frames and messages of at most
	/// `max_message_bytes`, and small buffers.
	pub fn websocket(&self) -> WebSocketConfig {
		let buffer = self.max_message_bytes.clamp(4 * 1024, 64 * 1024);
		WebSocketConfig::default()
			.read_buffer_size(buffer)
			.write_buffer_size(buffer)
			.max_write_buffer_size(8 * buffer)
			.max_message_size(Some(self.max_message_bytes))
			.max_frame_size(Some(self.max_message_bytes))
	}

	/// A fresh rate limiter for one connection.
	pub fn rate_limiter(&self, now: Instant) -> RateLimiter {
		let per_real_s = self.messages_per_minute as f64 / 60.0 * self.clock_scale;
		RateLimiter::new(self.messages_per_minute.max(1) as f64, per_real_s, now)
	}
}

/// A token bucket: `capacity` messages at once, refilled at `per_s` a second.
#[derive(Clone, Debug)]
pub struct RateLimiter {
	capacity: f64,
	per_s: f64,
	tokens: f64,
	last: Instant,
}

impl RateLimiter {
	/// A full bucket.
	pub fn new(capacity: f64, per_s: f64, now: Instant) -> Self {
		Self { capacity, per_s: per_s.max(f64::MIN_POSITIVE), tokens: capacity, last: now }
	}

	/// Takes a token for a message at `now`: `None` if one was there, otherwise how
	/// long the message must wait for its token (taken on credit).
	pub fn take(&mut self, now: Instant) -> Option<Duration> {
		let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
		self.last = now;
		self.tokens = (self.tokens + elapsed * self.per_s).min(self.capacity) - 1.0;
		(self.tokens < 0.0).then(|| Duration::from_secs_f64(-self.tokens / self.per_s))
	}
}

/// Why the central system refused or dropped a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
	/// Too many connections open.
	Capacity,
	/// The handshake did not finish in time.
	HandshakeTimeout,
	/// The TLS handshake failed.
	Tls,
	/// Not a valid WebSocket upgrade.
	Handshake,
	/// An unknown charge point id (HTTP 404).
	UnknownChargePoint,
	/// No `ocpp1.6` subprotocol offered (HTTP 400).
	Subprotocol,
	/// Wrong or missing credentials (HTTP 401).
	Unauthorized,
	/// An unauthenticated connection for a charge point that is connected (HTTP 409).
	SessionTaken,
	/// A frame or message above the size limit.
	Oversized,
	/// No frame within the idle timeout.
	Idle,
}

impl Label for Refusal {
	/// Every reason, in the order `/metrics` lists them.
	const ALL: &'static [Self] = &[
		Refusal::Capacity,
		Refusal::HandshakeTimeout,
		Refusal::Tls,
		Refusal::Handshake,
		Refusal::UnknownChargePoint,
		Refusal::Subprotocol,
		Refusal::Unauthorized,
		Refusal::SessionTaken,
		Refusal::Oversized,
		Refusal::Idle,
	];

	/// The reason's label in `/metrics`.
	fn name(self) -> &'static str {
		match self {
			Refusal::Capacity => "capacity",
			Refusal::HandshakeTimeout => "handshake_timeout",
			Refusal::Tls => "tls",
			Refusal::Handshake => "handshake",
			Refusal::UnknownChargePoint => "unknown_charge_point",
			Refusal::Subprotocol => "subprotocol",
			Refusal::Unauthorized => "unauthorized",
			Refusal::SessionTaken => "session_taken",
			Refusal::Oversized => "oversized",
			Refusal::Idle => "idle",
		}
	}
}

/// Counters of the central system.
#[derive(Debug, Default)]
pub struct OcppCounters {
	/// Connections refused or dropped, by reason.
	pub(crate) refusals: Counters<Refusal>,
	/// Messages that had to wait for the rate limit.
	pub rate_limited: AtomicU64,
	/// Connections open now (handshakes included).
	pub open: AtomicU64,
}

impl OcppCounters {
	/// Counts a refused or dropped connection.
	pub fn refused(&self, why: Refusal) {
		self.refusals.inc(why);
	}

	/// Connections refused or dropped for `why` so far.
	pub fn refused_count(&self, why: Refusal) -> u64 {
		self.refusals.get(why)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_bucket_allows_a_burst_then_the_rate() {
		let t0 = Instant::now();
		let mut r = RateLimiter::new(3.0, 1.0, t0);
		assert_eq!((r.take(t0), r.take(t0), r.take(t0)), (None, None, None));
		let wait = r.take(t0).unwrap();
		assert!((wait.as_secs_f64() - 1.0).abs() < 1e-9, "{wait:?}");
		// On credit: the next one waits two seconds, unless time passed.
		assert!((r.take(t0).unwrap().as_secs_f64() - 2.0).abs() < 1e-9);
		assert_eq!(r.take(t0 + Duration::from_secs(3)), None);
		// A long pause refills to the capacity, no more.
		let later = t0 + Duration::from_secs(100);
		assert_eq!((r.take(later), r.take(later), r.take(later)), (None, None, None));
		assert!(r.take(later).is_some());
	}

	#[test]
	fn the_rate_follows_the_market_clock() {
		let t0 = Instant::now();
		let limits = Limits { messages_per_minute: 60, clock_scale: 60.0, ..Default::default() };
		let mut r = limits.rate_limiter(t0);
		for _ in 0..60 {
			assert_eq!(r.take(t0), None);
		}
		// 60 a market minute at 60x is 60 a real second.
		let wait = r.take(t0).unwrap();
		assert!((wait.as_secs_f64() - 1.0 / 60.0).abs() < 1e-9, "{wait:?}");
		let ws = Limits::default().websocket();
		assert_eq!(ws.max_message_size, Some(64 * 1024));
		assert_eq!(ws.max_frame_size, Some(64 * 1024));
	}
}
