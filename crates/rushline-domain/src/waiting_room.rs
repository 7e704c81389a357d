//! A drop's waiting room, as its seller sets it: how fast buyers are let in, how many may shop
//! at once, how long a pass lasts and how early the pre-queue opens.

use crate::validation::FieldErrors;

/// The fastest admission rate a room may have, buyers per minute.
pub const MAX_ADMIT_PER_MINUTE: i64 = 100_000;
/// The longest session a pass may give, in minutes.
pub const MAX_SESSION_MINUTES: i64 = 60;
/// The longest pre-queue, in minutes: a day.
pub const MAX_PREQUEUE_MINUTES: i64 = 24 * 60;
/// The largest cap on active passes.
pub const MAX_ACTIVE: i64 = 10_000_000;

pub const DEFAULT_SESSION_MINUTES: i64 = 5;
pub const DEFAULT_PREQUEUE_MINUTES: i64 = 30;

/// A waiting room's settings, checked before they are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitingRoomTerms {
    pub admit_per_minute: i64,
    pub max_active: Option<i64>,
    pub session_minutes: i64,
    pub prequeue_minutes: i64,
}

impl WaitingRoomTerms {
    /// Every rule, all failures at once, named `waiting_room.<field>`.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        errors.check(
            (1..=MAX_ADMIT_PER_MINUTE).contains(&self.admit_per_minute),
            "waiting_room.admit_per_minute",
            format!("must be between 1 and {MAX_ADMIT_PER_MINUTE}"),
        );
        errors.check(
            self.max_active
                .is_none_or(|max| (1..=MAX_ACTIVE).contains(&max)),
            "waiting_room.max_active",
            format!("must be between 1 and {MAX_ACTIVE}, or absent for no cap"),
        );
        errors.check(
            (1..=MAX_SESSION_MINUTES).contains(&self.session_minutes),
            "waiting_room.session_minutes",
            format!("must be between 1 and {MAX_SESSION_MINUTES}"),
        );
        errors.check(
            (0..=MAX_PREQUEUE_MINUTES).contains(&self.prequeue_minutes),
            "waiting_room.prequeue_minutes",
            format!("must be between 0 and {MAX_PREQUEUE_MINUTES}"),
        );
        errors.into_result(|| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_every_broken_rule_is_named() {
        let terms = WaitingRoomTerms {
            admit_per_minute: 600,
            max_active: None,
            session_minutes: DEFAULT_SESSION_MINUTES,
            prequeue_minutes: DEFAULT_PREQUEUE_MINUTES,
        };
        assert_eq!(terms.validate(), Ok(()));
        let edges = WaitingRoomTerms {
            admit_per_minute: MAX_ADMIT_PER_MINUTE,
            max_active: Some(1),
            session_minutes: MAX_SESSION_MINUTES,
            prequeue_minutes: 0,
        };
        assert_eq!(edges.validate(), Ok(()));

        let broken = WaitingRoomTerms {
            admit_per_minute: 0,
            max_active: Some(0),
            session_minutes: 0,
            prequeue_minutes: -1,
        };
        let errors = broken.validate().unwrap_err();
        for field in [
            "admit_per_minute",
            "max_active",
            "session_minutes",
            "prequeue_minutes",
        ] {
            let name = format!("waiting_room.{field}");
            assert!(errors.get(&name).is_some(), "{name}: {errors:?}");
        }
        let too_much = WaitingRoomTerms {
            admit_per_minute: MAX_ADMIT_PER_MINUTE + 1,
            max_active: Some(MAX_ACTIVE + 1),
            session_minutes: MAX_SESSION_MINUTES + 1,
            prequeue_minutes: MAX_PREQUEUE_MINUTES + 1,
        };
        assert_eq!(too_much.validate().unwrap_err(), errors);
    }
}
