//! A stateful fuzzer: random sequences of every market call and the governance calls
//! the market answers to, from random origins (every role, strangers, Root, none),
//! with blocks advanced by `on_idle` and the solver's submissions in between. After
//! every block it checks the invariants (`try_state`) and that money is conserved;
//! at the end, that no escrow is stuck once every contract is due.
//!
//! Arguments are mostly plausible (real ids, windows near now, prices around the
//! ceiling) and some hostile (unknown ids, extreme numbers, duplicate fills).
//!
//! ```sh
//! cargo test --release -p pallet-flex-market fuzz                      # 20 000 calls, seed 1
//! FUZZ_CALLS=1000000 FUZZ_SEED=7 cargo test --release -p pallet-flex-market fuzz -- --nocapture
//! ```
//!
//! A failing run prints its seed and the shortest sequence of actions found that
//! still fails (by removing actions as long as the failure stays).

use super::*;
use frame_support::{
	dispatch::GetDispatchInfo,
	traits::{fungible::InspectHold, GetCallMetadata, Hooks, UnfilteredDispatchable},
	weights::Weight,
};
use sp_core::H256;
use sp_runtime::Perbill;

/// Calls per run unless `FUZZ_CALLS` says otherwise.
const DEFAULT_CALLS: usize = 20_000;
/// Calls per independent chain: a run is split into episodes this long, each from
/// fresh genesis with its own seed, so that a failure replays quickly.
const EPISODE: usize = 500;
/// The accounts that act: the cast of the mock plus two spares.
const ACCOUNTS: [u64; 10] =
	[DSO, BATTERY_OWNER, V2G_OWNER, ORACLE, OTHER_DSO, OTHER_ORACLE, STRANGER, SOLVER, 9, 10];

/// xorshift64*: deterministic and dependency-free.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
	fn new(seed: u64) -> Self {
		Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
	}
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n.max(1)
	}
	fn chance(&mut self, percent: u64) -> bool {
		self.below(100) < percent
	}
	fn pick<T: Copy>(&mut self, items: &[T]) -> T {
		items[self.below(items.len() as u64) as usize]
	}
}

/// Who calls.
#[derive(Clone, Copy, Debug)]
enum Who {
	Signed(u64),
	Root,
	Nobody,
}

impl Who {
	fn origin(self) -> RuntimeOrigin {
		match self {
			Who::Signed(a) => RuntimeOrigin::signed(a),
			Who::Root => RuntimeOrigin::root(),
			Who::Nobody => RuntimeOrigin::none(),
		}
	}
}

/// One step of a run: a call from an origin, or time passing.
#[derive(Clone, Debug)]
enum Action {
	Call(Who, Box<RuntimeCall>),
	/// Chain time moves on by this many ms; one block runs `on_idle` with this much
	/// weight (a fraction of a block, to play full blocks too).
	Block(u64, Weight),
	/// The solver mines request `id` and submits what it finds.
	Mine(RequestId),
	/// An account moves all of its free balance to another (it may be reaped).
	EmptyAccount(u64, u64),
}

/// Draws actions from the chain's state as it is: real ids and the roles that may
/// act on them most of the time, strangers, wrong ids and extreme values some of
/// the time.
struct Gen {
	rng: Rng,
}

impl Gen {
	/// `who` most of the time; any origin otherwise.
	fn as_or_any(&mut self, who: u64) -> Who {
		if self.rng.chance(85) {
			Who::Signed(who)
		} else {
			self.any_origin()
		}
	}

	fn any_origin(&mut self) -> Who {
		match self.rng.below(100) {
			0..=2 => Who::Root,
			3 => Who::Nobody,
			_ => Who::Signed(self.rng.pick(&ACCOUNTS)),
		}
	}

	/// Root most of the time, for the governance calls.
	fn governance(&mut self) -> Who {
		if self.rng.chance(80) {
			Who::Root
		} else {
			self.any_origin()
		}
	}

	fn pick_key<K: Copy>(&mut self, keys: Vec<K>) -> Option<K> {
		(!keys.is_empty()).then(|| self.rng.pick(&keys))
	}

