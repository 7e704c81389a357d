//! Field-by-field validation results, collected so that a client learns every problem at once.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use crate::clock::to_micros;

/// The message for text with a control character in it.
pub const CONTROL_CHARACTERS: &str = "must not contain control characters";

/// Messages per field, serialised as `{"name": ["must be 1 to 100 characters"]}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<&'static str, Vec<String>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_default().push(message.into());
    }

    /// Adds `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &'static str, message: impl Into<String>) {
        if !ok {
            self.add(field, message);
        }
    }

    /// Adds every message of `other`, so that rules checked in different places are reported
    /// together.
    pub fn merge(&mut self, other: FieldErrors) {
        for (field, messages) in other.0 {
            self.0.entry(field).or_default().extend(messages);
        }
    }

    /// Both values when both checks passed; every error of either otherwise, so that rules
    /// checked in different places are reported together.
    pub fn both<A, B>(
        a: Result<A, FieldErrors>,
        b: Result<B, FieldErrors>,
    ) -> Result<(A, B), FieldErrors> {
        match (a, b) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            (a, b) => {
                let mut errors = FieldErrors::new();
                for failed in [a.err(), b.err()].into_iter().flatten() {
                    errors.merge(failed);
                }
                Err(errors)
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages about `field`, if any.
    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    /// `Ok(value)` when nothing was added, else these errors.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

/// `value` if present, else a "required" error on `field`.
pub fn required<T>(errors: &mut FieldErrors, field: &'static str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        errors.add(field, "is required");
    }
    value
}

/// One line of text that may be stored and compared: no control characters. None belongs in a
/// name, an address or a filter, and PostgreSQL refuses NUL in text outright.
pub fn is_plain_line(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

/// Like [`is_plain_line`], but line breaks and tabs are allowed.
pub fn is_plain_text(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Whether a client's time can be stored: its year has the four digits RFC 3339 allows, so both
/// stores keep it, compare it and give it back unchanged.
pub fn is_storable_time(t: DateTime<Utc>) -> bool {
    (1..=9999).contains(&t.year())
}

/// `t` to the microsecond, as every stored time is, or an error on `field` when it is not
/// [storable](is_storable_time).
pub fn time(
    errors: &mut FieldErrors,
    field: &'static str,
    t: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if !is_storable_time(t) {
        errors.add(field, "must be between the years 0001 and 9999");
        return None;
    }
    Some(to_micros(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_collect_per_field_in_a_stable_order() {
        let mut errors = FieldErrors::new();
        assert!(errors.clone().into_result(|| 1).is_ok());
        errors.add("price", "must be positive");
        errors.add("name", "is required");
        errors.add("price", "must be an integer");
        assert_eq!(
            errors.get("price").unwrap(),
            ["must be positive", "must be an integer"]
        );
        assert_eq!(errors.get("stock"), None);
        let json = serde_json::to_string(&errors).unwrap();
        assert_eq!(
            json,
            r#"{"name":["is required"],"price":["must be positive","must be an integer"]}"#
        );
        assert!(errors.clone().into_result(|| 1).is_err());

        let mut other = FieldErrors::new();
        other.add("name", "must not contain control characters");
        assert_eq!(
            FieldErrors::both(Ok::<_, FieldErrors>(1), Ok(2)),
            Ok((1, 2))
        );
        let both = FieldErrors::both(Err::<(), _>(errors), Err::<(), _>(other)).unwrap_err();
        assert_eq!(
            both.get("name").unwrap(),
            ["is required", "must not contain control characters"]
        );
        assert_eq!(both.get("price").unwrap().len(), 2);
    }

    #[test]
    fn control_characters_are_refused_except_line_breaks_and_tabs_in_text() {
        for bad in ["a\0b", "\u{7}", "line\nbreak", "tab\t", "\u{9b}"] {
            assert!(!is_plain_line(bad), "{bad:?}");
        }
        assert!(is_plain_line("Aurora sneakers · 한정판"));
        assert!(is_plain_text("two\r\nlines\tand a tab"));
        assert!(!is_plain_text("nul\0"));
        assert!(!is_plain_text("escape\u{1b}[0m"));
    }

    #[test]
    fn times_outside_four_digit_years_are_refused_not_panicked_on() {
        let mut errors = FieldErrors::new();
        let far = "+20000-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let early = "1600-01-01T00:00:00.000000999Z"
            .parse::<DateTime<Utc>>()
            .unwrap();
        assert_eq!(time(&mut errors, "ends_at", far), None);
        assert_eq!(errors.get("ends_at").unwrap().len(), 1);
        assert_eq!(
            time(&mut errors, "starts_at", early),
            Some("1600-01-01T00:00:00Z".parse().unwrap())
        );
        assert_eq!(
            time(&mut errors, "starts_at", DateTime::<Utc>::MIN_UTC),
            None
        );
        assert!(errors.get("starts_at").is_some());
    }
}
