//! Governance adds and removes validators; the session pallet gets the list.

use crate::{mock::*, Error, Event, Validators};
use frame_support::{assert_noop, assert_ok};
use pallet_session::SessionManager;
use sp_runtime::DispatchError::BadOrigin;

#[test]
fn governance_adds_a_validator_for_the_next_rotation() {
	new_test_ext().execute_with(|| {
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 5));
		System::assert_last_event(Event::ValidatorAdded { validator: 5 }.into());
		assert_eq!(
			<ValidatorSet as SessionManager<u64>>::new_session(2),
			Some(vec![1, 2, 3, 4, 5])
		);
	});
}

#[test]
fn governance_removes_a_validator_but_not_below_the_minimum() {
	new_test_ext().execute_with(|| {
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 1));
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 2));
		assert_eq!(Validators::<Test>::get().into_inner(), vec![3, 4]);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 3),
			Error::<Test>::TooFewValidators
		);
		assert_eq!(<ValidatorSet as SessionManager<u64>>::new_session(3), Some(vec![3, 4]));
	});
}

#[test]
fn only_governance_changes_the_set() {
	new_test_ext().execute_with(|| {
		// The DSO's validator alone cannot add or remove anyone.
		assert_noop!(ValidatorSet::add_validator(RuntimeOrigin::signed(1), 5), BadOrigin);
		assert_noop!(ValidatorSet::remove_validator(RuntimeOrigin::signed(1), 2), BadOrigin);
	});
}

#[test]
fn bad_requests_are_refused() {
	new_test_ext().execute_with(|| {
		let root = RuntimeOrigin::root;
		assert_noop!(ValidatorSet::add_validator(root(), 9), Error::<Test>::NoSessionKeys);
		assert_noop!(ValidatorSet::add_validator(root(), 2), Error::<Test>::AlreadyValidator);
		assert_noop!(ValidatorSet::remove_validator(root(), 9), Error::<Test>::NotValidator);
		Registered::mutate(|r| r.extend(10..20));
		for v in 10..14 {
			assert_ok!(ValidatorSet::add_validator(root(), v));
		}
		assert_noop!(ValidatorSet::add_validator(root(), 15), Error::<Test>::TooManyValidators);
	});
}
