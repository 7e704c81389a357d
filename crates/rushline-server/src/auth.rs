//! Who is calling: access tokens (JWT, verified without a database read) and the extractors that
//! turn them into an [`AuthUser`] or refuse the request.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rushline_domain::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ApiError, AppState};

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    /// The login session (refresh-token family) the token was issued for; absent on tokens
    /// issued outside a login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// Signs and checks access tokens (HS256) with the configured secret.
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl: TimeDelta,
}

impl AccessTokens {
    pub fn new(secret: &[u8], ttl: TimeDelta) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the application clock, which tests move.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// A token for `user`, valid from `now` for `ttl`.
    pub fn issue(&self, user: Uuid, role: Role, now: DateTime<Utc>) -> String {
        self.sign(user, role, None, now)
    }

    /// A token for `user` within the login `session`, so that a password change made with it
    /// can keep that session and end the others.
    pub fn issue_for_session(
        &self,
        user: Uuid,
        role: Role,
        session: Uuid,
        now: DateTime<Utc>,
    ) -> String {
        self.sign(user, role, Some(session), now)
    }

    fn sign(&self, user: Uuid, role: Role, sid: Option<Uuid>, now: DateTime<Utc>) -> String {
        let claims = Claims {
            sub: user,
            role,
            exp: (now + self.ttl).timestamp(),
            iat: now.timestamp(),
            jti: Uuid::new_v4(),
            sid,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// The claims of a well-signed token that has not expired at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<Claims> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.exp > now.timestamp()).then_some(claims)
    }
}

/// The caller, authenticated by a bearer access token. Any role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: Role,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

fn bearer_claims(parts: &Parts, state: &AppState) -> Result<Claims, ApiError> {
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(ApiError::unauthorized)?;
    state
        .tokens
        .verify(token.trim(), state.clock.now())
        .ok_or_else(ApiError::unauthorized)
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
                    Err(ApiError::forbidden())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_not_with_another_secret() {
        let tokens = AccessTokens::new(b"0123456789abcdef0123456789abcdef", TimeDelta::minutes(15));
        let now = Utc::now();
        let user = Uuid::now_v7();
        let token = tokens.issue(user, Role::Seller, now);
        let claims = tokens.verify(&token, now + TimeDelta::minutes(14)).unwrap();
        assert_eq!((claims.sub, claims.role), (user, Role::Seller));
        assert_eq!(claims.exp - claims.iat, 15 * 60);
        assert!(
            tokens
                .verify(&token, now + TimeDelta::minutes(15))
                .is_none()
        );

        let other = AccessTokens::new(b"another secret of enough length!", TimeDelta::minutes(15));
        assert!(other.verify(&token, now).is_none());
        assert!(tokens.verify("not.a.token", now).is_none());
        assert_eq!(claims.sid, None);

        let session = Uuid::now_v7();
        let token = tokens.issue_for_session(user, Role::Buyer, session, now);
        assert_eq!(tokens.verify(&token, now).unwrap().sid, Some(session));
    }
}
