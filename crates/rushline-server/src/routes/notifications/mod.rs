//! Notifications: the caller's inbox and its live stream, which groups reach them on which
//! channel, a seller's Slack webhook, and the deliveries an admin looks into.

mod deliveries;
mod events;
mod inbox;
mod settings;
mod slack;

use chrono::{DateTime, Utc};
use rushline_app::notifications::inbox::Item;
use rushline_domain::notification::{Event, Group};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inbox::list))
        .routes(routes!(inbox::read))
        .routes(routes!(inbox::read_all))
        .routes(routes!(inbox::unread_count))
        .routes(routes!(events::events))
        .routes(routes!(settings::show, settings::update))
        .routes(routes!(slack::set, slack::remove))
        .routes(routes!(deliveries::list))
}

/// A notification as its recipient reads it, in their locale.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct NotificationView {
    id: Uuid,
    event: Event,
    group: Group,
    /// What it is about: an order's, a drop's, a trial application's… id.
    subject: String,
    title: String,
    body: String,
    created_at: DateTime<Utc>,
    /// Absent while unread.
    #[serde(skip_serializing_if = "Option::is_none")]
    read_at: Option<DateTime<Utc>>,
}

impl From<Item> for NotificationView {
    fn from(item: Item) -> Self {
        Self {
            id: item.id,
            event: item.event,
            group: item.group,
            subject: item.subject,
            title: item.title,
            body: item.body,
            created_at: item.created_at,
            read_at: item.read_at,
        }
    }
}
