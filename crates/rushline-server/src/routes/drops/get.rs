use axum::extract::State;
use uuid::Uuid;

use super::DropView;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(GetErrors: [NotFound]);

/// One drop, with `remaining` from the claim gate, and `queue_seed` once a drop with a waiting
/// room has opened. Public.
#[utoipa::path(
    get,
    path = "/api/v1/drops/{id}",
    tag = "drops",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DropView), GetErrors)
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<DropView>, ApiError> {
    let drop = state.drops.get(&state.store, id).await?;
    let mut view = DropView::of(&state, &drop).await?;
    // The cached drop may predate the opening that recorded the seed.
    view.queue_seed = state.rooms.published_seed(&state, &drop).await?;
    Ok(Json(view))
}
