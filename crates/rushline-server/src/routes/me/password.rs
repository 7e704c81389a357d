use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::AppError;
use rushline_app::identity::FieldErrors;
use rushline_app::identity::throttle::PasswordAttempt;
use rushline_domain::identity::validate_password;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::own_account;
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
    let mut errors = FieldErrors::default();
    errors.check("new_password", validate_password(&request.new_password));
    errors.into_result()?;

    let user = own_account(&state, caller.user.id).await?;
    let now = state.clock.now();
    let attempt = PasswordAttempt::begin(&state, &user.email, ip, now).await?;
    let matches = state
        .passwords
        .verify(&request.current_password, Some(&user.password_hash))
        .await;
    if !matches!(matches, Ok(false)) {
        attempt.not_a_failure(&state).await?;
    }
    if !matches? {
        return Err(
            AppError::validation(json!({ "current_password": ["is not your password"] })).into(),
        );
    }

    let password_hash = state.passwords.hash(&request.new_password).await?;
    state
        .store
        .change_password(user.id, &password_hash, caller.session, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
