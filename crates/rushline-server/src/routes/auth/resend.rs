use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::identity;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::openapi::errors;
use crate::{ApiError, AppState, ClientIp, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ResendRequest {
    #[schema(example = "minji@example.com")]
    email: String,
}

errors!(ResendErrors: [RateLimited, ValidationFailed]);

/// Mails a new code, replacing the previous one, at most once a minute. An unknown or already
/// verified address is accepted too, and gets no mail.
#[utoipa::path(
    post,
    path = "/api/v1/auth/resend",
    tag = "auth",
    request_body = ResendRequest,
    responses(
        (status = 202, description = "a new code is on its way (if the account needs one)"),
        ResendErrors,
    )
)]
pub(crate) async fn resend(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<ResendRequest>,
) -> Result<StatusCode, ApiError> {
    identity::resend_code(&state, ip, &request.email).await?;
    Ok(StatusCode::ACCEPTED)
}
