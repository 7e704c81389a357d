//! Identity: what sign-up, login, sessions and the admin command share — password hashing,
//! codes and refresh tokens, access tokens, the login throttle, bulk import, and the rules as
//! configured.

mod account;
mod import;
mod passwords;
pub mod secrets;
mod session;
pub mod throttle;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::Role;
use rushline_domain::identity::{
    normalize_email, validate_email, validate_name, validate_password,
};
use rushline_jobs::Registry;
use rushline_mail::Mail;
use rushline_ratelimit::Limit;
use rushline_store::{USERS_EMAIL_KEY, User};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use account::{own_account, rename, resend_code, sign_up, verify_email};
pub use import::{ImportRecord, Importer, LineResult, Outcome};
pub use passwords::Passwords;
pub use session::{
    BrowserLogin, Tokens, browser_session, change_password, log_in, log_in_browser, log_out,
    refresh,
};
pub use tokens::{AccessClaims, AccessTokens};

use crate::{App, AppError, ErrorCode};

/// The rules of identity as configured (DESIGN §4 gives the defaults).
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    pub refresh_ttl: TimeDelta,
    pub code_ttl: TimeDelta,
    /// Wrong codes allowed before a code dies.
    pub code_attempts: i32,
    /// How long after mailing a code another may be requested.
    pub resend_after: TimeDelta,
    /// Failed logins per account from one client address: a guesser at one address is stopped
    /// there, and the owner elsewhere is not.
    pub account_login_failures: Limit,
    /// Failed logins per account from all addresses together: guessing spread over many
    /// addresses is slowed to this many per window.
    pub account_login_failures_everywhere: Limit,
    pub ip_login_failures: Limit,
    /// Sign-ups, verifications and code requests per client address, and per e-mail address.
    pub ip_account_requests: Limit,
    pub email_account_requests: Limit,
    /// How long an account may stay unverified before it is deleted (and its address free).
    pub unverified_ttl: TimeDelta,
}

/// Per-field messages, answered as one `validation_failed`.
#[derive(Debug, Default)]
pub struct FieldErrors(Map<String, Value>);

impl FieldErrors {
    pub fn check(&mut self, field: &str, outcome: Result<(), Vec<&'static str>>) {
        if let Err(messages) = outcome {
            self.0.insert(field.to_owned(), messages.into());
        }
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(Value::Object(self.0)))
        }
    }
}

/// The fields of a new account, normalized and checked.
pub struct NewAccount {
    pub email: String,
    pub name: String,
}

pub fn check_new_account(
    email: &str,
    password: &str,
    name: &str,
    errors: &mut FieldErrors,
) -> NewAccount {
    let account = NewAccount {
        email: normalize_email(email),
        name: name.trim().to_owned(),
    };
    errors.check("email", validate_email(&account.email));
    errors.check("password", validate_password(password));
    errors.check("name", validate_name(&account.name));
    account
}

pub fn email_taken() -> AppError {
    AppError::new(
        ErrorCode::EmailTaken,
        "an account with this e-mail address exists",
    )
}

/// The message that carries a verification code.
pub fn verification_mail(to: &str, code: &str, valid_for: TimeDelta) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("Your rushline code: {code}"),
        text: format!(
            "Your rushline verification code is {code}.\n\n\
             It is valid for {} minutes. If you did not sign up, ignore this message.\n",
            valid_for.num_minutes()
        ),
        message_id: None,
    }
}

/// Why `rushline admin create-user` refused.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// `field: message; …`
    #[error("invalid {0}")]
    Invalid(String),
    #[error("an account with e-mail {0} exists")]
    EmailTaken(String),
    #[error("{0}")]
    Failed(String),
}

/// Creates an account of any role, admins included, verified at once: the way operators make
/// accounts, from the command line, with no mail round trip.
pub async fn create_verified_user(
    app: &App,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
) -> Result<User, CreateUserError> {
    let mut errors = FieldErrors::default();
    let account = check_new_account(email, password, name, &mut errors);
    if !errors.0.is_empty() {
        let described = errors
            .0
            .iter()
            .map(|(field, messages)| format!("{field}: {}", join_messages(messages)))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(CreateUserError::Invalid(described));
    }
    let password_hash = app
        .passwords
        .hash(password)
        .await
        .map_err(|e| CreateUserError::Failed(format!("hashing failed: {}", e.code())))?;
    let now = app.clock.now();
    let user = new_user(account, role, password_hash, Some(now), now);
    match app.store.insert_user(&user).await {
        Ok(()) => Ok(user),
        Err(e) if e.is_conflict_on(USERS_EMAIL_KEY) => Err(CreateUserError::EmailTaken(user.email)),
        Err(e) => Err(CreateUserError::Failed(e.to_string())),
    }
}

pub fn new_user(
    account: NewAccount,
    role: Role,
    password_hash: String,
    verified_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> User {
    User {
        id: Uuid::now_v7(),
        email: account.email,
        name: account.name,
        role,
        password_hash,
        verified_at,
        created_at: now,
        updated_at: now,
    }
}

fn join_messages(messages: &Value) -> String {
    messages
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Expired refresh tokens and codes serve no purpose (a spent token is only kept to recognise
/// its replay while it could still be valid); they are deleted hourly.
pub(crate) fn register_jobs(registry: &mut Registry, app: &Arc<App>) {
    let app = app.clone();
    registry.every(
        "purge_expired_credentials",
        Duration::from_secs(3600),
        move |due| {
            let app = app.clone();
            async move {
                let purged = app.store.purge_expired_credentials(due).await?;
                tracing::info!(purged, "purged expired refresh tokens and codes");
                let before = due - app.identity.unverified_ttl;
                let purged = app.store.purge_unverified_users(before).await?;
                tracing::info!(purged, "purged accounts left unverified");
                Ok(())
            }
        },
    );
}
