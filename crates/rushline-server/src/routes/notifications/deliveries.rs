use axum::extract::State;
use chrono::{DateTime, Utc};
use rushline_domain::notification::{Channel, Event};
use rushline_store::{Delivery, DeliveryStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Admin;
use crate::openapi::errors;
use crate::routes::orders::list::{decode_cursor, next_cursor};
use crate::{ApiError, AppState, Json, Query};

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Pending,
    Sent,
    Failed,
}

impl From<Status> for DeliveryStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Pending => DeliveryStatus::Pending,
            Status::Sent => DeliveryStatus::Sent,
            Status::Failed => DeliveryStatus::Failed,
        }
    }
}

impl From<DeliveryStatus> for Status {
    fn from(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Pending => Status::Pending,
            DeliveryStatus::Sent => Status::Sent,
            DeliveryStatus::Failed => Status::Failed,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListDeliveries {
    /// Only deliveries in this status.
    status: Option<Status>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// One message of a notification on one channel.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    /// The message id, the same on every attempt (the e-mail's `Message-ID`).
    id: Uuid,
    notification_id: Uuid,
    recipient_id: Uuid,
    event: Event,
    channel: Channel,
    status: Status,
    /// Attempts made, at most 3.
    attempts: i32,
    /// The latest failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryView {
    fn from(delivery: Delivery) -> Self {
        Self {
            id: delivery.id,
            notification_id: delivery.notification_id,
            recipient_id: delivery.user_id,
            event: delivery.event,
            channel: delivery.channel,
            status: delivery.status.into(),
            attempts: delivery.attempts,
            last_error: delivery.last_error,
            created_at: delivery.created_at,
            updated_at: delivery.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryList {
    items: Vec<DeliveryView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

errors!(ListErrors: [InvalidQuery, InvalidCursor, Unauthorized, Forbidden]);

/// Deliveries of notifications by e-mail and Slack, last changed first: `status=failed` shows
/// what never arrived and why. Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/admin/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(ListDeliveries),
    responses((status = 200, body = DeliveryList), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    Query(query): Query<ListDeliveries>,
) -> Result<Json<DeliveryList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 50)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let deliveries = state
        .store
        .deliveries(query.status.map(DeliveryStatus::from), after, limit)
        .await?;
    let next_cursor = next_cursor(&deliveries, limit, |last| (last.updated_at, last.id));
    Ok(Json(DeliveryList {
        items: deliveries.into_iter().map(DeliveryView::from).collect(),
        next_cursor,
    }))
}
