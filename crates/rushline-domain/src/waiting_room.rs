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

/// A waiting room's settings that meet every rule, in the `i32`s they are stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidWaitingRoom {
    pub admit_per_minute: i32,
    pub max_active: Option<i32>,
    pub session_minutes: i32,
    pub prequeue_minutes: i32,
}

impl WaitingRoomTerms {
    /// Every rule, all failures at once, named `waiting_room.<field>`.
    pub fn validate(&self) -> Result<ValidWaitingRoom, FieldErrors> {
        let mut errors = FieldErrors::new();
        // Every bound fits an `i32`, so a value within one converts.
        let mut within =
            |field: &'static str, value: i64, least: i64, most: i64, message: String| {
                let n = i32::try_from(value)
                    .ok()
                    .filter(|_| (least..=most).contains(&value));
                if n.is_none() {
                    errors.add(field, message);
                }
                n
            };
        let admit_per_minute = within(
            "waiting_room.admit_per_minute",
            self.admit_per_minute,
            1,
            MAX_ADMIT_PER_MINUTE,
            format!("must be between 1 and {MAX_ADMIT_PER_MINUTE}"),
        );
        let max_active = self.max_active.map(|max| {
            within(
                "waiting_room.max_active",
                max,
                1,
                MAX_ACTIVE,
                format!("must be between 1 and {MAX_ACTIVE}, or absent for no cap"),
            )
        });
        let session_minutes = within(
            "waiting_room.session_minutes",
            self.session_minutes,
            1,
            MAX_SESSION_MINUTES,
            format!("must be between 1 and {MAX_SESSION_MINUTES}"),
        );
        let prequeue_minutes = within(
            "waiting_room.prequeue_minutes",
            self.prequeue_minutes,
            0,
            MAX_PREQUEUE_MINUTES,
            format!("must be between 0 and {MAX_PREQUEUE_MINUTES}"),
        );
        match (
            admit_per_minute,
            max_active,
            session_minutes,
            prequeue_minutes,
        ) {
            (
                Some(admit_per_minute),
                None | Some(Some(_)),
                Some(session_minutes),
                Some(prequeue_minutes),
            ) => Ok(ValidWaitingRoom {
                admit_per_minute,
                max_active: max_active.flatten(),
                session_minutes,
                prequeue_minutes,
            }),
            _ => Err(errors),
        }
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
        assert_eq!(
            terms
                .validate()
                .map(|room| (room.admit_per_minute, room.max_active)),
            Ok((600, None))
        );
        let edges = WaitingRoomTerms {
            admit_per_minute: MAX_ADMIT_PER_MINUTE,
            max_active: Some(1),
            session_minutes: MAX_SESSION_MINUTES,
            prequeue_minutes: 0,
        };
        assert_eq!(edges.validate().map(|room| room.max_active), Ok(Some(1)));

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
