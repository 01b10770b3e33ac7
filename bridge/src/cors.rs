//! CORS for the HTTP endpoint's read views, so that the web app (served from another
//! origin) can read them from a browser. Only the configured origins are allowed,
//! only for `GET` (every endpoint is a read); any other origin gets no CORS headers
//! and the browser keeps the answer from the page.

use axum::{
	extract::{Request, State},
	http::{header, HeaderMap, HeaderValue, Method, StatusCode},
	middleware::Next,
	response::{IntoResponse, Response},
};
use std::sync::Arc;

/// The origins allowed to read the endpoint from a browser.
#[derive(Clone, Debug, Default)]
pub struct Cors {
	origins: Arc<Vec<String>>,
}

impl Cors {
	/// Allows `origins` (e.g. `http://127.0.0.1:8000`); `*` allows any origin.
	pub fn new(origins: Vec<String>) -> Self {
		Self { origins: Arc::new(origins) }
	}

	/// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
	pub fn allow(&self, origin: &str) -> Option<HeaderValue> {
		let allowed = self.origins.iter().any(|o| o == "*" || o == origin);
		allowed.then(|| HeaderValue::from_str(origin).ok()).flatten()
	}
}

fn origin(headers: &HeaderMap) -> Option<&str> {
	headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
}

/// Answers preflights and adds the CORS headers to the answers of allowed origins.
pub async fn layer(State(cors): State<Cors>, request: Request, next: Next) -> Response {
	let allowed = origin(request.headers()).and_then(|o| cors.allow(o));
	if request.method() == Method::OPTIONS {
		let Some(value) = allowed else { return StatusCode::FORBIDDEN.into_response() };
		let mut response = StatusCode::NO_CONTENT.into_response();
		let h = response.headers_mut();
		h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
		h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET"));
		h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
		h.insert(header::VARY, HeaderValue::from_static("Origin"));
		return response;
	}
	let mut response = next.run(request).await;
	if let Some(value) = allowed {
		let h = response.headers_mut();
		h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
		h.insert(header::VARY, HeaderValue::from_static("Origin"));
	}
	response
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_configured_origins_are_allowed() {
		let cors = Cors::new(vec!["http://127.0.0.1:8000".into()]);
		assert!(cors.allow("http://127.0.0.1:8000").is_some());
		assert!(cors.allow("http://evil.example").is_none());
		assert!(Cors::default().allow("http://127.0.0.1:8000").is_none());
		assert!(Cors::new(vec!["*".into()]).allow("http://any.example").is_some());
	}
}