	fn asset(&mut self) -> Option<(AssetId, AssetOf<Test>)> {
		let id = self.pick_key(Assets::<Test>::iter_keys().collect())?;
		Assets::<Test>::get(id).map(|a| (id, a))
	}

	fn request(&mut self, status: RequestStatus) -> Option<(RequestId, RequestOf<Test>)> {
		let ids = Requests::<Test>::iter()
			.filter(|(_, r)| r.status == status)
			.map(|(id, _)| id)
			.collect();
		let id = self.pick_key(ids)?;
		Requests::<Test>::get(id).map(|r| (id, r))
	}

	fn offer(&mut self) -> Option<(OfferId, OfferOf<Test>)> {
		let id = self.pick_key(Offers::<Test>::iter_keys().collect())?;
		Offers::<Test>::get(id).map(|o| (id, o))
	}

	/// A real id most of the time, an unknown one otherwise.
	fn or_unknown<K: From<u32>>(&mut self, id: Option<K>) -> K {
		match id {
			Some(id) if self.rng.chance(95) => id,
			_ => K::from(50_000 + self.rng.below(1_000) as u32),
		}
	}

	fn kw(&mut self, lo: u64, hi: u64) -> u32 {
		match self.rng.below(50) {
			0 => 0,
			1 => u32::MAX,
			_ => ((lo + self.rng.below(hi - lo + 1)) * 1_000) as u32,
		}
	}

	fn cents(&mut self, lo: u64, hi: u64) -> u128 {
		match self.rng.below(60) {
			0 => 0,
			1 => u128::MAX,
			2 => MAX_PRICE_PER_KWH,
			3 => MAX_PRICE_PER_KWH + 1,
			_ => (lo + self.rng.below(hi - lo + 1)) as u128 * UNIT / 100,
		}
	}

	/// A window 5 to 120 market minutes ahead, 15 to 60 minutes long; now and then in
	/// the past, empty, or beyond the horizon.
	fn window(&mut self) -> Window {
		let now = FlexMarket::now();
		let minute = (now / MINUTE + 5 + self.rng.below(116)) * MINUTE;
		let length = (1 + self.rng.below(4)) * 15 * MINUTE;
		match self.rng.below(40) {
			0 => Window { start: now.saturating_sub(MINUTE), end: now + length },
			1 => Window { start: minute, end: minute },
			2 => Window {
				start: now + 8 * 24 * 60 * MINUTE,
				end: now + 8 * 24 * 60 * MINUTE + length,
			},
			_ => Window { start: minute, end: minute + length },
		}
	}

	fn register_asset(&mut self) -> Action {
		let owner = self.rng.pick(&[BATTERY_OWNER, V2G_OWNER, V2G_OWNER, 9, 10, STRANGER, DSO]);
		let spec = AssetSpec {
			kind: self.rng.pick(&[
				AssetKind::Battery,
				AssetKind::V2gCharger,
				AssetKind::FlexibleLoad,
			]),
			location: self.rng.pick(&[ESKISEHIR, ESKISEHIR, ESKISEHIR, ELSEWHERE, 77]),
			max_export_w: self.kw(5, 30),
			max_import_w: self.kw(5, 30),
			capacity_wh: 30_000,
			min_soc_percent: self.rng.pick(&[0, 20, 30, 30, 101]),
			device: b"dev".to_vec().try_into().unwrap(),
		};
		let who = self.as_or_any(owner);
		if self.rng.chance(90) {
			call(who, crate::Call::register_asset { spec })
		} else {
			let asset = self.asset().map(|(id, _)| id);
			call(who, crate::Call::update_asset { asset: self.or_unknown(asset), spec })
		}
	}

	fn set_asset_status(&mut self) -> Action {
		let Some((id, asset)) = self.asset() else { return self.register_asset() };
		let operator = Locations::<Test>::get(asset.spec.location).map_or(STRANGER, |l| l.dso);
		let status = self.rng.pick(&[
			AssetStatus::Prequalified,
			AssetStatus::Prequalified,
			AssetStatus::Prequalified,
			AssetStatus::Suspended,
			AssetStatus::Pending,
		]);
		if self.rng.chance(8) {
			return call(self.as_or_any(asset.owner), crate::Call::deregister_asset { asset: id });
		}
		call(
			self.as_or_any(operator),
			crate::Call::set_asset_status { asset: self.or_unknown(Some(id)), status },
		)
	}

