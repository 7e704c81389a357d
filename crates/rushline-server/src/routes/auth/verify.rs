use axum::extract::State;
use rushline_app::ErrorCode;
use rushline_app::identity::secrets::code_hash;
use rushline_domain::identity::email_to_look_up;
use rushline_store::{DbError, VerifyOutcome};
use serde::Deserialize;
use utoipa::ToSchema;

use super::Profile;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct VerifyRequest {
    #[schema(example = "minji@example.com")]
    email: String,
    /// The 6-digit code from the sign-up mail.
    #[schema(example = "042917")]
    code: String,
}

errors!(VerifyErrors: [InvalidCode, CodeExpired, ValidationFailed]);

/// Verifies the e-mail address with the mailed code. Verifying an already verified address
/// succeeds again.
#[utoipa::path(
    post,
    path = "/api/v1/auth/verify",
    tag = "auth",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "the account, verified", body = Profile),
        VerifyErrors,
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    Json(request): Json<VerifyRequest>,
) -> Result<Json<Profile>, ApiError> {
    let invalid_code = || ApiError::new(ErrorCode::InvalidCode, "the code is not right");
    let email = email_to_look_up(&request.email)?;
    let user = match state.store.user_by_email(&email).await {
        Ok(user) => user,
        Err(DbError::NotFound) => return Err(invalid_code()),
        Err(e) => return Err(e.into()),
    };
    let outcome = state
        .store
        .verify_email(
            user.id,
            &code_hash(user.id, request.code.trim()),
            state.identity.code_attempts,
            state.clock.now(),
        )
        .await?;
    match outcome {
        VerifyOutcome::Verified(user) | VerifyOutcome::AlreadyVerified(user) => {
            Ok(Json(user.into()))
        }
        VerifyOutcome::WrongCode => Err(invalid_code()),
        VerifyOutcome::Expired => Err(ApiError::new(
            ErrorCode::CodeExpired,
            "the code has expired or was tried too often; request a new one",
        )),
    }
}
