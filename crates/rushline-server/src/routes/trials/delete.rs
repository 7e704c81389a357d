use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::trials;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Path};

errors!(DeleteErrors: [Unauthorized, NotFound, NotScheduled]);

/// Deletes a trial while it is scheduled. Its seller or an admin.
#[utoipa::path(
    delete,
    path = "/api/v1/trials/{id}",
    tag = "trials",
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
    trials::delete_trial(&state, user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