	fn create_request(&mut self) -> Action {
		let (dso, location) =
			self.rng.pick(&[(DSO, ESKISEHIR), (DSO, ESKISEHIR), (OTHER_DSO, ELSEWHERE)]);
		let window = self.window();
		let spec = RequestSpec {
			location,
			window,
			direction: self.rng.pick(&[Direction::Up, Direction::Up, Direction::Down]),
			power_w: self.kw(5, 20),
			max_price: self.cents(5, 30),
			gate_closure: window.start.saturating_sub(self.rng.below(20) * MINUTE),
			partial: self.rng.chance(60),
			pricing: self.rng.pick(&[Pricing::PayAsBid, Pricing::PayAsClear]),
			max_over_w: self.rng.pick(&[0, 0, 0, 5_000, u32::MAX]),
		};
		let who = self.as_or_any(dso);
		match (self.rng.below(10), self.request(RequestStatus::Open)) {
			(0, Some((id, r))) => {
				call(self.as_or_any(r.dso), crate::Call::update_request { request: id, spec })
			},
			(1, Some((id, r))) => {
				call(self.as_or_any(r.dso), crate::Call::cancel_request { request: id })
			},
			_ => call(who, crate::Call::create_request { spec }),
		}
	}

	/// An offer of an asset, mostly for the window and direction of an open request
	/// at its location, at a price around the request's ceiling.
	fn create_offer(&mut self) -> Action {
		let qualified: Vec<AssetId> = Assets::<Test>::iter()
			.filter(|(_, a)| a.status == AssetStatus::Prequalified)
			.map(|(id, _)| id)
			.collect();
		let picked = match self.pick_key(qualified) {
			Some(id) if self.rng.chance(85) => Assets::<Test>::get(id).map(|a| (id, a)),
			_ => self.asset(),
		};
		let Some((asset_id, asset)) = picked else { return self.register_asset() };
		let targets: Vec<RequestSpecOf<Test>> = Requests::<Test>::iter()
			.filter(|(_, r)| {
				r.status == RequestStatus::Open && r.spec.location == asset.spec.location
			})
			.map(|(_, r)| r.spec)
			.collect();
		let target = (!targets.is_empty())
			.then(|| targets[self.rng.below(targets.len() as u64) as usize].clone());
		let (window, direction, ceiling) = match target {
			Some(r) if self.rng.chance(85) => {
				let start = r.window.start.saturating_sub(self.rng.below(3) * 15 * MINUTE);
				(
					Window { start, end: r.window.end + self.rng.below(3) * 15 * MINUTE },
					r.direction,
					r.max_price,
				)
			},
			_ => (self.window(), Direction::Up, 30 * UNIT / 100),
		};
		let limit = asset.spec.max_power_w(direction).max(1_000);
		let power_w = match self.rng.below(20) {
			0 => u32::MAX,
			_ => ((1 + self.rng.below(limit as u64 / 1_000)) * 1_000) as u32,
		};
		let price = match self.rng.below(20) {
			0..=1 => self.cents(5, 30),
			// Payouts below the existential deposit: parked if the FSP was reaped.
			2 => 1_000,
			_ => {
				(ceiling.min(UNIT) / 2).max(1)
					+ self.rng.below(ceiling.min(UNIT) as u64 / 2 + 1) as u128
			},
		};
		let divisibility = if self.rng.chance(50) {
			Divisibility::AllOrNothing
		} else {
			Divisibility::Divisible {
				min_power_w: self.rng.pick(&[0, 1_000, power_w / 2, power_w]),
			}
		};
		let spec = OfferSpec { asset: asset_id, window, direction, power_w, price, divisibility };
		call(self.as_or_any(asset.owner), crate::Call::create_offer { spec })
	}

