use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::trials;
use rushline_domain::trial::DEFAULT_REVIEW_DUE_DAYS;
use rushline_domain::{Allocation, TrialTerms};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::TrialView;
use crate::auth::Seller;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTrial {
    /// One of the seller's own products.
    product_id: Uuid,
    /// 1–100 characters, one line.
    title: String,
    /// Up to 5,000 characters; line breaks allowed.
    #[serde(default)]
    description: String,
    /// Testers to select, 1 to 100,000.
    slots: i64,
    opens_at: DateTime<Utc>,
    /// After `opens_at`, and in the future.
    closes_at: DateTime<Utc>,
    /// Days a selected tester has to post a review, 1–365; default 14.
    #[serde(default = "default_review_due_days")]
    review_due_days: i64,
    /// `fcfs` (default): every applicant who gets a slot is selected at once; `raffle`: entries
    /// until `closes_at`, then a verifiable draw selects `slots` of them.
    #[serde(default)]
    allocation: Allocation,
}

fn default_review_due_days() -> i64 {
    DEFAULT_REVIEW_DUE_DAYS
}

errors!(CreateErrors: [InvalidIdempotencyKey, Unauthorized, Forbidden, NotFound, ValidationFailed, IdempotencyMismatch]);

/// Creates a trial of one of the caller's products, with a pool of `slots` slots, one per buyer.
#[utoipa::path(
    post,
    path = "/api/v1/trials",
    tag = "trials",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the trial the first attempt created"),
    ),
    request_body = CreateTrial,
    responses((status = 201, body = TrialView), CreateErrors)
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Seller(seller): Seller,
    key: Option<IdempotencyKey>,
    Json(body): Json<CreateTrial>,
) -> Result<(StatusCode, Json<TrialView>), ApiError> {
    let terms = TrialTerms {
        title: body.title,
        description: body.description,
        slots: body.slots,
        opens_at: body.opens_at,
        closes_at: body.closes_at,
        review_due_days: body.review_due_days,
    };
    let key = key.as_ref().map(|key| key.0.as_str());
    let trial =
        trials::create_trial(&state, seller, key, body.product_id, terms, body.allocation).await?;
    Ok((
        StatusCode::CREATED,
        Json(TrialView::of(&state, &trial).await?),
    ))
}
