use axum::extract::State;
use rushline_app::identity::own_account;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::routes::auth::Profile;
use crate::{ApiError, AppState, Json};

errors!(ShowErrors: [Unauthorized]);

/// The caller's profile.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    security(("bearer" = [])),
    responses((status = 200, body = Profile), ShowErrors)
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(own_account(&state, caller.id).await?.into()))
}
