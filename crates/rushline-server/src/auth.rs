//! Who is calling: the extractors that turn an access token into an [`AuthUser`] or refuse the
//! request.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use rushline_app::AppError;
use rushline_app::identity::AccessClaims;
use rushline_domain::Role;
use uuid::Uuid;

use crate::{ApiError, AppState};

/// The caller, authenticated by a bearer access token. Any role.
pub use rushline_app::AuthUser;

fn bearer_claims(parts: &Parts, state: &AppState) -> Result<AccessClaims, AppError> {
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(AppError::unauthorized)?;
    state
        .tokens
        .verify(token.trim(), state.clock.now())
        .ok_or_else(AppError::unauthorized)
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let claims = bearer_claims(parts, state)?;
        Ok(AuthUser {
            id: claims.sub,
            role: claims.role,
        })
    }
}

/// The caller and the login session its access token belongs to (`None` for a token issued
/// outside a login). Any role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSession {
    pub user: AuthUser,
    pub session: Option<Uuid>,
}

impl FromRequestParts<AppState> for AuthSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let claims = bearer_claims(parts, state)?;
        Ok(AuthSession {
            user: AuthUser {
                id: claims.sub,
                role: claims.role,
            },
            session: claims.sid,
        })
    }
}

/// `Option<AuthUser>`: `None` without an `Authorization` header, so public routes can tell
/// anonymous callers from signed-in ones; a header with a bad token is still a 401.
// Named in full: with the trait in scope, `AuthUser::from_request_parts` would be ambiguous.
impl axum::extract::OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(None);
        }
        <AuthUser as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

macro_rules! role_guard {
    ($(#[$doc:meta])* $name:ident, $role:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub AuthUser);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
                let user = AuthUser::from_request_parts(parts, state).await?;
                if user.role == $role {
                    Ok($name(user))
                } else {
                    Err(AppError::forbidden().into())
                }
            }
        }
    };
}

role_guard!(
    /// The caller is a buyer; anyone else gets 403.
    Buyer,
    Role::Buyer
);
role_guard!(
    /// The caller is a seller; anyone else gets 403.
    Seller,
    Role::Seller
);
role_guard!(
    /// The caller is an admin; anyone else gets 403.
    Admin,
    Role::Admin
);
