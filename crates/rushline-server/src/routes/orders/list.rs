use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rushline_app::ErrorCode;
use rushline_domain::{OrderStatus, Role};
use rushline_store::OrderFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::OrderView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListOrders {
    /// Orders with a line of this drop.
    drop_id: Option<Uuid>,
    status: Option<OrderStatus>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderList {
    items: Vec<OrderView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

errors!(ListErrors: [InvalidQuery, InvalidCursor, Unauthorized]);

/// Orders, newest first: a buyer's own; for a seller, the orders with a line of their products;
/// for an admin, all.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    tag = "orders",
    security(("bearer" = [])),
    params(ListOrders),
    responses((status = 200, body = OrderList), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<ListOrders>,
) -> Result<Json<OrderList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 20)?;
    let before = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let mut filter = OrderFilter {
        drop_id: query.drop_id,
        status: query.status,
        before,
        limit,
        ..OrderFilter::default()
    };
    match user.role {
        Role::Buyer => filter.buyer_id = Some(user.id),
        Role::Seller => filter.seller_id = Some(user.id),
        Role::Admin => {}
    }
    let orders = state.store.list_orders(&filter).await?;
    let next_cursor = next_cursor(&orders, limit, |last| (last.created_at, last.id));
    Ok(Json(OrderList {
        items: orders.into_iter().map(OrderView::from).collect(),
        next_cursor,
    }))
}

/// The cursor of the page after `page`, read with `limit`: none when the page is not full (the
/// last one); else the `(time, id)` key of its last item.
pub(crate) fn next_cursor<T>(
    page: &[T],
    limit: u32,
    key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
) -> Option<String> {
    let last = page.last().filter(|_| page.len() == limit as usize)?;
    let (at, id) = key(last);
    Some(encode_cursor(at, id))
}

pub(crate) fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", created_at.to_rfc3339()))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    parse_time_id(&cursor_text(cursor)?)
}

/// The text a cursor encodes.
pub(crate) fn cursor_text(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid_cursor)
}

/// The `time|id` key at the end of a cursor's text.
pub(crate) fn parse_time_id(text: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let (at, id) = text.split_once('|').ok_or_else(invalid_cursor)?;
    Ok((
        DateTime::parse_from_rfc3339(at)
            .map_err(|_| invalid_cursor())?
            .to_utc(),
        id.parse().map_err(|_| invalid_cursor())?,
    ))
}

pub(crate) fn invalid_cursor() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCursor,
        "this cursor did not come from this list",
    )
}