	fn change_offer(&mut self) -> Action {
		let Some((id, offer)) = self.offer() else { return self.create_offer() };
		let who = self.as_or_any(offer.fsp);
		if self.rng.chance(50) {
			return call(
				who,
				crate::Call::cancel_offer { offer: self.or_unknown(Some(id as u32)).into() },
			);
		}
		let mut spec = offer.spec;
		match self.rng.below(4) {
			0 => spec.price = spec.price.saturating_mul(3),
			1 => spec.price = (spec.price / 2).max(1),
			2 => spec.asset = spec.asset.wrapping_add(1),
			_ => spec.power_w = spec.power_w / 2 + 1,
		}
		call(who, crate::Call::update_offer { offer: id, spec })
	}

	fn trade(&mut self) -> Action {
		let Some((id, request)) = self.request(RequestStatus::Open) else {
			return self.create_request();
		};
		let dso = self.as_or_any(request.dso);
		match self.rng.below(10) {
			0..=2 => call(dso, crate::Call::match_request { request: id }),
			3..=4 => Action::Mine(id),
			5 => {
				let book: Vec<OfferId> =
					Book::<Test>::iter_key_prefix((request.spec.location, request.spec.direction))
						.collect();
				let mut fills = Vec::new();
				for _ in 0..1 + self.rng.below(3) {
					if let Some(offer) = self.pick_key(book.clone()) {
						fills.push(ProposedFill { offer, power_w: self.kw(1, 20) });
					}
				}
				if self.rng.chance(20) && !fills.is_empty() {
					fills.push(fills[0]);
				}
				let who = self.as_or_any(SOLVER);
				call(
					who,
					crate::Call::submit_solution { request: id, fills: fills.try_into().unwrap() },
				)
			},
			_ => {
				let cost = Proposals::<Test>::get(id).map_or(UNIT, |p| p.cost);
				let max_cost = match self.rng.below(10) {
					0 => cost.saturating_sub(1),
					1 => u128::MAX,
					_ => cost,
				};
				call(dso, crate::Call::accept_match { request: id, max_cost })
			},
		}
	}

	fn deliver(&mut self) -> Action {
		let Some((id, request)) = self.request(RequestStatus::Accepted) else {
			return self.trade();
		};
		let oracle = Dsos::<Test>::get(request.dso)
			.and_then(|d| d.oracles.first().copied())
			.unwrap_or(STRANGER);
		let fills = Contracts::<Test>::get(id).map_or(1, |c| c.fill_count);
		let fill_index = self.rng.below(fills as u64 + 1) as u32;
		let contracted = Fills::<Test>::get(id, fill_index).map_or(0, |f| f.energy_wh);
		let delivered_wh = match self.rng.below(10) {
			0 => u64::MAX,
			1 => 0,
			_ => contracted * (50 + self.rng.below(60)) / 100,
		};
		if self.rng.chance(15) {
			return call(self.any_origin(), crate::Call::settle { request: id });
		}
		let call_ = crate::Call::report_delivery {
			request: id,
			fill_index,
			delivered_wh,
			samples_root: H256::repeat_byte(7),
		};
		call(self.as_or_any(oracle), call_)
	}

	fn governance_call(&mut self) -> Action {
		let who = self.governance();
		let c = match self.rng.below(10) {
			0..=3 => crate::Call::set_params { params: self.params() },
			4 => crate::Call::set_clock { scale: self.rng.pick(&[0, 1, 1, 15, 600, 601]) },
			5..=6 => crate::Call::appoint_oracle {
				dso: self.rng.pick(&[DSO, OTHER_DSO, STRANGER]),
				oracle: self.rng.pick(&ACCOUNTS),
			},
			7 => crate::Call::remove_oracle {
				dso: self.rng.pick(&[DSO, OTHER_DSO]),
				oracle: self.rng.pick(&ACCOUNTS),
			},
			8 => crate::Call::remove_dso { dso: self.rng.pick(&[DSO, OTHER_DSO, STRANGER]) },
			_ => crate::Call::register_dso {
				dso: self.rng.pick(&ACCOUNTS),
				locations: vec![(
					self.rng.pick(&[ELSEWHERE, 77, 78]),
					b"L".to_vec().try_into().unwrap(),
				)]
				.try_into()
				.unwrap(),
			},
		};
		call(who, c)
	}

