//! Why a chain operation failed, typed: the transport (retry later) apart from what
//! the chain decided (a module error, matched through the runtime's metadata).

use super::runtime;
use runtime::runtime_types::pallet_flex_market::pallet::Error as MarketError;
use subxt::error::{
	DispatchError, ExtrinsicError, TransactionEventsError, TransactionFinalizedSuccessError,
};

/// What went wrong with the chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
	/// Could not reach or talk to the node: worth retrying on a new connection.
	#[error("node: {0}")]
	Node(String),
	/// The oracle key is not a valid secret URI.
	#[error("oracle key: {0}")]
	Key(String),
	/// The market pallet refused a transaction with one of its errors.
	#[error("the market refused: {0:?}")]
	Market(MarketError),
	/// The chain refused a transaction for another reason (another pallet's error, an
	/// invalid transaction, a decoding failure).
	#[error("transaction failed: {0}")]
	Rejected(String),
}

impl ChainError {
	/// Whether the node could not be reached or talked to (as opposed to the chain
	/// deciding against a transaction): the connection is to be made anew.
	pub fn is_transport(&self) -> bool {
		matches!(self, ChainError::Node(_))
	}

	/// The market pallet's error, if that is what refused the transaction.
	pub fn market(&self) -> Option<&MarketError> {
		match self {
			ChainError::Market(e) => Some(e),
			_ => None,
		}
	}
}

/// A transport failure.
pub(super) fn node<E: std::fmt::Display>(e: E) -> ChainError {
	ChainError::Node(e.to_string())
}

/// The typed error of a submitted transaction that did not succeed: a dispatch error
/// is decoded through the metadata into the runtime's error enum; a failure to follow
/// the transaction is a transport failure.
pub(super) fn from_finalized(e: TransactionFinalizedSuccessError) -> ChainError {
	match e {
		TransactionFinalizedSuccessError::SuccessError(
			TransactionEventsError::ExtrinsicFailed(dispatch),
		) => from_dispatch(&dispatch),
		TransactionFinalizedSuccessError::SuccessError(
			e @ TransactionEventsError::CannotDecodeDispatchError { .. },
		) => ChainError::Rejected(e.to_string()),
		other => node(other),
	}
}

fn from_dispatch(dispatch: &DispatchError) -> ChainError {
	let DispatchError::Module(module) = dispatch else {
		return ChainError::Rejected(dispatch.to_string());
	};
	match module.as_root_error::<runtime::Error>() {
		Ok(runtime::Error::FlexMarket(e)) => ChainError::Market(e),
		Ok(_) | Err(_) => ChainError::Rejected(module.to_string()),
	}
}

/// The typed error of a transaction that could not be submitted: the node out of
/// reach (or refusing it from its pool, which a new connection and nonce may cure) is
/// a transport failure; a transaction that cannot be built is refused.
pub(super) fn from_submission(e: ExtrinsicError) -> ChainError {
	match e {
		ExtrinsicError::ErrorSubmittingTransaction(_)
		| ExtrinsicError::TransactionStatusStreamError(_)
		| ExtrinsicError::UnexpectedEndOfTransactionStatusStream
		| ExtrinsicError::TransactionStatusError(_)
		| ExtrinsicError::AccountNonceError { .. }
		| ExtrinsicError::CannotGetBlockBody(_)
		| ExtrinsicError::BlockNotFound(_) => node(e),
		other => ChainError::Rejected(other.to_string()),
	}
}
