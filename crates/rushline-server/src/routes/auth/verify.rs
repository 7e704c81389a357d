use axum::extract::State;
use rushline_app::identity;
use serde::Deserialize;
use utoipa::ToSchema;

use super::Profile;
use crate::openapi::errors;
use crate::{ApiError, AppState, ClientIp, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct VerifyRequest {
    #[schema(example = "minji@example.com")]
    email: String,
    /// The 6-digit code from the sign-up mail.
    #[schema(example = "042917")]
    code: String,
}

errors!(VerifyErrors: [InvalidCode, CodeExpired, ValidationFailed, RateLimited]);

/// Verifies the e-mail address with the mailed code; the same code again (a retry) succeeds
/// again. Any other code is `invalid_code`, whether or not the account exists or is verified.
#[utoipa::path(
    post,
    path = "/api/v1/auth/verify",
    tag = "auth",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "the account, verified", body = Profile),
        VerifyErrors,
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<VerifyRequest>,
) -> Result<Json<Profile>, ApiError> {
    let user = identity::verify_email(&state, ip, &request.email, &request.code).await?;
    Ok(Json(user.into()))
}
