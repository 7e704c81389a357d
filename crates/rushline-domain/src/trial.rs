//! Trial campaigns ("체험단"): a seller offers a fixed number of slots of a product for testers,
//! who apply in a window and owe a review by a deadline.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::drop::{Window, window_status};
use crate::validation::{CONTROL_CHARACTERS, FieldErrors, is_plain_line, is_plain_text, time};

/// The most slots one trial may offer.
pub const MAX_TRIAL_SLOTS: i64 = 100_000;
/// Days a selected tester has to post a review, unless the seller says otherwise.
pub const DEFAULT_REVIEW_DUE_DAYS: i64 = 14;
/// The longest review deadline a seller may set, in days.
pub const MAX_REVIEW_DUE_DAYS: i64 = 365;
pub const TITLE_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 5000;
/// The longest motivation an applicant may write, in characters.
pub const MOTIVATION_MAX_CHARS: usize = 1000;

/// What a seller sets on a trial, checked before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialTerms {
    pub title: String,
    pub description: String,
    pub slots: i64,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub review_due_days: i64,
}

/// A trial's terms that meet every rule, as stored: trimmed title, times to the microsecond,
/// the review deadline in the `i32` of its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidTrialTerms {
    pub title: String,
    pub description: String,
    pub slots: i64,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub review_due_days: i32,
}

impl TrialTerms {
    /// Every rule a trial's terms must meet at `now`, all failures at once.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ValidTrialTerms, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = self.title.trim();
        errors.check(
            (1..=TITLE_MAX_CHARS).contains(&title.chars().count()),
            "title",
            format!("must be 1 to {TITLE_MAX_CHARS} characters"),
        );
        errors.check(is_plain_line(title), "title", CONTROL_CHARACTERS);
        errors.check(
            self.description.chars().count() <= DESCRIPTION_MAX_CHARS,
            "description",
            format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
        );
        errors.check(
            is_plain_text(&self.description),
            "description",
            CONTROL_CHARACTERS,
        );
        errors.check(
            (1..=MAX_TRIAL_SLOTS).contains(&self.slots),
            "slots",
            format!("must be between 1 and {MAX_TRIAL_SLOTS}"),
        );
        let review_due_days = i32::try_from(self.review_due_days)
            .ok()
            .filter(|days| (1..=MAX_REVIEW_DUE_DAYS).contains(&i64::from(*days)));
        if review_due_days.is_none() {
            errors.add(
                "review_due_days",
                format!("must be between 1 and {MAX_REVIEW_DUE_DAYS}"),
            );
        }
        errors.check(
            self.opens_at < self.closes_at,
            "closes_at",
            "must be after opens_at",
        );
        errors.check(self.closes_at > now, "closes_at", "must be in the future");
        let opens_at = time(&mut errors, "opens_at", self.opens_at);
        let closes_at = time(&mut errors, "closes_at", self.closes_at);
        match (opens_at, closes_at, review_due_days) {
            (Some(opens_at), Some(closes_at), Some(review_due_days)) if errors.is_empty() => {
                Ok(ValidTrialTerms {
                    title: title.to_owned(),
                    description: self.description.clone(),
                    slots: self.slots,
                    opens_at,
                    closes_at,
                    review_due_days,
                })
            }
            _ => Err(errors),
        }
    }
}

/// An applicant's optional motivation: at most [`MOTIVATION_MAX_CHARS`], no control characters
/// but line breaks and tabs.
pub fn validate_motivation(motivation: Option<&str>) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if let Some(text) = motivation {
        errors.check(
            text.chars().count() <= MOTIVATION_MAX_CHARS,
            "motivation",
            format!("must be at most {MOTIVATION_MAX_CHARS} characters"),
        );
        errors.check(is_plain_text(text), "motivation", CONTROL_CHARACTERS);
    }
    errors.into_result(|| ())
}

/// When a tester selected at `selected_at` owes the review.
pub fn review_due_at(selected_at: DateTime<Utc>, review_due_days: i32) -> DateTime<Utc> {
    selected_at + TimeDelta::days(i64::from(review_due_days))
}

/// A trial as buyers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrialStatus {
    /// Before `opens_at`.
    Scheduled,
    /// Taking applications.
    Open,
    /// Open, and every slot is taken (a cancelled slot opens it again).
    Full,
    /// Open, but its seller paused it: applications are refused until it resumes.
    Paused,
    /// From `closes_at`.
    Closed,
}

