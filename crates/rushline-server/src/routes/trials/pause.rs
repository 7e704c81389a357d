use axum::extract::State;
use rushline_app::trials;
use uuid::Uuid;

use super::TrialView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(PauseErrors: [Unauthorized, NotFound, NotOpen, Closed]);

/// Pauses an open trial: from the answer on, every application is refused with 409 `paused`
/// and no selection commits. Pausing a paused trial changes nothing. Its seller or an admin.
#[utoipa::path(
    post,
    path = "/api/v1/trials/{id}/pause",
    tag = "trials",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TrialView), PauseErrors)
)]
pub(crate) async fn pause(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<TrialView>, ApiError> {
    let trial = trials::pause(&state, user, id).await?;
    Ok(Json(TrialView::of(&state, &trial).await?))
}

/// Resumes a paused trial; resuming one that is not paused changes nothing. Its seller or an
/// admin.
#[utoipa::path(
    post,
    path = "/api/v1/trials/{id}/resume",
    tag = "trials",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TrialView), PauseErrors)
)]
pub(crate) async fn resume(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<TrialView>, ApiError> {
    let trial = trials::resume(&state, user, id).await?;
    Ok(Json(TrialView::of(&state, &trial).await?))
}
