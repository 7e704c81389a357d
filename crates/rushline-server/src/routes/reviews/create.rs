use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::reviews;
use rushline_domain::ReviewDraft;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ReviewView;
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json, Path};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateReview {
    /// 1 to 5 stars.
    rating: i64,
    /// Up to 100 characters on one line.
    title: Option<String>,
    /// 10 to 2,000 characters; line breaks allowed, no other control characters.
    text: String,
}

errors!(CreateErrors: [InvalidIdempotencyKey, Unauthorized, Forbidden, ReviewNotAllowed, NotFound, AlreadyReviewed, ValidationFailed]);

/// Reviews a product: a buyer with a completed order of it (or a delivered one past its return
/// window) — `verified_purchase` — or a selected tester of one of its trials — `trial`, which
/// marks the application `review_submitted`. One review per buyer and product.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/reviews",
    tag = "reviews",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the first review"),
    ),
    request_body = CreateReview,
    responses((status = 201, body = ReviewView), CreateErrors)
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(product_id): Path<Uuid>,
    key: Option<IdempotencyKey>,
    Json(body): Json<CreateReview>,
) -> Result<(StatusCode, Json<ReviewView>), ApiError> {
    let draft = ReviewDraft {
        rating: body.rating,
        title: body.title,
        text: body.text,
    };
    let key = key.map(|IdempotencyKey(key)| key);
    let review = reviews::create(&state, buyer, key.as_deref(), product_id, draft).await?;
    Ok((StatusCode::CREATED, Json(ReviewView::from(&review))))
}
