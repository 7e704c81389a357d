use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::notifications::inbox;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Seller;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlackWebhook {
    /// A Slack incoming webhook: `https://hooks.slack.com/services/…`, at most 500 characters.
    #[schema(example = "https://hooks.slack.com/services/T000/B000/XXXX")]
    webhook_url: String,
}

errors!(SetErrors: [Unauthorized, Forbidden, ValidationFailed, InvalidBody, MalformedJson]);

/// Sends the caller's seller notifications (sold out, closed, trial full, settlement ready…) to
/// a Slack channel too, through an incoming webhook. Replaces any earlier one.
#[utoipa::path(
    put,
    path = "/api/v1/seller/slack",
    tag = "notifications",
    security(("bearer" = [])),
    request_body = SlackWebhook,
    responses((status = 204, description = "set"), SetErrors)
)]
pub(crate) async fn set(
    State(state): State<AppState>,
    Seller(seller): Seller,
    Json(request): Json<SlackWebhook>,
) -> Result<StatusCode, ApiError> {
    inbox::set_slack_webhook(&state, seller, &request.webhook_url).await?;
    Ok(StatusCode::NO_CONTENT)
}

errors!(RemoveErrors: [Unauthorized, Forbidden]);

/// Stops sending to Slack; nothing when no webhook is set.
#[utoipa::path(
    delete,
    path = "/api/v1/seller/slack",
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 204, description = "removed"), RemoveErrors)
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Seller(seller): Seller,
) -> Result<StatusCode, ApiError> {
    inbox::remove_slack_webhook(&state, seller).await?;
    Ok(StatusCode::NO_CONTENT)
}
