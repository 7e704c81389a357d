use axum::extract::State;
use rushline_app::identity;
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
    let tokens = identity::refresh(&state, &request.refresh_token).await?;
    Ok(Json(tokens.into()))
}
