//! The off-chain worker: for requests whose gate closes soon it mines a better
//! match with the `flex-solver` branch and bound and submits it as a signed
//! `submit_solution` transaction, which the chain checks like any other. As with
//! Substrate's election solvers, the search stays off chain and only the check
//! runs on chain.

use crate::{agenda::BUCKET_MS, pallet::*, Moment, ProposedFill, RequestId, RequestStatus, Task};
use alloc::vec::Vec;
use codec::Encode;
use flex_solver::{Budget, Score};
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::{
	offchain::{SendSignedTransaction, Signer},
	pallet_prelude::BlockNumberFor,
};
use sp_core::crypto::KeyTypeId;
use sp_runtime::offchain::storage::StorageValueRef;

/// Key type of the solver's signing key in the node's keystore.
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"flex");

/// The solver's key: sr25519, key type `flex`.
pub mod crypto {
	use super::KEY_TYPE;
	use sp_runtime::{
		app_crypto::{app_crypto, sr25519},
		MultiSignature, MultiSigner,
	};

	app_crypto!(sr25519, KEY_TYPE);

	/// Signs the solver's transactions in a runtime with `MultiSignature` accounts.
	pub struct SolverId;

	impl frame_system::offchain::AppCrypto<MultiSigner, MultiSignature> for SolverId {
		type RuntimeAppPublic = Public;
		type GenericSignature = sp_core::sr25519::Signature;
		type GenericPublic = sp_core::sr25519::Public;
	}
}

/// What this node last submitted for a request: block, covered power and score.
type LastSubmission<N> = (N, u32, u128);

/// Blocks after which this node may submit for a request again without beating its
/// own last submission.
pub const RESUBMIT_AFTER_BLOCKS: u32 = 10;

/// What mining one request took: the eligible offers it read, and the node's time
/// (ms) for reading them and for the search. The worker logs it with the outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effort {
	/// Eligible offers read.
	pub offers: u32,
	/// Reading the book and the assets, ms.
	pub read_ms: u64,
	/// The branch and bound, ms.
	pub solve_ms: u64,
}

impl core::fmt::Display for Effort {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(
			f,
			"{} offers read in {} ms, solved in {} ms",
			self.offers, self.read_ms, self.solve_ms
		)
	}
}

/// The node's clock in ms (off-chain workers only).
fn clock_ms() -> u64 {
	sp_io::offchain::timestamp().unix_millis()
}

/// Why the worker did not submit for a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Skip {
	/// The request is gone, no longer open, or its gate has closed.
	Closed,
	/// The book has no feasible cover.
	NoCover,
	/// The best solution found does not beat the stored one (or this node's last).
	NotBetter,
	/// This node already submitted for the request in this block.
	Locked,
	/// No solver key in the keystore.
	NoKey,
	/// The transaction pool refused the transaction.
	Refused,
}

impl<T: Config> Pallet<T> {
	/// The off-chain worker's work at block `block`: every request whose gate closes
	/// within `SolverHorizonMs` gets a mining attempt.
	pub(crate) fn mine_and_submit(block: BlockNumberFor<T>) {
		let started = clock_ms();
		let now = Self::now();
		let requests = Self::gates_closing(now, now.saturating_add(T::SolverHorizonMs::get()));
		for &id in &requests {
			let mut effort = Effort::default();
			match Self::mine_with(block, id, &mut effort) {
				Ok(score) => log::info!(
					target: crate::LOG_TARGET,
					"solver: request {id}: submitted a match: {} W, score {} W·planks/kWh; {effort}",
					score.covered_w,
					score.cost
				),
				Err(why) => {
					log::debug!(target: crate::LOG_TARGET, "solver: request {id}: {why:?}; {effort}")
				},
			}
		}
		if !requests.is_empty() {
			log::debug!(
				target: crate::LOG_TARGET,
				"solver: block {block:?}: {} requests in {} ms",
				requests.len(),
				clock_ms().saturating_sub(started)
			);
		}
	}

