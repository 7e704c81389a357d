//! Login sessions: logging in (throttled), the single-use refresh token, logging out, and a
//! password change that ends every other session.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::identity::{normalize_email, validate_password};
use rushline_domain::validation::is_plain_line;
use rushline_store::{DbError, RotateOutcome, User};
use serde_json::json;
use uuid::Uuid;

use super::FieldErrors;
use super::account::own_account;
use super::secrets::{new_refresh_token, refresh_token_hash, sha256_hex};
use super::throttle::PasswordAttempt;
use crate::{App, AppError, ErrorCode};

/// What a login or a refresh hands out.
#[derive(Debug)]
pub struct Tokens {
    /// A JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Single use: a refresh spends it.
    pub refresh_token: String,
    /// Seconds the access token is valid.
    pub expires_in: i64,
    /// From a login only: the client presents it at its next logins, which are then throttled
    /// apart from guesses made elsewhere.
    pub device_token: Option<String>,
}

impl Tokens {
    fn new(
        app: &App,
        user: &User,
        session: Uuid,
        refresh_token: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            access_token: app
                .tokens
                .issue_for_session(user.id, user.role, session, now),
            refresh_token,
            expires_in: app.tokens.ttl.num_seconds(),
            device_token: None,
        }
    }
}

/// Logs in with e-mail and password, from a client that may hold the `device` token of an
/// earlier login. A wrong password and an unknown e-mail get the same answer in about the same
/// time; failures are throttled per account (or device) and per address.
pub async fn log_in(
    app: &App,
    email: &str,
    password: &str,
    device: Option<&str>,
    ip: IpAddr,
) -> Result<Tokens, AppError> {
    let email = normalize_email(email);
    let now = app.clock.now();
    let attempt = PasswordAttempt::begin(app, &email, device, ip, now).await?;
    let checked = check_password(app, &email, password).await;
    if !matches!(checked, Ok(None)) {
        attempt.not_a_failure(app).await?;
    }
    let user = checked?.ok_or_else(|| {
        AppError::new(
            ErrorCode::InvalidCredentials,
            "wrong e-mail address or password",
        )
    })?;
    if user.verified_at.is_none() {
        return Err(AppError::new(
            ErrorCode::EmailUnverified,
            "verify the e-mail address first",
        ));
    }
    let refresh_token = new_refresh_token();
    let session = app
        .store
        .create_session(
            user.id,
            &refresh_token_hash(&refresh_token),
            now + app.identity.refresh_ttl,
            now,
        )
        .await?;
    Ok(Tokens {
        device_token: Some(app.tokens.issue_device(&sha256_hex(&email), now)),
        ..Tokens::new(app, &user, session, refresh_token, now)
    })
}

