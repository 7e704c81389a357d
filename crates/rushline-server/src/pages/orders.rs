//! The orders page: a buyer's own orders (a seller's, those with their products; an admin's,
//! every one), newest first, a page at a time, as `GET /api/v1/orders` lists them; a buyer pays
//! an order awaiting payment with a sandbox card, or cancels one not shipped yet.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use maud::html;
use rushline_app::AppError;
use rushline_app::payments::{self, PayMethod};
use rushline_domain::{OrderStatus, Role};
use rushline_store::OrderFilter;
use serde::Deserialize;
use uuid::Uuid;

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
    render(
        &state,
        &viewer,
        query.cursor.as_deref(),
        &[],
        StatusCode::OK,
    )
    .await
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    cursor: Option<&str>,
    problems: &[String],
    status: StatusCode,
) -> Result<Response, PageError> {
    let Some(signed_in) = &viewer.visitor.signed_in else {
        return Ok(to("/login"));
    };
    let before = match cursor.map(decode_cursor).transpose() {
        Ok(before) => before,
        Err(e) => {
            let error = rushline_app::AppError::new(e.code(), "the cursor is not one we gave out");
            return Err(error).for_viewer(viewer);
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
    let orders = state.store.list_orders(&filter).await.for_viewer(viewer)?;
    let now = state.clock.now();
    let buyer = user.role == Role::Buyer;
    let next = next_cursor(&orders, PAGE, |last| (last.created_at, last.id));
    let content = html! {
        h1 { (viewer.t(Msg::Orders)) }
        @if !problems.is_empty() {
            ul.problem role="alert" { @for problem in problems { li { (problem) } } }
        }
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
                        @if buyer { th scope="col" { (viewer.t(Msg::Actions)) } }
                    }
                }
                tbody {
                    @for order in &orders {
                        tr {
                            td { time datetime=(order.created_at.to_rfc3339()) { (viewer.time(order.created_at)) } }
                            td { (order_status(viewer, order.status)) }
                            td { (order.lines.iter().map(|line| i64::from(line.qty)).sum::<i64>()) }
                            td.price { (viewer.lang.won(order.total)) }
                            @if buyer {
                                td {
                                    @if order.status == OrderStatus::PendingPayment && order.hold_expires_at > now {
                                        form.inline method="post" action={ "/orders/" (order.id) "/pay" } {
                                            input type="hidden" name="csrf" value=(viewer.visitor.form_token);
                                            input type="hidden" name="key" value=(Uuid::new_v4());
                                            label { (viewer.t(Msg::CardNumber)) " " input type="text" name="card_number" inputmode="numeric" autocomplete="off" required pattern="[0-9 ]{12,23}"; }
                                            button type="submit" { (viewer.t(Msg::Pay)) }
                                        }
                                        " " small.muted { (viewer.t(Msg::PayBy)) " " (viewer.time(order.hold_expires_at)) }
                                    }
                                    @if order.status.can_become(OrderStatus::Cancelled) {
                                        form.inline method="post" action={ "/orders/" (order.id) "/cancel" } {
                                            input type="hidden" name="csrf" value=(viewer.visitor.form_token);
                                            button.secondary type="submit" { (viewer.t(Msg::CancelOrder)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next {
            p { a href={ "/orders?cursor=" (next) } rel="next" { (viewer.t(Msg::OlderOrders)) } }
        }
    };
    let mut response = page(viewer, viewer.t(Msg::Orders), content);
    *response.status_mut() = status;
    Ok(response)
}

fn to(path: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, path)]).into_response()
}

/// The signed-in buyer who posted a form with its CSRF token.
fn posting_buyer(state: &AppState, viewer: &Viewer, csrf: &str) -> Result<Uuid, PageError> {
    match &viewer.visitor.signed_in {
        Some(signed_in)
            if signed_in.user.role == Role::Buyer && viewer.visitor.posted(state, csrf) =>
        {
            Ok(signed_in.user.id)
        }
        _ => Err(AppError::forbidden()).for_viewer(viewer),
    }
}

/// The orders page again with why an action was refused, or the error page for a failure.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    error: AppError,
) -> Result<Response, PageError> {
    let status = crate::error::status_of(error.code());
    if !status.is_client_error() {
        return Err(error).for_viewer(viewer);
    }
    render(state, viewer, None, &[error.message().to_owned()], status).await
}

#[derive(Debug, Deserialize)]
pub(super) struct PayForm {
    #[serde(default)]
    csrf: String,
    /// The payment's idempotency key, made with the form: a form sent twice charges once.
    #[serde(default)]
    key: String,
    #[serde(default)]
    card_number: String,
}

pub(super) async fn pay(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    Form(form): Form<PayForm>,
) -> Result<Response, PageError> {
    let buyer = posting_buyer(&state, &viewer, &form.csrf)?;
    let card_number: String = form
        .card_number
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let method = PayMethod::Card { card_number };
    match payments::pay(&state, buyer, id, &form.key, method).await {
        Ok(_) => Ok(to("/orders")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CancelForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    Form(form): Form<CancelForm>,
) -> Result<Response, PageError> {
    let buyer = posting_buyer(&state, &viewer, &form.csrf)?;
    match rushline_app::orders::cancel(&state, buyer, id).await {
        Ok(_) => Ok(to("/orders")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}
