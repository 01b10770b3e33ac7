//! The central system's answers to the CALLs a charger makes: one function per
//! OCPP 1.6 action. Readings become [`ChargerEvent::Meter`] for the bridge's metering.

use super::{
	central::{now_utc, CentralSystem, ChargerEvent, HEARTBEAT_S},
	frame::ErrorCode,
};
use rust_ocpp::v1_6::{
	messages::{
		authorize::{AuthorizeRequest, AuthorizeResponse},
		boot_notification::{BootNotificationRequest, BootNotificationResponse},
		data_transfer::{DataTransferRequest, DataTransferResponse},
		heart_beat::HeartbeatResponse,
		meter_values::MeterValuesRequest,
		start_transaction::{StartTransactionRequest, StartTransactionResponse},
		status_notification::StatusNotificationRequest,
		stop_transaction::{StopTransactionRequest, StopTransactionResponse},
	},
	types::{AuthorizationStatus, DataTransferStatus, IdTagInfo, RegistrationStatus},
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use std::sync::atomic::Ordering;

/// What a CALL is answered with: a payload, or a CALLERROR's code and description.
pub type Answer = Result<Value, (ErrorCode, String)>;

fn parse<T: DeserializeOwned>(payload: Value) -> Result<T, (ErrorCode, String)> {
	serde_json::from_value(payload).map_err(|e| (ErrorCode::FormationViolation, e.to_string()))
}

fn reply<T: Serialize>(v: T) -> Answer {
	serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

fn accepted() -> IdTagInfo {
	IdTagInfo { expiry_date: None, parent_id_tag: None, status: AuthorizationStatus::Accepted }
}

impl CentralSystem {
	/// Answers one CALL of charger `id`.
	pub(super) async fn handle_call(&self, id: &str, action: &str, payload: Value) -> Answer {
		match action {
			"BootNotification" => self.on_boot_notification(id, parse(payload)?).await,
			"Heartbeat" => {
				reply(HeartbeatResponse { current_time: now_utc(&self.0.options.clock) })
			},
			"StatusNotification" => self.on_status_notification(id, parse(payload)?).await,
			"Authorize" => {
				let _req: AuthorizeRequest = parse(payload)?;
				reply(AuthorizeResponse { id_tag_info: accepted() })
			},
			"StartTransaction" => self.on_start_transaction(id, parse(payload)?),
			"StopTransaction" => self.on_stop_transaction(id, parse(payload)?).await,
			"MeterValues" => {
				self.meter(id, parse::<MeterValuesRequest>(payload)?).await?;
				reply(serde_json::json!({}))
			},
			"DataTransfer" => {
				let _req: DataTransferRequest = parse(payload)?;
				reply(DataTransferResponse {
					status: DataTransferStatus::UnknownVendorId,
					data: None,
				})
			},
			"DiagnosticsStatusNotification" | "FirmwareStatusNotification" => {
				reply(serde_json::json!({}))
			},
			other => Err((ErrorCode::NotImplemented, format!("action {other} is not implemented"))),
		}
	}

	async fn on_boot_notification(&self, id: &str, req: BootNotificationRequest) -> Answer {
		tracing::info!(target: "ocpp", %id, vendor = %req.charge_point_vendor, model = %req.charge_point_model, "booted");
		self.event(ChargerEvent::Booted {
			id: id.into(),
			vendor: req.charge_point_vendor,
			model: req.charge_point_model,
		})
		.await;
		reply(BootNotificationResponse {
			current_time: now_utc(&self.0.options.clock),
			interval: HEARTBEAT_S,
			status: RegistrationStatus::Accepted,
		})
	}

	async fn on_status_notification(&self, id: &str, req: StatusNotificationRequest) -> Answer {
		let status = serde_json::to_value(&req.status)
			.ok()
			.and_then(|v| v.as_str().map(String::from))
			.unwrap_or_default();
		self.event(ChargerEvent::Status { id: id.into(), connector: req.connector_id, status })
			.await;
		reply(serde_json::json!({}))
	}

	fn on_start_transaction(&self, id: &str, req: StartTransactionRequest) -> Answer {
		let tx = self.0.next_transaction.fetch_add(1, Ordering::Relaxed) as i32;
		self.remember_transaction(id, tx, req.connector_id);
		reply(StartTransactionResponse { id_tag_info: accepted(), transaction_id: tx })
	}

	/// The transaction's readings count as meter values of its connector.
	async fn on_stop_transaction(&self, id: &str, req: StopTransactionRequest) -> Answer {
		if let Some(data) = req.transaction_data {
			match self.transaction_connector(id, req.transaction_id) {
				Some(connector_id) => {
					let mv = MeterValuesRequest {
						connector_id,
						transaction_id: Some(req.transaction_id),
						meter_value: data,
					};
					self.meter(id, mv).await?;
				},
				None => {
					tracing::debug!(target: "ocpp", %id, tx = req.transaction_id, "readings of an unknown transaction skipped")
				},
			}
		}
		reply(StopTransactionResponse { id_tag_info: Some(accepted()) })
	}
}
