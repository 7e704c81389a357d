//! Field-by-field validation results, collected so that a client learns every problem at once.

use std::collections::BTreeMap;

use serde::Serialize;

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
        assert!(errors.into_result(|| 1).is_err());
    }
}
