use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::AppError;
use rushline_app::identity::secrets::{code_hash, new_code};
use rushline_app::identity::throttle::whole_seconds;
use rushline_app::identity::verification_mail;
use rushline_app::mail::SendMail;
use rushline_domain::identity::email_to_look_up;
use rushline_jobs::new_job;
use rushline_store::{DbError, ResendOutcome, VerificationCode};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::openapi::errors;
use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ResendRequest {
    #[schema(example = "minji@example.com")]
    email: String,
}

errors!(ResendErrors: [RateLimited, ValidationFailed]);

/// Mails a new code, replacing the previous one, at most once a minute. An unknown or already
/// verified address is accepted too, and gets no mail.
#[utoipa::path(
    post,
    path = "/api/v1/auth/resend",
    tag = "auth",
    request_body = ResendRequest,
    responses(
        (status = 202, description = "a new code is on its way (if the account needs one)"),
        ResendErrors,
    )
)]
pub(crate) async fn resend(
    State(state): State<AppState>,
    Json(request): Json<ResendRequest>,
) -> Result<StatusCode, ApiError> {
    let email = email_to_look_up(&request.email)?;
    let user = match state.store.user_by_email(&email).await {
        Ok(user) if user.verified_at.is_none() => user,
        Ok(_) | Err(DbError::NotFound) => return Ok(StatusCode::ACCEPTED),
        Err(e) => return Err(e.into()),
    };
    let now = state.clock.now();
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
    let outcome = state
        .store
        .resend_code(
            &pending,
            &new_job(&mail, now),
            state.identity.resend_after,
            now,
        )
        .await;
    match outcome {
        Ok(ResendOutcome::TooSoon { retry_at }) => {
            Err(AppError::too_many_requests(whole_seconds(retry_at - now)).into())
        }
        Ok(ResendOutcome::Sent | ResendOutcome::AlreadyVerified) | Err(DbError::NotFound) => {
            Ok(StatusCode::ACCEPTED)
        }
        Err(e) => Err(e.into()),
    }
}
