//! An account's own life: sign-up with a mailed code, verifying the address, a new code, and
//! the account as its owner reads it.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use rushline_domain::Role;
use rushline_domain::identity::{email_to_look_up, validate_name};
use rushline_jobs::new_job;
use rushline_store::{
    DbError, ResendOutcome, USERS_EMAIL_KEY, User, VerificationCode, VerifyOutcome,
};
use uuid::Uuid;

use super::secrets::{code_hash, new_code};
use super::throttle::{account_request, whole_seconds};
use super::{FieldErrors, check_new_account, email_taken, new_user, verification_mail};
use crate::mail::SendMail;
use crate::{App, AppError, ErrorCode};

/// Creates an unverified buyer or seller account and enqueues the mail with its code. `role`
/// is `buyer` when absent; admins are never made here. A taken address is refused before the
/// password is hashed, so that a flood of sign-ups for it costs no hashing.
pub async fn sign_up(
    app: &App,
    ip: IpAddr,
    email: &str,
    password: &str,
    name: &str,
    role: Option<&str>,
) -> Result<User, AppError> {
    account_request(app, email, ip).await?;
    let mut errors = FieldErrors::default();
    let account = check_new_account(email, password, name, &mut errors);
    let role = match role {
        None | Some("buyer") => Role::Buyer,
        Some("seller") => Role::Seller,
        Some("admin") => {
            errors.check(
                "role",
                Err(vec!["admins are created with `rushline admin create-user`"]),
            );
            Role::Buyer
        }
        Some(_) => {
            errors.check("role", Err(vec!["must be buyer or seller"]));
            Role::Buyer
        }
    };
    errors.into_result()?;

    match app.store.user_by_email(&account.email).await {
        Ok(_) => return Err(email_taken()),
        Err(DbError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let password_hash = app.passwords.hash(password).await?;
    let now = app.clock.now();
    let user = new_user(account, role, password_hash, None, now);
    let (pending, mail) = new_code_for(app, &user, now);
    match app
        .store
        .sign_up(&user, &pending, &new_job(&mail, now), now)
        .await
    {
        Ok(()) => Ok(user),
        Err(e) if e.is_conflict_on(USERS_EMAIL_KEY) => Err(email_taken()),
        Err(e) => Err(e.into()),
    }
}

/// Verifies `email` with the mailed `code`; the same code again (a retry) succeeds again, any
/// other code is `invalid_code` whether or not the account exists or is verified.
pub async fn verify_email(
    app: &App,
    ip: IpAddr,
    email: &str,
    code: &str,
) -> Result<User, AppError> {
    account_request(app, email, ip).await?;
    let invalid_code = || AppError::new(ErrorCode::InvalidCode, "the code is not right");
    let email = email_to_look_up(email)?;
    let user = match app.store.user_by_email(&email).await {
        Ok(user) => user,
        Err(DbError::NotFound) => return Err(invalid_code()),
        Err(e) => return Err(e.into()),
    };
    let outcome = app
        .store
        .verify_email(
            user.id,
            &code_hash(user.id, code.trim()),
            app.identity.code_attempts,
            app.clock.now(),
        )
        .await?;
    match outcome {
        VerifyOutcome::Verified(user) | VerifyOutcome::AlreadyVerified(user) => Ok(user),
        VerifyOutcome::WrongCode => Err(invalid_code()),
        VerifyOutcome::Expired => Err(AppError::new(
            ErrorCode::CodeExpired,
            "the code has expired or was tried too often; request a new one",
        )),
    }
}

/// Mails a new code, replacing the previous one, at most once per `resend_after`. An unknown or
/// verified address is accepted too, and gets no mail, so that the answer tells nothing.
pub async fn resend_code(app: &App, ip: IpAddr, email: &str) -> Result<(), AppError> {
    account_request(app, email, ip).await?;
    let email = email_to_look_up(email)?;
    let user = match app.store.user_by_email(&email).await {
        Ok(user) if user.verified_at.is_none() => user,
        Ok(_) | Err(DbError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let now = app.clock.now();
    let (pending, mail) = new_code_for(app, &user, now);
    let outcome = app
        .store
        .resend_code(
            &pending,
            &new_job(&mail, now),
            app.identity.resend_after,
            now,
        )
        .await;
    match outcome {
        Ok(ResendOutcome::TooSoon { retry_at }) => {
            Err(AppError::too_many_requests(whole_seconds(retry_at - now)))
        }
        Ok(ResendOutcome::Sent | ResendOutcome::AlreadyVerified) | Err(DbError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The caller's account. A valid token for an account that no longer exists is no credential.
pub async fn own_account(app: &App, id: Uuid) -> Result<User, AppError> {
    match app.store.user_by_id(id).await {
        Ok(user) => Ok(user),
        Err(DbError::NotFound) => Err(AppError::unauthorized()),
        Err(e) => Err(e.into()),
    }
}

/// Renames the account `id`.
pub async fn rename(app: &App, id: Uuid, name: &str) -> Result<User, AppError> {
    let name = name.trim();
    let mut errors = FieldErrors::default();
    errors.check("name", validate_name(name));
    errors.into_result()?;
    match app.store.update_profile(id, name, app.clock.now()).await {
        Ok(user) => Ok(user),
        Err(DbError::NotFound) => Err(AppError::unauthorized()),
        Err(e) => Err(e.into()),
    }
}

/// A fresh code for `user`, as stored (hashed) and as mailed.
fn new_code_for(app: &App, user: &User, now: DateTime<Utc>) -> (VerificationCode, SendMail) {
    let code = new_code();
    let pending = VerificationCode {
        user_id: user.id,
        code_hash: code_hash(user.id, &code),
        expires_at: now + app.identity.code_ttl,
        attempts: 0,
        sent_at: now,
    };
    let mail = SendMail(verification_mail(&user.email, &code, app.identity.code_ttl));
    (pending, mail)
}
