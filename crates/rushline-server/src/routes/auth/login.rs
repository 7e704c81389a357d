use axum::extract::State;
use rushline_app::identity;
use serde::Deserialize;
use utoipa::ToSchema;

use super::TokenPair;
use crate::openapi::errors;
use crate::{ApiError, AppState, ClientIp, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct LoginRequest {
    #[schema(example = "minji@example.com")]
    email: String,
    #[schema(example = "s3cret!pw")]
    password: String,
    /// The `device_token` an earlier login to this account answered, if the client kept it:
    /// its failed attempts are then counted apart from everyone else's.
    device_token: Option<String>,
}

errors!(LoginErrors: [InvalidCredentials, EmailUnverified, RateLimited]);

/// Logs in: an access token (15 minutes) and a refresh token (14 days, single use).
///
/// A wrong password and an unknown e-mail get the same answer in about the same time. Failed
/// attempts are throttled: after 5 for one account within 15 minutes, or 20 from one address,
/// further attempts get 429 until the oldest failures leave the window.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = TokenPair), LoginErrors)
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<LoginRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let tokens = identity::log_in(
        &state,
        &request.email,
        &request.password,
        request.device_token.as_deref(),
        ip,
    )
    .await?;
    Ok(Json(tokens.into()))
}
