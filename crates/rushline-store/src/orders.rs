//! Orders and their lines, each line backed by a claim on a pool.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::{OrderStatus, Won};
use uuid::Uuid;

use crate::DbError;
use crate::claims::ClaimRow;
use crate::jobs::NewJob;

/// An order as the group-commit writer creates it: `pending_payment`, holding its claims.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub id: Uuid,
    pub buyer_id: Uuid,
    /// The client's `Idempotency-Key`; unique per buyer.
    pub idempotency_key: String,
    /// What the buyer pays: the lines' sum less the redemption's discount and points.
    pub total: Won,
    pub hold_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// What created it, recorded as the cause of its first status: `purchase`, `checkout`.
    pub cause: &'static str,
    pub lines: Vec<NewOrderLine>,
    /// The coupon reserved and the points spent with the order, in the same transaction;
    /// `Redemption::default()` for neither.
    pub redemption: Redemption,
    /// The most orders awaiting payment its buyer may have, this one included: the write is
    /// refused with [`CommitOutcome::TooManyPendingOrders`](crate::CommitOutcome) beyond it.
    pub max_pending: i64,
}

/// A coupon and points applied to an order at checkout. The coupon is reserved and the points
/// spent when the order is written; the coupon is used when it is paid; both come back when it
/// is cancelled, expires or is returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redemption {
    pub coupon_id: Option<Uuid>,
    /// What the coupon took off.
    pub discount: Won,
    /// Points spent, one won each.
    pub points: Won,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewOrderLine {
    pub product_id: Uuid,
    pub drop_id: Option<Uuid>,
    pub qty: i32,
    pub unit_price: Won,
    pub claim: ClaimRow,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub buyer_id: Uuid,
    pub status: OrderStatus,
    pub idempotency_key: String,
    /// What the buyer pays, after the redemption.
    pub total: Won,
    pub redemption: Redemption,
    pub hold_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the status last changed; the lifecycle jobs count their delays from it.
    pub status_changed_at: DateTime<Utc>,
    /// Set when the buyer asks for a return.
    pub return_reason: Option<String>,
    pub return_note: Option<String>,
    pub lines: Vec<OrderLine>,
    /// Every status the order took, oldest first, starting with its creation.
    pub history: Vec<OrderEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub line_no: i32,
    pub product_id: Uuid,
    /// The product's seller, who may see the order.
    pub seller_id: Uuid,
    pub drop_id: Option<Uuid>,
    pub qty: i32,
    pub unit_price: Won,
    pub claim_id: Uuid,
    /// The pool the line's claim holds stock of.
    pub pool_key: String,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
    /// Why: `purchase`, `checkout`, `payment`, `buyer`, `hold_expired`, …
    pub cause: String,
}

/// A status change, applied only if the order is still in `from`: the one way an order moves,
/// so that two nodes (or a job and a buyer) racing over one order apply it once.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderTransition {
    pub order_id: Uuid,
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub at: DateTime<Utc>,
    /// Recorded in the history: `buyer`, `hold_expired`, `payment`, `shipped`, …
    pub cause: String,
    /// Refuse the change unless the hold still runs at `at` (payment).
    pub within_hold: bool,
    /// `(reason, note)` of a return request.
    pub return_request: Option<(String, Option<String>)>,
    /// Enqueued in the same transaction (refunds, notifications): they run only if it commits.
    pub jobs: Vec<NewJob>,
    /// Points the buyer earns with this change (on completion), at most once per order.
    pub earn_points: Won,
}

impl OrderTransition {
    pub fn new(
        order_id: Uuid,
        from: OrderStatus,
        to: OrderStatus,
        at: DateTime<Utc>,
        cause: impl Into<String>,
    ) -> Self {
        Self {
            order_id,
            from,
            to,
            at,
            cause: cause.into(),
            within_hold: false,
            return_request: None,
            jobs: Vec::new(),
            earn_points: Won::ZERO,
        }
    }
}

/// The conflict `transition_order` reports when the order is no longer in `from` (or, with
/// `within_hold`, its hold has run out).
pub const ORDER_STATUS_CHANGED: &str = "order_status_changed";

/// Which orders to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub buyer_id: Option<Uuid>,
    /// Orders with at least one line of this seller's products.
    pub seller_id: Option<Uuid>,
    pub drop_id: Option<Uuid>,
    pub status: Option<OrderStatus>,
    /// Strictly older than this `(created_at, id)`.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u32,
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    async fn order(&self, id: Uuid) -> Result<Order, DbError>;

    /// How many of `buyer`'s orders await payment.
    async fn pending_orders(&self, buyer: Uuid) -> Result<i64, DbError>;

    /// Applies `change` with its history entry and jobs in one transaction. Leaving a status that
    /// holds stock releases the order's claims (and their pools' units) in that transaction too,
    /// gives its coupon back (`available` while still valid at `change.at`, else `expired`) and
    /// refunds its points; the caller then releases the claims in the gate. Becoming `paid` uses
    /// the reserved coupon; `change.earn_points` are credited once per order. `NotFound`, or `Conflict {
    /// constraint: ORDER_STATUS_CHANGED }` when the order is not in `change.from`.
    async fn transition_order(&self, change: &OrderTransition) -> Result<Order, DbError>;

    /// Up to `limit` orders in `status` whose status changed at or before `changed_before`
    /// (for `pending_payment`: whose hold expires at or before it), oldest first, each with its
    /// buyer and that time.
    async fn orders_due(
        &self,
        status: OrderStatus,
        changed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(Uuid, Uuid, DateTime<Utc>)>, DbError>;

    /// Orders awaiting payment whose hold runs out in `(after, until]`, each with its buyer and
    /// the hold's end.
    async fn holds_expiring(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Uuid, DateTime<Utc>)>, DbError>;

    /// Orders with their lines (no history), newest first.
    async fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<Order>, DbError>;
}
