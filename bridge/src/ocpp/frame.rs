//! OCPP-J message framing (OCPP 1.6J section 4): CALL, CALLRESULT and CALLERROR.

use serde_json::{json, Value};
use std::fmt;

/// Longest message id the specification allows.
pub const MAX_ID_LEN: usize = 36;

/// One OCPP-J message.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
	/// `[2, id, action, payload]`: a request.
	Call {
		/// Unique id chosen by the sender.
		id: String,
		/// The action, e.g. `BootNotification`.
		action: String,
		/// The request payload.
		payload: Value,
	},
	/// `[3, id, payload]`: the answer to a CALL.
	CallResult {
		/// Id of the CALL answered.
		id: String,
		/// The response payload.
		payload: Value,
	},
	/// `[4, id, code, description, details]`: a CALL that failed.
	CallError {
		/// Id of the CALL answered.
		id: String,
		/// The error code.
		code: ErrorCode,
		/// Human-readable description.
		description: String,
		/// Error details (an object).
		details: Value,
	},
}

/// CALLERROR codes of OCPP-J 1.6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
	/// The action is not known.
	NotImplemented,
	/// The action is known but not supported.
	NotSupported,
	/// The receiver failed to process the action.
	InternalError,
	/// The payload is incomplete.
	ProtocolError,
	/// A security issue prevented processing.
	SecurityError,
	/// The payload is syntactically wrong.
	FormationViolation,
	/// A field holds a value out of its constraints.
	PropertyConstraintViolation,
	/// A field occurs a wrong number of times.
	OccurenceConstraintViolation,
	/// A field has the wrong type.
	TypeConstraintViolation,
	/// Any other error.
	GenericError,
}

impl ErrorCode {
	/// The code as spelled on the wire.
	pub fn as_str(self) -> &'static str {
		match self {
			Self::NotImplemented => "NotImplemented",
			Self::NotSupported => "NotSupported",
			Self::InternalError => "InternalError",
			Self::ProtocolError => "ProtocolError",
			Self::SecurityError => "SecurityError",
			Self::FormationViolation => "FormationViolation",
			Self::PropertyConstraintViolation => "PropertyConstraintViolation",
			Self::OccurenceConstraintViolation => "OccurenceConstraintViolation",
			Self::TypeConstraintViolation => "TypeConstraintViolation",
			Self::GenericError => "GenericError",
		}
	}

	/// Parses a wire code; unknown codes become `GenericError`.
	pub fn parse(code: &str) -> Self {
		match code {
			"NotImplemented" => Self::NotImplemented,
			"NotSupported" => Self::NotSupported,
			"InternalError" => Self::InternalError,
			"ProtocolError" => Self::ProtocolError,
			"SecurityError" => Self::SecurityError,
			"FormationViolation" => Self::FormationViolation,
			"PropertyConstraintViolation" => Self::PropertyConstraintViolation,
			"OccurenceConstraintViolation" | "OccurrenceConstraintViolation" => {
				Self::OccurenceConstraintViolation
			},
			"TypeConstraintViolation" => Self::TypeConstraintViolation,
			_ => Self::GenericError,
		}
	}
}

impl fmt::Display for ErrorCode {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(self.as_str())
	}
}

/// Why a text message is not a valid OCPP-J frame.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct FrameError {
	/// The message id, when one could be read (to answer with a CALLERROR).
	pub id: Option<String>,
	/// What is wrong.
	pub reason: String,
}

impl FrameError {
	fn new(id: Option<String>, reason: impl Into<String>) -> Self {
		Self { id, reason: reason.into() }
	}

	/// The CALLERROR that answers this bad frame (id `-1` when none could be read).
	pub fn reply(&self) -> Frame {
		Frame::CallError {
			id: self.id.clone().unwrap_or_else(|| "-1".into()),
			code: ErrorCode::FormationViolation,
			description: self.reason.clone(),
			details: json!({}),
		}
	}
}

