use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::identity;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::AuthSession;
use crate::openapi::errors;
use crate::{ApiError, AppState, ClientIp, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ChangePasswordRequest {
    #[schema(example = "s3cret!pw")]
    current_password: String,
    /// 8–64 characters with at least one letter, one digit and one symbol.
    #[schema(example = "n3w-secret!")]
    new_password: String,
}

errors!(ChangePasswordErrors: [Unauthorized, ValidationFailed, RateLimited]);

/// Changes the caller's password and ends every other login session: their refresh tokens stop
/// working. The session of the access token used here stays. A wrong current password counts
/// as a failed login for the throttle.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "changed; other sessions revoked"),
        ChangePasswordErrors,
    )
)]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: AuthSession,
    ClientIp(ip): ClientIp,
    Json(request): Json<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    identity::change_password(
        &state,
        caller.user.id,
        caller.session,
        &request.current_password,
        &request.new_password,
        ip,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