impl TrialStatus {
    /// The status at `now`: the window's, then the seller's pause, then the slots left.
    pub fn shown(
        now: DateTime<Utc>,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        paused: bool,
        remaining: u64,
    ) -> Self {
        match window_status(now, opens_at, closes_at) {
            Window::Scheduled => TrialStatus::Scheduled,
            Window::Closed => TrialStatus::Closed,
            Window::Open if paused => TrialStatus::Paused,
            Window::Open if remaining == 0 => TrialStatus::Full,
            Window::Open => TrialStatus::Open,
        }
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Holds a slot; owes a review by `review_due_at`.
    Selected,
    /// Applied but not drawn: reserved for raffle trials. A first-come trial records no row for
    /// a refused applicant.
    NotSelected,
    /// The review came in time.
    ReviewSubmitted,
    /// No review by `review_due_at`: the tester is barred from new trials for a while.
    ReviewOverdue,
    /// The tester gave the slot back before the trial closed.
    Cancelled,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 5] = [
        ApplicationStatus::Selected,
        ApplicationStatus::NotSelected,
        ApplicationStatus::ReviewSubmitted,
        ApplicationStatus::ReviewOverdue,
        ApplicationStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Selected => "selected",
            ApplicationStatus::NotSelected => "not_selected",
            ApplicationStatus::ReviewSubmitted => "review_submitted",
            ApplicationStatus::ReviewOverdue => "review_overdue",
            ApplicationStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the application holds one of the trial's slots.
    pub fn holds_slot(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Selected
                | ApplicationStatus::ReviewSubmitted
                | ApplicationStatus::ReviewOverdue
        )
    }
}

impl fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApplicationStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        ApplicationStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown application status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn terms(now: DateTime<Utc>) -> TrialTerms {
        TrialTerms {
            title: "  Try the Aurora  ".to_owned(),
            description: "Wear them a week.\nTell us.".to_owned(),
            slots: 100,
            opens_at: now + Duration::minutes(5),
            closes_at: now + Duration::days(3),
            review_due_days: DEFAULT_REVIEW_DUE_DAYS,
        }
    }

    #[test]
    fn valid_terms_pass_and_every_broken_rule_is_named() {
        let now = Utc::now();
        let valid = terms(now).validate(now).unwrap();
        assert_eq!(valid.title, "Try the Aurora");
        assert_eq!(valid.review_due_days, 14);
        let broken = TrialTerms {
            title: "bad\u{0}".to_owned(),
            description: "x\u{7}".to_owned(),
            slots: MAX_TRIAL_SLOTS + 1,
            opens_at: now + Duration::days(4),
            review_due_days: 0,
            ..terms(now)
        };
        let errors = broken.validate(now).unwrap_err();
        for field in [
            "title",
            "description",
            "slots",
            "review_due_days",
            "closes_at",
        ] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        let zero = TrialTerms {
            slots: 0,
            ..terms(now)
        };
        assert!(zero.validate(now).unwrap_err().get("slots").is_some());
    }

    #[test]
    fn motivations_are_bounded_plain_text() {
        assert!(validate_motivation(None).is_ok());
        assert!(validate_motivation(Some("I run daily.\nReally.")).is_ok());
        assert!(validate_motivation(Some(&"가".repeat(MOTIVATION_MAX_CHARS))).is_ok());
        assert!(validate_motivation(Some(&"a".repeat(MOTIVATION_MAX_CHARS + 1))).is_err());
        assert!(validate_motivation(Some("nul\u{0}")).is_err());
    }

    #[test]
    fn the_status_is_the_window_then_the_pause_then_the_slots() {
        let opens = Utc::now();
        let closes = opens + Duration::hours(1);
        let shown =
            |now, paused, remaining| TrialStatus::shown(now, opens, closes, paused, remaining);
        assert_eq!(
            shown(opens - Duration::seconds(1), true, 0),
            TrialStatus::Scheduled
        );
        assert_eq!(shown(opens, false, 3), TrialStatus::Open);
        assert_eq!(shown(opens, false, 0), TrialStatus::Full);
        assert_eq!(shown(opens, true, 0), TrialStatus::Paused);
        assert_eq!(shown(closes, true, 3), TrialStatus::Closed);
        assert!(ApplicationStatus::ReviewOverdue.holds_slot());
        assert!(!ApplicationStatus::Cancelled.holds_slot());
        assert_eq!(
            "review_overdue".parse(),
            Ok(ApplicationStatus::ReviewOverdue)
        );
    }
}
