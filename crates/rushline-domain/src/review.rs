//! Product reviews: who may write one ([`ReviewSource`]), what a review must hold, and the
//! histogram its product's statistics are kept in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::validation::{CONTROL_CHARACTERS, FieldErrors, is_plain_line, is_plain_text};

pub const REVIEW_TITLE_MAX_CHARS: usize = 100;
pub const REVIEW_TEXT_MIN_CHARS: usize = 10;
pub const REVIEW_TEXT_MAX_CHARS: usize = 2000;

/// Why a buyer may review a product: they bought it (a completed order, or a delivered one past
/// its return window), or they tested it (a selected trial application).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSource {
    VerifiedPurchase,
    Trial,
}

impl ReviewSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewSource::VerifiedPurchase => "verified_purchase",
            ReviewSource::Trial => "trial",
        }
    }
}

impl fmt::Display for ReviewSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReviewSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "verified_purchase" => Ok(ReviewSource::VerifiedPurchase),
            "trial" => Ok(ReviewSource::Trial),
            other => Err(format!("unknown review source {other:?}")),
        }
    }
}

/// What a buyer writes: checked before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDraft {
    pub rating: i64,
    pub title: Option<String>,
    pub text: String,
}

/// A draft that meets every rule: the rating in its column's type, a blank title dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidReview {
    pub rating: i32,
    pub title: Option<String>,
    pub text: String,
}

impl ReviewDraft {
    /// Every rule a review must meet, all failures at once.
    pub fn validate(&self) -> Result<ValidReview, FieldErrors> {
        let mut errors = FieldErrors::new();
        let rating = i32::try_from(self.rating)
            .ok()
            .filter(|r| (1..=5).contains(r));
        if rating.is_none() {
            errors.add("rating", "must be between 1 and 5");
        }
        let title = self
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if let Some(title) = title {
            errors.check(
                title.chars().count() <= REVIEW_TITLE_MAX_CHARS,
                "title",
                format!("must be at most {REVIEW_TITLE_MAX_CHARS} characters"),
            );
            errors.check(is_plain_line(title), "title", CONTROL_CHARACTERS);
        }
        let text = self.text.trim();
        errors.check(
            (REVIEW_TEXT_MIN_CHARS..=REVIEW_TEXT_MAX_CHARS).contains(&text.chars().count()),
            "text",
            format!("must be {REVIEW_TEXT_MIN_CHARS} to {REVIEW_TEXT_MAX_CHARS} characters"),
        );
        errors.check(is_plain_text(text), "text", CONTROL_CHARACTERS);
        match rating {
            Some(rating) if errors.is_empty() => Ok(ValidReview {
                rating,
                title: title.map(str::to_owned),
                text: text.to_owned(),
            }),
            _ => Err(errors),
        }
    }
}

/// A product's reviews as counts per star, from which every statistic follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RatingHistogram {
    /// `stars[0]` counts 1-star reviews, `stars[4]` 5-star ones.
    pub stars: [i64; 5],
}

impl RatingHistogram {
    pub fn count(&self) -> i64 {
        self.stars.iter().sum()
    }

    pub fn sum(&self) -> i64 {
        self.stars.iter().zip(1..).map(|(n, stars)| n * stars).sum()
    }

    /// The mean rating; `None` without reviews.
    pub fn average(&self) -> Option<f64> {
        let count = self.count();
        #[expect(
            clippy::cast_precision_loss,
            reason = "review counts are far below 2^52"
        )]
        (count > 0).then(|| self.sum() as f64 / count as f64)
    }

    pub fn min(&self) -> Option<i32> {
        (1..=5).find(|stars| self.stars[*stars as usize - 1] > 0)
    }

    pub fn max(&self) -> Option<i32> {
        (1..=5)
            .rev()
            .find(|stars| self.stars[*stars as usize - 1] > 0)
    }

    /// Counts one more review of `rating` stars (`delta` 1) or one fewer (`delta` -1).
    pub fn add(&mut self, rating: i32, delta: i64) {
        if let Some(n) = usize::try_from(rating - 1)
            .ok()
            .and_then(|i| self.stars.get_mut(i))
        {
            *n += delta;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(rating: i64, title: Option<&str>, text: &str) -> ReviewDraft {
        ReviewDraft {
            rating,
            title: title.map(str::to_owned),
            text: text.to_owned(),
        }
    }

    #[test]
    fn a_review_needs_a_rating_of_one_to_five_and_ten_characters() {
        assert!(draft(5, None, "Fits well, good fabric").validate().is_ok());
        assert!(draft(0, None, "Fits well, good fabric").validate().is_err());
        assert!(draft(6, None, "Fits well, good fabric").validate().is_err());
        assert!(draft(3, None, "too short").validate().is_err());
        assert!(draft(3, None, &"x".repeat(2001)).validate().is_err());
        assert!(
            draft(3, Some(&"t".repeat(101)), "Fits well, good fabric")
                .validate()
                .is_err()
        );
    }

    #[test]
    fn control_characters_are_refused_but_text_may_break_lines() {
        assert!(
            draft(4, Some("a\u{7}b"), "Fits well, good fabric")
                .validate()
                .is_err()
        );
        assert!(
            draft(4, Some("a\nb"), "Fits well, good fabric")
                .validate()
                .is_err()
        );
        assert!(
            draft(4, None, "Fits well\n\ngood fabric")
                .validate()
                .is_ok()
        );
        assert!(
            draft(4, None, "Fits well\u{1b}good fabric")
                .validate()
                .is_err()
        );
    }

    #[test]
    fn the_histogram_gives_every_statistic() {
        let mut h = RatingHistogram::default();
        assert_eq!((h.average(), h.min(), h.max()), (None, None, None));
        h.add(2, 1);
        h.add(5, 1);
        h.add(5, 1);
        assert_eq!(
            (h.count(), h.sum(), h.min(), h.max()),
            (3, 12, Some(2), Some(5))
        );
        assert_eq!(h.average(), Some(4.0));
        h.add(2, -1);
        assert_eq!(h.min(), Some(5));
    }
}
