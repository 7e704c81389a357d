//! Product reviews and the per-product counters their statistics are read from.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::{RatingHistogram, ReviewSource};
use uuid::Uuid;

use crate::DbError;
use crate::jobs::NewJob;

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub id: Uuid,
    pub product_id: Uuid,
    pub buyer_id: Uuid,
    pub buyer_name: String,
    pub source: ReviewSource,
    /// The trial application a trial review answers.
    pub application_id: Option<Uuid>,
    pub rating: i32,
    pub title: Option<String>,
    pub text: String,
    pub hidden_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a buyer may review a product as: the source, and for a trial the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewRight {
    pub source: ReviewSource,
    pub application_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewReview {
    pub id: Uuid,
    pub product_id: Uuid,
    pub buyer_id: Uuid,
    pub right: ReviewRight,
    pub rating: i32,
    pub title: Option<String>,
    pub text: String,
    pub at: DateTime<Utc>,
    /// Enqueued with the review: a trial review's thanks to the tester.
    pub jobs: Vec<NewJob>,
}

/// The order of a product's reviews; every order ends newest first, then by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReviewSort {
    #[default]
    Newest,
    RatingDesc,
    RatingAsc,
}

/// A review's place in every sort: a keyset cursor.
pub type ReviewKey = (i32, DateTime<Utc>, Uuid);

/// Which visible reviews of a product to list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReviewQuery {
    pub product_id: Uuid,
    pub sort: ReviewSort,
    pub rating: Option<i32>,
    /// Strictly after this review in `sort`.
    pub after: Option<ReviewKey>,
    pub limit: u32,
}

#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Why `buyer` may review `product`, if they may: a `completed` order holding it, or a
    /// `delivered` one whose status changed at or before `delivered_by` (its return window is
    /// over); else a trial application of the product that holds a slot.
    async fn review_right(
        &self,
        buyer: Uuid,
        product: Uuid,
        delivered_by: DateTime<Utc>,
    ) -> Result<Option<ReviewRight>, DbError>;

    /// Inserts the review and counts it in its product's statistics, in one transaction; a trial
    /// review also turns a `selected` application `review_submitted` (an overdue one stays
    /// overdue). Its jobs go in with it. `Conflict { constraint: REVIEWS_ONE_PER_BUYER }` for a second review.
    async fn create_review(&self, review: &NewReview) -> Result<Review, DbError>;

    async fn review(&self, id: Uuid) -> Result<Review, DbError>;

    /// Changes a review's rating, title and text, and its statistics, in one transaction.
    async fn update_review(
        &self,
        id: Uuid,
        rating: i32,
        title: Option<&str>,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<Review, DbError>;

    /// Deletes a review and uncounts it, in one transaction.
    async fn delete_review(&self, id: Uuid) -> Result<(), DbError>;

    /// Hides a review (once; hiding again changes nothing) and uncounts it, in one transaction.
    async fn hide_review(&self, id: Uuid, at: DateTime<Utc>) -> Result<Review, DbError>;

    /// Visible reviews of a product, in `query.sort`.
    async fn list_reviews(&self, query: &ReviewQuery) -> Result<Vec<Review>, DbError>;

    /// The product's visible reviews per star, from its counters.
    async fn review_stats(&self, product: Uuid) -> Result<RatingHistogram, DbError>;
}

/// The conflict `create_review` reports for a buyer's second review of a product.
pub const REVIEWS_ONE_PER_BUYER: &str = "reviews_one_per_buyer";
/// The conflict `create_review` reports for a second review of one trial application (the
/// same buyer and product: which of the two a backend reports first is its own choice).
pub const REVIEWS_APPLICATION_KEY: &str = "reviews_application_key";
