use axum::extract::State;

use super::own_account;
use crate::auth::AuthUser;
use crate::routes::auth::Profile;
use crate::{ApiError, AppState, ErrorBody, Json};

/// The caller's profile.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Profile),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(own_account(&state, caller.id).await?.into()))
}
