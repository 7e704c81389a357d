use axum::extract::State;
use axum::http::StatusCode;
use rushline_gate::PoolKey;
use rushline_store::drop_pool_key;
use uuid::Uuid;

use super::update::{not_scheduled, owned_drop};
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Path};

errors!(DeleteErrors: [Unauthorized, NotFound, NotScheduled]);

/// Deletes a drop while it is scheduled. Its seller or an admin.
#[utoipa::path(
    delete,
    path = "/api/v1/drops/{id}",
    tag = "drops",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "deleted"),
        DeleteErrors,
    )
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    owned_drop(&state, user, id).await?;
    state
        .store
        .delete_drop(id, state.clock.now())
        .await
        .map_err(not_scheduled)?;
    state.drops.forget(id).await;
    state
        .claims
        .gate
        .invalidate(&PoolKey(drop_pool_key(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