	/// Requests whose gate closes between `from` and `to`, read from the agenda.
	pub(crate) fn gates_closing(from: Moment, to: Moment) -> Vec<RequestId> {
		let mut ids = Vec::new();
		for bucket in from / BUCKET_MS..=to / BUCKET_MS {
			for page in 0..AgendaPages::<T>::get(bucket) {
				for task in Agenda::<T>::get(bucket, page) {
					if let Task::CloseGate(id) = task {
						ids.push(id);
					}
				}
			}
		}
		ids.sort_unstable();
		ids.dedup();
		ids
	}

	/// Mines a match for request `id` and submits it if it beats the stored one.
	#[cfg(test)]
	pub(crate) fn mine(block: BlockNumberFor<T>, id: RequestId) -> Result<Score, Skip> {
		Self::mine_with(block, id, &mut Effort::default())
	}

	/// [`Self::mine`], noting in `effort` what reading the book and the search took.
	fn mine_with(
		block: BlockNumberFor<T>,
		id: RequestId,
		effort: &mut Effort,
	) -> Result<Score, Skip> {
		let request = Requests::<T>::get(id).ok_or(Skip::Closed)?;
		if request.status != RequestStatus::Open || Self::now() >= request.spec.gate_closure {
			return Err(Skip::Closed);
		}
		let started = clock_ms();
		let (book, _) = Self::eligible_book(&request);
		let read = clock_ms();
		let budget = Budget { nodes: T::SolverBudget::get() as u64 };
		let (solution, _) =
			flex_solver::solve(&book.demand, &book.candidates, &book.headroom, budget);
		*effort = Effort {
			offers: book.candidates.len() as u32,
			read_ms: read.saturating_sub(started),
			solve_ms: clock_ms().saturating_sub(read),
		};
		let solution = solution.ok_or(Skip::NoCover)?;
		// A stored proposal that is no longer feasible counts as absent.
		let stored = Self::live_proposal(&request, id).unwrap_or(None);
		Self::ensure_beats(&solution.score, &stored).map_err(|_| Skip::NotBetter)?;
		let signer = Signer::<T, T::AuthorityId>::any_account();
		if !signer.can_sign() {
			return Err(Skip::NoKey);
		}
		Self::lock(block, id, &solution.score)?;
		let fills: SolutionOf<T> = BoundedVec::truncate_from(
			solution
				.fills
				.iter()
				.map(|f| ProposedFill { offer: book.candidates[f.index].id, power_w: f.power_w })
				.collect(),
		);
		let sent = Signer::<T, T::AuthorityId>::any_account().send_signed_transaction(|_| {
			Call::submit_solution { request: id, fills: fills.clone() }
		});
		match sent {
			Some((_, Ok(()))) => Ok(solution.score),
			Some((_, Err(()))) => Err(Skip::Refused),
			None => Err(Skip::NoKey),
		}
	}

	/// One submission per request per block, and, for `RESUBMIT_AFTER_BLOCKS` blocks,
	/// none that does not beat this node's last one (which may still wait in the pool;
	/// after that it was lost, or its proposal went stale): takes the lock in the node's
	/// persistent off-chain storage, atomically.
	fn lock(block: BlockNumberFor<T>, id: RequestId, score: &Score) -> Result<(), Skip> {
		let key = (b"flex-market/solver/", id).encode();
		let recent = |b: BlockNumberFor<T>| block < b + RESUBMIT_AFTER_BLOCKS.into();
		let taken = StorageValueRef::persistent(&key).mutate(
			|last: Result<Option<LastSubmission<BlockNumberFor<T>>>, _>| match last {
				Ok(Some((b, _, _))) if b == block => Err(Skip::Locked),
				Ok(Some((b, covered, cost)))
					if recent(b)
						&& !(score.covered_w > covered
							|| (score.covered_w == covered && score.cost < cost)) =>
				{
					Err(Skip::NotBetter)
				},
				_ => Ok((block, score.covered_w, score.cost)),
			},
		);
		taken.map(|_| ()).map_err(|e| match e {
			sp_runtime::offchain::storage::MutateStorageError::ValueFunctionFailed(skip) => skip,
			sp_runtime::offchain::storage::MutateStorageError::ConcurrentModification(_) => {
				Skip::Locked
			},
		})
	}
}