impl Frame {
	/// Parses one WebSocket text message.
	pub fn parse(text: &str) -> Result<Self, FrameError> {
		let value: Value = serde_json::from_str(text)
			.map_err(|e| FrameError::new(None, format!("not JSON: {e}")))?;
		let Value::Array(items) = value else {
			return Err(FrameError::new(None, "a frame must be a JSON array"));
		};
		let id = match items.get(1) {
			Some(Value::String(id)) => id.clone(),
			_ => return Err(FrameError::new(None, "element 1 must be the message id (a string)")),
		};
		if id.is_empty() || id.len() > MAX_ID_LEN {
			return Err(FrameError::new(
				None,
				format!("message id must have 1 to {MAX_ID_LEN} characters"),
			));
		}
		let some_id = || Some(id.clone());
		let object = |v: Option<&Value>, what: &str| match v {
			Some(v @ Value::Object(_)) => Ok(v.clone()),
			_ => Err(FrameError::new(some_id(), format!("{what} must be a JSON object"))),
		};
		match items.first().and_then(Value::as_u64) {
			Some(2) => {
				if items.len() != 4 {
					return Err(FrameError::new(some_id(), "a CALL has 4 elements"));
				}
				let Some(action) = items[2].as_str().filter(|a| !a.is_empty()) else {
					return Err(FrameError::new(
						some_id(),
						"element 2 of a CALL must be the action",
					));
				};
				Ok(Frame::Call {
					id: id.clone(),
					action: action.into(),
					payload: object(items.get(3), "the payload")?,
				})
			},
			Some(3) => {
				if items.len() != 3 {
					return Err(FrameError::new(some_id(), "a CALLRESULT has 3 elements"));
				}
				Ok(Frame::CallResult {
					id: id.clone(),
					payload: object(items.get(2), "the payload")?,
				})
			},
			Some(4) => {
				if items.len() != 5 {
					return Err(FrameError::new(some_id(), "a CALLERROR has 5 elements"));
				}
				let (Some(code), Some(description)) = (items[2].as_str(), items[3].as_str()) else {
					return Err(FrameError::new(
						some_id(),
						"CALLERROR code and description must be strings",
					));
				};
				Ok(Frame::CallError {
					id: id.clone(),
					code: ErrorCode::parse(code),
					description: description.into(),
					details: object(items.get(4), "the error details")?,
				})
			},
			_ => Err(FrameError::new(some_id(), "element 0 must be the message type 2, 3 or 4")),
		}
	}

	/// The frame as a WebSocket text message.
	pub fn to_text(&self) -> String {
		let value = match self {
			Frame::Call { id, action, payload } => json!([2, id, action, payload]),
			Frame::CallResult { id, payload } => json!([3, id, payload]),
			Frame::CallError { id, code, description, details } => {
				json!([4, id, code.as_str(), description, details])
			},
		};
		value.to_string()
	}

	/// The message id.
	pub fn id(&self) -> &str {
		match self {
			Frame::Call { id, .. } | Frame::CallResult { id, .. } | Frame::CallError { id, .. } => {
				id
			},
		}
	}

	/// A CALLERROR answering the CALL `id`.
	pub fn error(id: &str, code: ErrorCode, description: impl Into<String>) -> Self {
		Frame::CallError {
			id: id.into(),
			code,
			description: description.into(),
			details: json!({}),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn round_trips_each_kind() {
		let frames = [
			Frame::Call {
				id: "19223201".into(),
				action: "BootNotification".into(),
				payload: json!({"chargePointVendor": "V", "chargePointModel": "M"}),
			},
			Frame::CallResult { id: "19223201".into(), payload: json!({"status": "Accepted"}) },
			Frame::error("19223201", ErrorCode::NotImplemented, "unknown action Foo"),
		];
		for f in frames {
			assert_eq!(Frame::parse(&f.to_text()).unwrap(), f);
		}
		assert_eq!(
			Frame::parse(r#"[2,"a","Heartbeat",{}]"#).unwrap().to_text(),
			r#"[2,"a","Heartbeat",{}]"#
		);
	}

	#[test]
	fn malformed_frames_are_formation_violations_with_the_id_when_known() {
		let cases = [
			("not json", None),
			("{}", None),
			("[2]", None),
			(r#"[2, 7, "Heartbeat", {}]"#, None),
			(r#"[9, "x", "Heartbeat", {}]"#, Some("x")),
			(r#"[2, "x", "Heartbeat"]"#, Some("x")),
			(r#"[2, "x", "", {}]"#, Some("x")),
			(r#"[2, "x", "Heartbeat", []]"#, Some("x")),
			(r#"[3, "x", 5]"#, Some("x")),
			(r#"[4, "x", "GenericError", 1, {}]"#, Some("x")),
		];
		for (text, id) in cases {
			let err = Frame::parse(text).expect_err(text);
			assert_eq!(err.id.as_deref(), id, "{text}");
			let Frame::CallError { id: reply_id, code, .. } = err.reply() else { panic!() };
			assert_eq!(code, ErrorCode::FormationViolation);
			assert_eq!(reply_id, id.unwrap_or("-1"));
		}
		let long = format!(r#"[2, "{}", "Heartbeat", {{}}]"#, "a".repeat(37));
		assert!(Frame::parse(&long).is_err());
	}

	#[test]
	fn error_codes_round_trip_and_unknown_is_generic() {
		for c in [
			ErrorCode::NotImplemented,
			ErrorCode::FormationViolation,
			ErrorCode::OccurenceConstraintViolation,
		] {
			assert_eq!(ErrorCode::parse(c.as_str()), c);
		}
		assert_eq!(ErrorCode::parse("Whatever"), ErrorCode::GenericError);
	}
}
