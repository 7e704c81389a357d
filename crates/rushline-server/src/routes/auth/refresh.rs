use axum::extract::State;
use rushline_app::AppError;
use rushline_app::identity::secrets::{new_refresh_token, refresh_token_hash};
use rushline_store::RotateOutcome;
use serde::Deserialize;
use utoipa::ToSchema;

use super::TokenPair;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RefreshRequest {
    refresh_token: String,
}

errors!(RefreshErrors: [Unauthorized]);

/// Trades a refresh token for a new pair; the presented token is spent. Presenting a spent token
/// again ends its whole login session: whoever holds any of its tokens must log in again.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), RefreshErrors)
)]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    Json(request): Json<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let now = state.clock.now();
    let next = new_refresh_token();
    let outcome = state
        .store
        .rotate_refresh_token(
            &refresh_token_hash(&request.refresh_token),
            &refresh_token_hash(&next),
            now + state.identity.refresh_ttl,
            now,
        )
        .await?;
    match outcome {
        RotateOutcome::Rotated { user, session } => {
            Ok(Json(TokenPair::new(&state, &user, session, next, now)))
        }
        RotateOutcome::Reused => {
            tracing::warn!("a spent refresh token was presented again; its session is revoked");
            Err(AppError::unauthorized().into())
        }
        RotateOutcome::Unknown | RotateOutcome::Expired | RotateOutcome::Revoked => {
            Err(AppError::unauthorized().into())
        }
    }
}
