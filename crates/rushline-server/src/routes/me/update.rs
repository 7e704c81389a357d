use axum::extract::State;
use rushline_app::identity;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::routes::auth::Profile;
use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateProfileRequest {
    /// 1–100 characters; absent leaves the name as it is.
    #[schema(example = "Minji Kim")]
    name: Option<String>,
}

errors!(UpdateErrors: [Unauthorized, ValidationFailed]);

/// Changes the caller's profile. The e-mail address and role cannot be changed here.
#[utoipa::path(
    patch,
    path = "/api/v1/me",
    tag = "me",
    security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses((status = 200, body = Profile), UpdateErrors)
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<UpdateProfileRequest>,
) -> Result<Json<Profile>, ApiError> {
    let user = match request.name.as_deref() {
        None => identity::own_account(&state, caller.id).await?,
        Some(name) => identity::rename(&state, caller.id, name).await?,
    };
    Ok(Json(user.into()))
}
