//! `/api/v1/auth`: sign-up, e-mail verification, login and the refresh-token session.

mod login;
mod logout;
mod refresh;
mod resend;
mod signup;
mod verify;

use chrono::{DateTime, Utc};
use rushline_app::identity::Tokens;
use rushline_store::User;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup::signup))
        .routes(routes!(verify::verify))
        .routes(routes!(resend::resend))
        .routes(routes!(login::login))
        .routes(routes!(refresh::refresh))
        .routes(routes!(logout::logout))
}

/// An account as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Profile {
    id: Uuid,
    /// Lowercased.
    #[schema(example = "minji@example.com")]
    email: String,
    #[schema(example = "Kim Minji")]
    name: String,
    /// `buyer`, `seller` or `admin`.
    #[schema(value_type = String, example = "buyer")]
    role: rushline_domain::Role,
    /// Login is refused until the e-mail address is verified.
    verified: bool,
    created_at: DateTime<Utc>,
}

impl From<User> for Profile {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            verified: user.verified_at.is_some(),
            created_at: user.created_at,
        }
    }
}

/// What a login or a refresh hands out.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenPair {
    /// A JWT for `Authorization: Bearer …`.
    access_token: String,
    /// Single use: `/auth/refresh` spends it and answers with a new pair.
    refresh_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds the access token is valid.
    #[schema(example = 900)]
    expires_in: i64,
    /// From a login only: keep it and send it with this account's next logins (90 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    device_token: Option<String>,
}

impl From<Tokens> for TokenPair {
    fn from(tokens: Tokens) -> Self {
        Self {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: "Bearer",
            expires_in: tokens.expires_in,
            device_token: tokens.device_token,
        }
    }
}