	fn params(&mut self) -> MarketParams<u128> {
		let mut p = TestParams::get();
		p.settlement_grace_ms = self.rng.below(30) * MINUTE;
		p.retention_ms = self.rng.below(3 * 60) * MINUTE;
		p.penalty_threshold = Perbill::from_percent(self.rng.below(101) as u32);
		p.penalty_rate = Perbill::from_percent(self.rng.below(101) as u32);
		p.solution_margin = Perbill::from_percent(self.rng.below(5) as u32);
		p.price_cap = self.rng.pick(&[None, None, Some(UNIT / 5), Some(0)]);
		p.request_deposit = self.rng.pick(&[0, UNIT / 10]);
		p.asset_deposit = self.rng.pick(&[0, UNIT / 10]);
		p.fsp_deposit = self.rng.pick(&[0, UNIT / 10]);
		p.horizon_ms = self.rng.pick(&[0, 24 * 60 * MINUTE, 7 * 24 * 60 * MINUTE]);
		p
	}

	fn claim(&mut self) -> Action {
		let parked: Vec<(u64, RequestId)> = UnclaimedPayouts::<Test>::iter_keys().collect();
		match self.pick_key(parked) {
			Some((fsp, request)) => {
				call(self.as_or_any(fsp), crate::Call::claim_payout { request })
			},
			None => call(self.any_origin(), crate::Call::claim_payout { request: 0 }),
		}
	}

	fn action(&mut self) -> Action {
		match self.rng.below(100) {
			0..=14 => {
				let ms = self.rng.pick(&[6_000, 60_000, 5 * 60_000, 20 * 60_000]);
				let limit = match self.rng.below(4) {
					0 => Weight::from_parts(20_000_000_000, u64::MAX),
					_ => Weight::from_parts(1_000_000_000_000, u64::MAX),
				};
				Action::Block(ms, limit)
			},
			15..=16 => call(self.any_origin(), crate::Call::register_fsp {}),
			17..=20 => self.register_asset(),
			21..=26 => self.set_asset_status(),
			27..=32 => self.create_request(),
			33..=50 => self.create_offer(),
			51..=55 => self.change_offer(),
			56..=76 => self.trade(),
			77..=89 => self.deliver(),
			90..=93 => self.governance_call(),
			94..=95 => self.claim(),
			_ => Action::EmptyAccount(
				self.rng.pick(&[BATTERY_OWNER, V2G_OWNER, 9, 10, STRANGER]),
				self.rng.pick(&ACCOUNTS),
			),
		}
	}
}

fn call(who: Who, c: crate::Call<Test>) -> Action {
	Action::Call(who, Box::new(RuntimeCall::FlexMarket(c)))
}

/// Runs one episode from fresh genesis, drawing each action from the state the
/// previous ones left. Returns the actions, and the error if one broke something.
fn episode(seed: u64, calls: usize, tally: &mut Tally) -> (Vec<Action>, Result<(), String>) {
	let mut actions = Vec::with_capacity(calls);
	let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
		new_test_ext().execute_with(|| {
			let mut g = Gen { rng: Rng::new(seed) };
			let issuance = Balances::total_issuance();
			// Every other episode holds no deposits, so that FSP accounts can be reaped
			// (and payouts to them parked); the cast's FSPs register first; the rest is
			// random.
			let mut cast = Vec::new();
			if seed.is_multiple_of(2) {
				let mut params = TestParams::get();
				(params.fsp_deposit, params.asset_deposit) = (0, 0);
				cast.push(call(Who::Root, crate::Call::set_params { params }));
			}
			cast.extend(
				[BATTERY_OWNER, V2G_OWNER, 9, 10]
					.map(|fsp| call(Who::Signed(fsp), crate::Call::register_fsp {})),
			);
			for i in 0..calls {
				let action = cast.get(i).cloned().unwrap_or_else(|| g.action());
				actions.push(action.clone());
				run(&action, tally).map_err(|e| format!("action {i} ({action:?}): {e}"))?;
				check_money(issuance).map_err(|e| format!("after action {i} ({action:?}): {e}"))?;
			}
			wind_down(issuance)
		})
	}))
	.unwrap_or_else(|panic| Err(panic_message(panic)));
	(actions, result)
}

