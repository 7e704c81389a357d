//! The orders page: a buyer's own orders (a seller's, those with their products; an admin's,
//! every one), newest first, a page at a time, as `GET /api/v1/orders` lists them.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use maud::html;
use rushline_domain::Role;
use rushline_store::OrderFilter;
use serde::Deserialize;

use super::locale::{Msg, Viewer, order_status};
use super::{ForViewer, PageError, page};
use crate::AppState;
use crate::routes::orders::list::{decode_cursor, next_cursor};

/// Orders per page.
const PAGE: u32 = 20;

#[derive(Debug, Deserialize)]
pub(super) struct OrdersQuery {
    cursor: Option<String>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<OrdersQuery>,
) -> Result<Response, PageError> {
    let Some(signed_in) = &viewer.visitor.signed_in else {
        return Ok((StatusCode::SEE_OTHER, [(LOCATION, "/login")]).into_response());
    };
    let before = match query.cursor.as_deref().map(decode_cursor).transpose() {
        Ok(before) => before,
        Err(e) => {
            let error = rushline_app::AppError::new(e.code(), "the cursor is not one we gave out");
            return Err(error).for_viewer(&viewer);
        }
    };
    let user = signed_in.user;
    let mut filter = OrderFilter {
        before,
        limit: PAGE,
        ..OrderFilter::default()
    };
    match user.role {
        Role::Buyer => filter.buyer_id = Some(user.id),
        Role::Seller => filter.seller_id = Some(user.id),
        Role::Admin => {}
    }
    let orders = state.store.list_orders(&filter).await.for_viewer(&viewer)?;
    let next = next_cursor(&orders, PAGE, |last| (last.created_at, last.id));
    let content = html! {
        h1 { (viewer.t(Msg::Orders)) }
        @if orders.is_empty() {
            p.muted { (viewer.t(Msg::NoOrders)) }
        } @else {
            table {
                thead {
                    tr {
                        th scope="col" { (viewer.t(Msg::Placed)) }
                        th scope="col" { (viewer.t(Msg::Status)) }
                        th scope="col" { (viewer.t(Msg::Items)) }
                        th scope="col" { (viewer.t(Msg::Total)) }
                    }
                }
                tbody {
                    @for order in &orders {
                        tr {
                            td { time datetime=(order.created_at.to_rfc3339()) { (viewer.time(order.created_at)) } }
                            td { (order_status(&viewer, order.status)) }
                            td { (order.lines.iter().map(|line| i64::from(line.qty)).sum::<i64>()) }
                            td.price { (viewer.lang.won(order.total)) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next {
            p { a href={ "/orders?cursor=" (next) } rel="next" { (viewer.t(Msg::OlderOrders)) } }
        }
    };
    Ok(page(&viewer, viewer.t(Msg::Orders), content))
}
