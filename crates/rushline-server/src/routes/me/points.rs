use axum::extract::State;
use chrono::{DateTime, Utc};
use rushline_app::ErrorCode;
use rushline_domain::{PointKind, Won};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListEntries {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Entries per page, 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// The caller's points: the balance, and the ledger it sums, newest entry first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Points {
    /// Points to spend, one won each.
    #[schema(value_type = i64)]
    balance: Won,
    entries: Vec<PointEntryView>,
    /// Pass as `cursor` for older entries; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PointEntryView {
    id: i64,
    kind: PointKind,
    /// Positive for `earn` and `refund`, negative for `spend` and `expire`.
    #[schema(value_type = i64)]
    amount: Won,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<Uuid>,
    at: DateTime<Utc>,
}

errors!(PointsErrors: [InvalidQuery, InvalidCursor, Unauthorized]);

/// The caller's points balance and ledger.
#[utoipa::path(
    get,
    path = "/api/v1/me/points",
    tag = "points",
    security(("bearer" = [])),
    params(ListEntries),
    responses((status = 200, body = Points), PointsErrors)
)]
pub(crate) async fn points(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(query): Query<ListEntries>,
) -> Result<Json<Points>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 20)?;
    let before = query
        .cursor
        .as_deref()
        .map(|cursor| {
            cursor.parse::<i64>().map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidCursor,
                    "this cursor did not come from this list",
                )
            })
        })
        .transpose()?;
    let balance = state.store.points_balance(caller.id).await?;
    let entries = state.store.point_entries(caller.id, before, limit).await?;
    let next_cursor = (entries.len() == limit as usize)
        .then(|| entries.last().map(|last| last.id.to_string()))
        .flatten();
    Ok(Json(Points {
        balance,
        entries: entries
            .into_iter()
            .map(|entry| PointEntryView {
                id: entry.id,
                kind: entry.kind,
                amount: entry.amount,
                order_id: entry.order_id,
                at: entry.created_at,
            })
            .collect(),
        next_cursor,
    }))
}
