use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::notifications::inbox;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::NotificationView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::routes::orders::list::{decode_cursor, next_cursor};
use crate::{ApiError, AppState, Json, Path, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListNotifications {
    /// Only unread ones.
    unread: Option<bool>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NotificationList {
    items: Vec<NotificationView>,
    /// Pass as `cursor` for older ones; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

errors!(ListErrors: [InvalidQuery, InvalidCursor, Unauthorized]);

/// The caller's inbox, newest first. Notifications are kept 90 days
/// (`notifications.keep_days`).
#[utoipa::path(
    get,
    path = "/api/v1/me/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(ListNotifications),
    responses((status = 200, body = NotificationList), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(query): Query<ListNotifications>,
) -> Result<Json<NotificationList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 20)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let items = inbox::page(
        &state,
        caller.id,
        query.unread.unwrap_or(false),
        after,
        limit,
    )
    .await?;
    let next_cursor = next_cursor(&items, limit, |last| (last.created_at, last.id));
    Ok(Json(NotificationList {
        items: items.into_iter().map(NotificationView::from).collect(),
        next_cursor,
    }))
}

errors!(ReadErrors: [InvalidPath, Unauthorized, NotFound]);

/// Marks one of the caller's notifications read; reading it again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/me/notifications/{id}/read",
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "read"), ReadErrors)
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    inbox::read(&state, caller.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Marked {
    /// How many were unread.
    marked: u64,
}

errors!(ReadAllErrors: [Unauthorized]);

/// Marks every notification of the caller read.
#[utoipa::path(
    post,
    path = "/api/v1/me/notifications/read-all",
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = Marked), ReadAllErrors)
)]
pub(crate) async fn read_all(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<Marked>, ApiError> {
    let marked = state
        .store
        .mark_all_read(caller.id, state.clock.now())
        .await?;
    Ok(Json(Marked { marked }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnreadCount {
    unread: u64,
}

errors!(CountErrors: [Unauthorized]);

/// How many of the caller's notifications are unread.
#[utoipa::path(
    get,
    path = "/api/v1/me/notifications/unread-count",
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), CountErrors)
)]
pub(crate) async fn unread_count(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<UnreadCount>, ApiError> {
    let unread = state.store.unread_count(caller.id).await?;
    Ok(Json(UnreadCount { unread }))
}
