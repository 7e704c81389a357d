//! `/api/v1/orders`: orders and their lifecycle — listing, cancel, return, pay.

mod cancel;
mod get;
pub(crate) mod list;
mod pay;
mod return_;

use chrono::{DateTime, Utc};
use rushline_domain::{OrderStatus, PaymentStatus, Won};
use rushline_store::{Order, Payment};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list))
        .routes(routes!(get::get))
        .routes(routes!(cancel::cancel))
        .routes(routes!(return_::request_return))
        .routes(routes!(pay::pay))
}

/// An order as its buyer, its sellers and admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderView {
    id: Uuid,
    buyer_id: Uuid,
    status: OrderStatus,
    /// The lines' sum, KRW.
    #[schema(value_type = i64)]
    subtotal: Won,
    /// Won the coupon took off.
    #[schema(value_type = i64)]
    discount: Won,
    /// Points spent.
    #[schema(value_type = i64)]
    points_spent: Won,
    /// The coupon redeemed; it goes back to the wallet if the order is cancelled, expires or is
    /// returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_id: Option<Uuid>,
    /// What payment charges: `subtotal − discount − points_spent`, KRW.
    #[schema(value_type = i64)]
    total: Won,
    hold_expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_note: Option<String>,
    lines: Vec<OrderLineView>,
    /// Every status the order took, with when and why; on single orders only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    history: Vec<OrderEventView>,
    /// Its payments, oldest first; on single orders only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    payments: Vec<PaymentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentView {
    id: Uuid,
    /// `sandbox` or `toss`.
    provider: String,
    #[schema(value_type = i64)]
    amount: Won,
    status: PaymentStatus,
}

impl From<Payment> for PaymentView {
    fn from(payment: Payment) -> Self {
        Self {
            id: payment.id,
            provider: payment.provider,
            amount: payment.amount,
            status: payment.status,
        }
    }
}

impl OrderView {
    pub(crate) fn with_payments(mut self, payments: Vec<Payment>) -> Self {
        self.payments = payments.into_iter().map(PaymentView::from).collect();
        self
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderLineView {
    product_id: Uuid,
    seller_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    drop_id: Option<Uuid>,
    quantity: i32,
    #[schema(value_type = i64)]
    unit_price: Won,
    /// The line's place in its pool's order of grants.
    seq: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderEventView {
    status: OrderStatus,
    at: DateTime<Utc>,
    /// `purchase`, `checkout`, `payment`, `buyer`, `hold_expired`, `shipped`, `delivered`,
    /// `return_window_closed`, `return_processed`.
    cause: String,
}

impl From<Order> for OrderView {
    #[expect(
        clippy::expect_used,
        reason = "an accepted order's subtotal was summed with checks when it was placed"
    )]
    fn from(order: Order) -> Self {
        Self {
            id: order.id,
            buyer_id: order.buyer_id,
            status: order.status,
            subtotal: Won::checked_sum([
                order.total,
                order.redemption.discount,
                order.redemption.points,
            ])
            .expect("the lines' sum, checked when the order was placed"),
            discount: order.redemption.discount,
            points_spent: order.redemption.points,
            coupon_id: order.redemption.coupon_id,
            total: order.total,
            hold_expires_at: order.hold_expires_at,
            created_at: order.created_at,
            updated_at: order.updated_at,
            return_reason: order.return_reason,
            return_note: order.return_note,
            lines: order
                .lines
                .into_iter()
                .map(|line| OrderLineView {
                    product_id: line.product_id,
                    seller_id: line.seller_id,
                    drop_id: line.drop_id,
                    quantity: line.qty,
                    unit_price: line.unit_price,
                    seq: line.seq,
                })
                .collect(),
            history: order
                .history
                .into_iter()
                .map(|event| OrderEventView {
                    status: event.status,
                    at: event.at,
                    cause: event.cause,
                })
                .collect(),
            payments: Vec::new(),
        }
    }
}
