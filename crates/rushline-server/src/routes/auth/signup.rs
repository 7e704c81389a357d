use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::identity;
use serde::Deserialize;
use utoipa::ToSchema;

use super::Profile;
use crate::openapi::errors;
use crate::{ApiError, AppState, ClientIp, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct SignupRequest {
    /// Compared case-insensitively; stored trimmed and lowercased.
    #[serde(default)]
    #[schema(example = "minji@example.com")]
    email: String,
    /// 8–64 characters with at least one letter, one digit and one symbol.
    #[serde(default)]
    #[schema(example = "s3cret!pw")]
    password: String,
    /// 1–100 characters.
    #[serde(default)]
    #[schema(example = "Kim Minji")]
    name: String,
    /// `buyer` (the default) or `seller`. Admins are made with `rushline admin create-user`.
    #[schema(example = "buyer")]
    role: Option<String>,
}

errors!(SignupErrors: [EmailTaken, ValidationFailed, RateLimited]);

/// Creates an unverified account and mails it a 6-digit code (valid 5 minutes) to pass to
/// `/auth/verify`. The mail is sent by a job; sign-up does not wait for it.
#[utoipa::path(
    post,
    path = "/api/v1/auth/signup",
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "the account, unverified", body = Profile),
        SignupErrors,
    )
)]
pub(crate) async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<SignupRequest>,
) -> Result<(StatusCode, Json<Profile>), ApiError> {
    let user = identity::sign_up(
        &state,
        ip,
        &request.email,
        &request.password,
        &request.name,
        request.role.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}
