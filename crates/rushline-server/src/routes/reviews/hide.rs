use axum::extract::State;
use rushline_app::reviews;
use uuid::Uuid;

use super::ReviewView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(HideErrors: [Unauthorized, Forbidden, NotFound]);

/// Hides a review from listings and statistics. Admins only; hiding it again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/reviews/{review_id}/hide",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("review_id" = Uuid, Path)),
    responses((status = 200, body = ReviewView), HideErrors)
)]
pub(crate) async fn hide(
    State(state): State<AppState>,
    user: AuthUser,
    Path((product_id, review_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<ReviewView>, ApiError> {
    let review = reviews::hide(&state, user, product_id, review_id).await?;
    Ok(Json(ReviewView::from(&review)))
}
