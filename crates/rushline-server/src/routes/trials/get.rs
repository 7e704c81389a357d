use axum::extract::State;
use uuid::Uuid;

use super::TrialView;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(GetErrors: [NotFound]);

/// One trial, with `remaining` from the claim gate. Public.
#[utoipa::path(
    get,
    path = "/api/v1/trials/{id}",
    tag = "trials",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TrialView), GetErrors)
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<TrialView>, ApiError> {
    let trial = state.trials.get(&state.store, id).await?;
    Ok(Json(TrialView::of(&state, &trial).await?))
}