/// Calls that succeeded and were refused, by name (and by error with
/// `FUZZ_ERRORS=1`): what the run exercised.
type Tally = std::collections::BTreeMap<String, (u64, u64)>;

/// Runs `actions` on a fresh chain; `Err` says what broke.
fn replay(actions: &[Action]) -> Result<(), String> {
	replay_counting(actions, &mut Tally::new())
}

/// [`replay`], counting each call's successes and refusals in `tally`.
fn replay_counting(actions: &[Action], tally: &mut Tally) -> Result<(), String> {
	let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
		new_test_ext().execute_with(|| {
			let issuance = Balances::total_issuance();
			for (i, action) in actions.iter().enumerate() {
				run(action, tally).map_err(|e| format!("action {i} ({action:?}): {e}"))?;
				check_money(issuance).map_err(|e| format!("after action {i} ({action:?}): {e}"))?;
			}
			wind_down(issuance)
		})
	}));
	outcome.unwrap_or_else(|panic| Err(panic_message(panic)))
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
	let text = panic
		.downcast_ref::<String>()
		.cloned()
		.or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
		.unwrap_or_default();
	format!("panic: {text}")
}

/// Runs one action; a refused call is fine, but it must have changed nothing.
fn run(action: &Action, tally: &mut Tally) -> Result<(), String> {
	match action {
		Action::Call(who, call) => {
			let before = sp_io::storage::root(sp_runtime::StateVersion::V1);
			let declared = call.get_dispatch_info().call_weight;
			let name = call.get_call_metadata().function_name;
			let result = (**call).clone().dispatch_bypass_filter(who.origin());
			let entry = tally.entry(name.to_string()).or_default();
			if result.is_ok() {
				entry.0 += 1
			} else {
				entry.1 += 1
			}
			if let (Err(e), true) = (&result, std::env::var("FUZZ_ERRORS").is_ok()) {
				let why = match e.error {
					sp_runtime::DispatchError::Module(m) => m.message.unwrap_or("?"),
					other => <&'static str>::from(other),
				};
				tally.entry(format!("{name}: {why}")).or_default().1 += 1;
			}
			match result {
				Ok(post) => {
					let used = post.actual_weight.unwrap_or(declared);
					if !used.all_lte(declared) {
						return Err(format!("used {used:?} above declared {declared:?}"));
					}
				},
				Err(e) => {
					if sp_io::storage::root(sp_runtime::StateVersion::V1) != before {
						return Err(format!("refused with {:?} but changed state", e.error));
					}
				},
			}
			Ok(())
		},
		Action::Block(ms, limit) => {
			let n = System::block_number() + 1;
			System::set_block_number(n);
			set_now(pallet_timestamp::Now::<Test>::get() + ms);
			let used = FlexMarket::on_idle(n, *limit);
			if !used.all_lte(*limit) {
				return Err(format!("on_idle used {used:?} of {limit:?}"));
			}
			FlexMarket::do_try_state().map_err(|e| format!("try_state: {e:?}"))
		},
		Action::Mine(id) => {
			if let Some(result) = mine(*id) {
				let entry = tally.entry("submit_solution".into()).or_default();
				if result.is_ok() {
					entry.0 += 1
				} else {
					entry.1 += 1
				}
			}
			Ok(())
		},
		Action::EmptyAccount(from, to) => {
			let _ = Balances::transfer_all(RuntimeOrigin::signed(*from), *to, false);
			Ok(())
		},
	}
}

/// What the off-chain worker does for request `id`: solve its book and submit what
/// it finds (`None` when it finds nothing).
fn mine(id: RequestId) -> Option<frame_support::dispatch::DispatchResultWithPostInfo> {
	let request = Requests::<Test>::get(id)?;
	let (book, _) = FlexMarket::eligible_book(&request);
	let budget = flex_solver::Budget { nodes: 2_000 };
	let (solution, _) = flex_solver::solve(&book.demand, &book.candidates, &book.headroom, budget);
	let fills: Vec<ProposedFill> = solution?
		.fills
		.iter()
		.map(|f| ProposedFill { offer: book.candidates[f.index].id, power_w: f.power_w })
		.collect();
	let call = crate::Call::<Test>::submit_solution {
		request: id,
		fills: frame_support::BoundedVec::truncate_from(fills),
	};
	Some(RuntimeCall::FlexMarket(call).dispatch_bypass_filter(RuntimeOrigin::signed(SOLVER)))
}