/// The account, when it exists and `password` is its password. An address with a control
/// character cannot be an account's and is not looked up, but the password is still hashed, so
/// it is answered like any unknown address.
async fn check_password(app: &App, email: &str, password: &str) -> Result<Option<User>, AppError> {
    let found = if is_plain_line(email) {
        app.store.user_by_email(email).await
    } else {
        Err(DbError::NotFound)
    };
    let user = match found {
        Ok(user) => Some(user),
        Err(DbError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let hash = user.as_ref().map(|u| u.password_hash.as_str());
    let matches = app.passwords.verify(password, hash).await?;
    Ok(user.filter(|_| matches))
}

/// Spends a refresh token for a new pair. A spent token presented again revokes its session.
pub async fn refresh(app: &App, refresh_token: &str) -> Result<Tokens, AppError> {
    let now = app.clock.now();
    let next = new_refresh_token();
    let outcome = app
        .store
        .rotate_refresh_token(
            &refresh_token_hash(refresh_token),
            &refresh_token_hash(&next),
            now + app.identity.refresh_ttl,
            now,
        )
        .await?;
    match outcome {
        RotateOutcome::Rotated { user, session } => Ok(Tokens::new(app, &user, session, next, now)),
        RotateOutcome::Reused => {
            tracing::warn!("a spent refresh token was presented again; its session is revoked");
            Err(AppError::unauthorized())
        }
        RotateOutcome::Unknown | RotateOutcome::Expired | RotateOutcome::Revoked => {
            Err(AppError::unauthorized())
        }
    }
}

/// What a browser keeps after logging in, each in an HttpOnly cookie.
#[derive(Debug)]
pub struct BrowserLogin {
    /// Names the login session; signed, not a bearer token (see `AccessTokens::issue_browser`).
    pub session_cookie: String,
    /// The session's refresh token, never rotated by the browser: presented at logout to end it.
    pub refresh_token: String,
    pub device_token: Option<String>,
    /// How long the session lasts, and its cookies with it.
    pub max_age: TimeDelta,
}

/// Logs a browser in: a login like any other, throttled alike, whose session the browser holds
/// in a cookie until it logs out, the session is ended elsewhere (a password change, a logout
/// of the session) or it runs out. Each page asks the store whether it still holds, so the
/// cookie needs no rotation, which two tabs refreshing at once would have turned into a replay.
pub async fn log_in_browser(
    app: &App,
    email: &str,
    password: &str,
    device: Option<&str>,
    ip: IpAddr,
) -> Result<BrowserLogin, AppError> {
    let tokens = log_in(app, email, password, device, ip).await?;
    let now = app.clock.now();
    let (user, session) = app
        .tokens
        .verify(&tokens.access_token, now)
        .and_then(|claims| Some((claims.sub, claims.sid?)))
        .ok_or_else(|| AppError::internal("a login's access token names no session"))?;
    Ok(BrowserLogin {
        session_cookie: app
            .tokens
            .issue_browser(user, session, now + app.identity.refresh_ttl),
        refresh_token: tokens.refresh_token,
        device_token: tokens.device_token,
        max_age: app.identity.refresh_ttl,
    })
}

/// The account behind a browser's session cookie and its session, while the session holds.
pub async fn browser_session(app: &App, cookie: &str) -> Result<Option<(User, Uuid)>, AppError> {
    let now = app.clock.now();
    let Some(claims) = app.tokens.verify_browser(cookie, now) else {
        return Ok(None);
    };
    let holder = app.store.session_holder(claims.sid, now).await?;
    Ok(holder
        .filter(|user| user.id == claims.uid)
        .map(|user| (user, claims.sid)))
}

/// Ends the session of `refresh_token`; an unknown token ends nothing and is no error.
pub async fn log_out(app: &App, refresh_token: &str) -> Result<(), AppError> {
    app.store
        .end_session(&refresh_token_hash(refresh_token), app.clock.now())
        .await?;
    Ok(())
}

/// Changes the password of `user_id` and ends every session but `session` (the caller's, when
/// its token names one). A wrong current
/// password counts as a failed login for the throttle.
pub async fn change_password(
    app: &App,
    user_id: Uuid,
    session: Option<Uuid>,
    current_password: &str,
    new_password: &str,
    ip: IpAddr,
) -> Result<(), AppError> {
    let mut errors = FieldErrors::default();
    errors.check("new_password", validate_password(new_password));
    errors.into_result()?;

    let user = own_account(app, user_id).await?;
    let now = app.clock.now();
    let attempt = PasswordAttempt::begin(app, &user.email, None, ip, now).await?;
    let matches = app
        .passwords
        .verify(current_password, Some(&user.password_hash))
        .await;
    if !matches!(matches, Ok(false)) {
        attempt.not_a_failure(app).await?;
    }
    if !matches? {
        return Err(AppError::validation(
            json!({ "current_password": ["is not your password"] }),
        ));
    }
    let password_hash = app.passwords.hash(new_password).await?;
    app.store
        .change_password(user.id, &password_hash, session, now)
        .await?;
    Ok(())
}
