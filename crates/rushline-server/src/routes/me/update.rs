use axum::extract::State;
use rushline_app::AppError;
use rushline_app::identity::FieldErrors;
use rushline_domain::identity::validate_name;
use rushline_store::DbError;
use serde::Deserialize;
use utoipa::ToSchema;

use super::own_account;
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
    let Some(name) = request.name.as_deref().map(str::trim) else {
        return Ok(Json(own_account(&state, caller.id).await?.into()));
    };
    let mut errors = FieldErrors::default();
    errors.check("name", validate_name(name));
    errors.into_result()?;
    let user = state
        .store
        .update_profile(caller.id, name, state.clock.now())
        .await
        .map_err(|e| match e {
            DbError::NotFound => AppError::unauthorized(),
            other => other.into(),
        })?;
    Ok(Json(user.into()))
}
