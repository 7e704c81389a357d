use axum::extract::State;
use rushline_app::ErrorCode;
use rushline_app::identity::throttle::PasswordAttempt;
use rushline_domain::identity::normalize_email;
use rushline_domain::validation::is_plain_line;
use rushline_store::{DbError, User};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{TokenPair, start_session};
use crate::openapi::errors;
use crate::{ApiError, AppState, ClientIp, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct LoginRequest {
    #[schema(example = "minji@example.com")]
    email: String,
    #[schema(example = "s3cret!pw")]
    password: String,
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
    let email = normalize_email(&request.email);
    let now = state.clock.now();
    let attempt = PasswordAttempt::begin(&state, &email, ip, now).await?;
    let checked = check_password(&state, &email, &request.password).await;
    if !matches!(checked, Ok(None)) {
        attempt.not_a_failure(&state).await?;
    }
    let user = checked?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidCredentials,
            "wrong e-mail address or password",
        )
    })?;
    if user.verified_at.is_none() {
        return Err(ApiError::new(
            ErrorCode::EmailUnverified,
            "verify the e-mail address first",
        ));
    }
    Ok(Json(start_session(&state, &user, now).await?))
}

/// The account, when it exists and `password` is its password. An address with a control
/// character cannot be an account's and is not looked up, but the password is still hashed, so
/// it is answered like any unknown address.
async fn check_password(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<Option<User>, ApiError> {
    let found = if is_plain_line(email) {
        state.store.user_by_email(email).await
    } else {
        Err(DbError::NotFound)
    };
    let user = match found {
        Ok(user) => Some(user),
        Err(DbError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let hash = user.as_ref().map(|u| u.password_hash.as_str());
    let matches = state.passwords.verify(password, hash).await?;
    Ok(user.filter(|_| matches))
}