/// Money is neither made nor lost (the mock charges no fees).
fn check_money(issuance: u128) -> Result<(), String> {
	let now = Balances::total_issuance();
	if now != issuance {
		return Err(format!("total issuance {now} != {issuance}"));
	}
	Ok(())
}

/// Lets every contract fall due and settle, then checks that no escrow is left: runs
/// 6-second blocks while the agenda catches up, and jumps ahead while it is idle.
fn wind_down(issuance: u128) -> Result<(), String> {
	let accepted = || Requests::<Test>::iter_values().any(|r| r.status == RequestStatus::Accepted);
	for _ in 0..20_000 {
		let behind = AgendaCursor::<Test>::get()
			.is_some_and(|c| c < FlexMarket::now() / crate::agenda::BUCKET_MS);
		if !behind && !accepted() {
			break;
		}
		let step = if behind { 6_000 } else { 10 * MINUTE };
		let n = System::block_number() + 1;
		System::set_block_number(n);
		set_now(pallet_timestamp::Now::<Test>::get() + step);
		FlexMarket::on_idle(n, Weight::MAX);
	}
	FlexMarket::do_try_state().map_err(|e| format!("try_state at the end: {e:?}"))?;
	if accepted() {
		return Err("a bought request was never settled".into());
	}
	for who in ACCOUNTS {
		let held = Balances::balance_on_hold(&HoldReason::Escrow.into(), &who);
		if held != 0 {
			return Err(format!("{held} still in escrow from {who} after every contract was due"));
		}
	}
	check_money(issuance)
}

/// The shortest sub-sequence of `actions` that still fails, by removing chunks.
fn shrink(mut actions: Vec<Action>) -> (Vec<Action>, String) {
	let mut error = replay(&actions).expect_err("shrinking a passing sequence");
	let mut chunk = actions.len() / 2;
	while chunk > 0 {
		let mut start = 0;
		while start < actions.len() {
			let mut fewer = actions.clone();
			fewer.drain(start..(start + chunk).min(actions.len()));
			match replay(&fewer) {
				Err(e) => {
					actions = fewer;
					error = e;
				},
				Ok(()) => start += chunk,
			}
		}
		chunk /= 2;
	}
	(actions, error)
}

fn env(name: &str, default: u64) -> u64 {
	std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn fuzz_the_market_with_random_calls_from_random_origins() {
	let calls = env("FUZZ_CALLS", DEFAULT_CALLS as u64) as usize;
	let seed = env("FUZZ_SEED", 1);
	let episodes = calls.div_ceil(EPISODE);
	let started = std::time::Instant::now();
	let mut tally = Tally::new();
	for e in 0..episodes as u64 {
		let episode_seed = seed.wrapping_mul(1_000_003).wrapping_add(e);
		let (actions, result) = episode(episode_seed, EPISODE, &mut tally);
		if let Err(first) = result {
			let (shortest, error) = shrink(actions);
			let listing: Vec<String> =
				shortest.iter().enumerate().map(|(i, a)| format!("{i:>4}: {a:?}")).collect();
			panic!(
				"fuzz failure (FUZZ_SEED={seed}, episode {e}): {first}\n\
				 shortest failing sequence ({} actions, fails with: {error}):\n{}",
				shortest.len(),
				listing.join("\n")
			);
		}
	}
	println!(
		"fuzz: {} calls in {episodes} episodes of {EPISODE} (seed {seed}): no panic, every \
		 invariant held, no escrow stuck ({:.1} s)",
		episodes * EPISODE,
		started.elapsed().as_secs_f64()
	);
	for (name, (ok, refused)) in &tally {
		println!("  {name:<18} {ok:>8} succeeded {refused:>8} refused");
	}
	// The run reaches every stage of a trade, not only the refusals.
	for name in
		["create_offer", "match_request", "accept_match", "report_delivery", "submit_solution"]
	{
		assert!(tally.get(name).is_some_and(|t| t.0 > 0), "no {name} ever succeeded: {tally:?}");
	}
}
