//! `/api/v1/products/{id}/reviews` and `/review-stats`: buyers' reviews of a product, their
//! listing and statistics, and an admin's hiding of one.

mod create;
mod hide;
mod list;
mod stats;
mod update;

use chrono::{DateTime, Utc};
use rushline_domain::ReviewSource;
use rushline_store::Review;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list, create::create))
        .routes(routes!(update::update, update::delete))
        .routes(routes!(hide::hide))
        .routes(routes!(stats::stats))
}

/// A review as anyone sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReviewView {
    id: Uuid,
    product_id: Uuid,
    buyer_id: Uuid,
    buyer_name: String,
    /// `verified_purchase` (a completed order) or `trial` (a selected tester).
    source: ReviewSource,
    /// 1 to 5 stars.
    rating: i32,
    title: Option<String>,
    text: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Set once an admin hid it (seen only in the answer to the hide).
    #[serde(skip_serializing_if = "Option::is_none")]
    hidden_at: Option<DateTime<Utc>>,
}

impl From<&Review> for ReviewView {
    fn from(review: &Review) -> Self {
        Self {
            id: review.id,
            product_id: review.product_id,
            buyer_id: review.buyer_id,
            buyer_name: review.buyer_name.clone(),
            source: review.source,
            rating: review.rating,
            title: review.title.clone(),
            text: review.text.clone(),
            created_at: review.created_at,
            updated_at: review.updated_at,
            hidden_at: review.hidden_at,
        }
    }
}
