//! OCPP security profile 1: HTTP Basic authentication on the WebSocket upgrade.
//!
//! The user is the charge point id, the password the one the configuration holds for
//! it (OCPP 1.6 security whitepaper, `AuthorizationKey`). Passwords are compared in
//! constant time, so the time an answer takes tells nothing about how much of a
//! guess was right.

use base64::Engine as _;
use subtle::ConstantTimeEq;

/// Fewest characters a password may have where authentication is required.
pub const MIN_PASSWORD_LEN: usize = 16;

/// Whether an `Authorization` header value carries `id` and `password`.
pub fn basic_matches(header: Option<&str>, id: &str, password: &str) -> bool {
	let Some(token) = header.and_then(|h| h.strip_prefix("Basic ")) else { return false };
	let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
		return false;
	};
	let Some(colon) = decoded.iter().position(|b| *b == b':') else { return false };
	let (user, given) = (&decoded[..colon], &decoded[colon + 1..]);
	// The id is public (it is in the URL); only the password needs constant time.
	user == id.as_bytes() && bool::from(given.ct_eq(password.as_bytes()))
}

/// The `Authorization` header value for `id` and `password`.
pub fn basic_header(id: &str, password: &str) -> String {
	format!(
		"Basic {}",
		base64::engine::general_purpose::STANDARD.encode(format!("{id}:{password}"))
	)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_the_right_id_and_password_pass() {
		let good = basic_header("CP-1", "correct horse battery");
		assert!(basic_matches(Some(&good), "CP-1", "correct horse battery"));
		assert!(!basic_matches(Some(&good), "CP-2", "correct horse battery"));
		assert!(!basic_matches(Some(&good), "CP-1", "correct horse batter"));
		assert!(!basic_matches(Some(&basic_header("CP-1", "x")), "CP-1", "correct horse battery"));
		assert!(!basic_matches(None, "CP-1", "pw"));
		assert!(!basic_matches(Some("Bearer abc"), "CP-1", "pw"));
		assert!(!basic_matches(Some("Basic !!!"), "CP-1", "pw"));
		let no_colon =
			format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("CP-1"));
		assert!(!basic_matches(Some(&no_colon), "CP-1", ""));
		// A password may hold colons: only the first one separates the user.
		assert!(basic_matches(Some(&basic_header("CP-1", "a:b")), "CP-1", "a:b"));
	}
}
