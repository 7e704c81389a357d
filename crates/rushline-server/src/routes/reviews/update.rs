use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::reviews::{self, ReviewChanges};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ReviewView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateReview {
    rating: Option<i64>,
    /// An empty title removes it.
    title: Option<String>,
    text: Option<String>,
}

errors!(UpdateErrors: [Unauthorized, NotFound, ValidationFailed]);

/// Changes the caller's review; another's answers 404.
#[utoipa::path(
    patch,
    path = "/api/v1/products/{id}/reviews/{review_id}",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("review_id" = Uuid, Path)),
    request_body = UpdateReview,
    responses((status = 200, body = ReviewView), UpdateErrors)
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path((product_id, review_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<UpdateReview>,
) -> Result<Json<ReviewView>, ApiError> {
    let changes = ReviewChanges {
        rating: body.rating,
        title: body.title,
        text: body.text,
    };
    let review = reviews::update(&state, user, product_id, review_id, changes).await?;
    Ok(Json(ReviewView::from(&review)))
}

errors!(DeleteErrors: [Unauthorized, NotFound]);

/// Deletes a review: its author or an admin; anyone else gets 404. A trial application it
/// answered stays `review_submitted`.
#[utoipa::path(
    delete,
    path = "/api/v1/products/{id}/reviews/{review_id}",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("review_id" = Uuid, Path)),
    responses((status = 204), DeleteErrors)
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path((product_id, review_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    reviews::delete(&state, user, product_id, review_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
