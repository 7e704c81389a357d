//! Sign-up, e-mail verification and login sessions.
//!
//! Secrets never reach the store in the clear: verification codes and refresh tokens arrive as
//! hashes, and are looked up by hash. A login is a *session*: the family of refresh tokens that
//! rotation chains from its first token, revoked together.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::{DbError, NewJob, User};

/// The pending e-mail verification code of an account: one per account, replaced by a resend.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationCode {
    pub user_id: Uuid,
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
    /// Wrong codes tried so far.
    pub attempts: i32,
    /// When this code was mailed; a resend must wait from here.
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VerifyOutcome {
    /// The code matched: the account is verified now. The code is kept to answer a retry.
    Verified(User),
    /// The account was verified before with this code (and it is not out of attempts).
    AlreadyVerified(User),
    /// The code did not match, or the account is verified and this is not the code that
    /// verified it; the attempt was counted.
    WrongCode,
    /// The code is past its expiry or out of attempts (or there is none): a resend is needed.
    Expired,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResendOutcome {
    /// The new code replaced the old one and its mail job was enqueued.
    Sent,
    /// The previous code was mailed too recently; nothing changed.
    TooSoon {
        retry_at: DateTime<Utc>,
    },
    AlreadyVerified,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RotateOutcome {
    /// The presented token is spent now and the next one belongs to the same session.
    Rotated {
        user: User,
        session: Uuid,
    },
    /// No such token.
    Unknown,
    Expired,
    /// The session was ended (logout, password change, reuse).
    Revoked,
    /// The token was already spent: someone replayed it, so its whole session is revoked now.
    Reused,
}

#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Creates the account, its verification code and the job mailing the code, in one
    /// transaction: either all three exist or none. Fails with
    /// `Conflict { constraint: USERS_EMAIL_KEY }` when the e-mail is taken.
    async fn sign_up(
        &self,
        user: &User,
        code: &VerificationCode,
        mail: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Checks a code against the account's pending one. A wrong code counts an attempt; once
    /// `max_attempts` wrong codes were tried, or the code expired, even the right code is
    /// [`VerifyOutcome::Expired`]. Concurrent calls count every attempt.
    async fn verify_email(
        &self,
        user_id: Uuid,
        code_hash: &str,
        max_attempts: i32,
        now: DateTime<Utc>,
    ) -> Result<VerifyOutcome, DbError>;

    /// Replaces the account's code with `code` and enqueues `mail`, unless the previous code was
    /// sent less than `resend_after` ago or the account is verified. `NotFound` for no account.
    async fn resend_code(
        &self,
        code: &VerificationCode,
        mail: &NewJob,
        resend_after: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<ResendOutcome, DbError>;

    /// Starts a session (a login) with its first refresh token; returns the session id.
    async fn create_session(
        &self,
        user_id: Uuid,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Uuid, DbError>;

    /// Spends the presented refresh token and adds `next_hash` to its session. A token presented
    /// twice revokes its session. Of concurrent calls with one token, exactly one rotates.
    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        next_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, DbError>;

    /// Revokes the session the token belongs to (logout). Unknown tokens are no error.
    async fn end_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), DbError>;

    /// The account of login session `session` while the session holds a refresh token that is
    /// neither spent, revoked nor expired at `now`: `None` once it was ended (a logout, a
    /// replayed token, a password change) or ran out.
    async fn session_holder(
        &self,
        session: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, DbError>;

    async fn update_profile(
        &self,
        user_id: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<User, DbError>;

    /// Sets a new password hash and, in the same transaction, revokes every session of the
    /// account except `keep_session`.
    async fn change_password(
        &self,
        user_id: Uuid,
        password_hash: &str,
        keep_session: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Deletes refresh tokens and verification codes that expired before `before`. Returns how
    /// many rows went.
    async fn purge_expired_credentials(&self, before: DateTime<Utc>) -> Result<u64, DbError>;

    /// Deletes the accounts signed up before `before` and never verified, with their codes and
    /// sessions. Returns how many went.
    async fn purge_unverified_users(&self, before: DateTime<Utc>) -> Result<u64, DbError>;
}
