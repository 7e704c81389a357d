use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::identity;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct LogoutRequest {
    refresh_token: String,
}

/// Ends the login session of the refresh token: none of its refresh tokens work any more.
/// Access tokens already issued stay valid until they expire (15 minutes). Idempotent: an
/// unknown or already revoked token is accepted too.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    request_body = LogoutRequest,
    responses((status = 204, description = "the session is over"))
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    Json(request): Json<LogoutRequest>,
) -> Result<StatusCode, ApiError> {
    identity::log_out(&state, &request.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
