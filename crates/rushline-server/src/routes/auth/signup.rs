use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::identity::secrets::{code_hash, new_code};
use rushline_app::identity::{
    FieldErrors, check_new_account, email_taken, new_user, verification_mail,
};
use rushline_app::mail::SendMail;
use rushline_domain::Role;
use rushline_jobs::new_job;
use rushline_store::{USERS_EMAIL_KEY, VerificationCode};
use serde::Deserialize;
use utoipa::ToSchema;

use super::Profile;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct SignupRequest {
    /// Compared case-insensitively; stored trimmed and lowercased.
    #[serde(default)]
    #[schema(example = "minji@example.com")]
    email: String,
    /// 8–64 characters with at least one letter, one digit and one symbol.
    #[serde(default)]
    #[schema(example = "s3cret!pw")]
    password: String,
    /// 1–100 characters.
    #[serde(default)]
    #[schema(example = "Kim Minji")]
    name: String,
    /// `buyer` (the default) or `seller`. Admins are made with `rushline admin create-user`.
    #[schema(example = "buyer")]
    role: Option<String>,
}

errors!(SignupErrors: [EmailTaken, ValidationFailed]);

/// Creates an unverified account and mails it a 6-digit code (valid 5 minutes) to pass to
/// `/auth/verify`. The mail is sent by a job; sign-up does not wait for it.
#[utoipa::path(
    post,
    path = "/api/v1/auth/signup",
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "the account, unverified", body = Profile),
        SignupErrors,
    )
)]
pub(crate) async fn signup(
    State(state): State<AppState>,
    Json(request): Json<SignupRequest>,
) -> Result<(StatusCode, Json<Profile>), ApiError> {
    let mut errors = FieldErrors::default();
    let account = check_new_account(
        &request.email,
        &request.password,
        &request.name,
        &mut errors,
    );
    let role = match request.role.as_deref() {
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

    let password_hash = state.passwords.hash(&request.password).await?;
    let now = state.clock.now();
    let user = new_user(account, role, password_hash, None, now);
    let code = new_code();
    let pending = VerificationCode {
        user_id: user.id,
        code_hash: code_hash(user.id, &code),
        expires_at: now + state.identity.code_ttl,
        attempts: 0,
        sent_at: now,
    };
    let mail = SendMail(verification_mail(
        &user.email,
        &code,
        state.identity.code_ttl,
    ));
    match state
        .store
        .sign_up(&user, &pending, &new_job(&mail, now), now)
        .await
    {
        Ok(()) => Ok((StatusCode::CREATED, Json(user.into()))),
        Err(e) if e.is_conflict_on(USERS_EMAIL_KEY) => Err(email_taken().into()),
        Err(e) => Err(e.into()),
    }
}
