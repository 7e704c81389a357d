//! Payments of orders, recorded before the provider is called.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::{PaymentStatus, Won};
use uuid::Uuid;

use crate::DbError;
use crate::jobs::NewJob;
use crate::orders::{Order, OrderTransition};

/// An order has at most one payment that is pending, approved or being refunded.
pub const PAYMENTS_ONE_LIVE_PER_ORDER: &str = "payments_one_live_per_order";

/// A payment was not in the status a change expected: someone settled it first (the sweep of
/// stale payments, a refund). Never a constraint of the schema; the stores report it.
pub const PAYMENT_STATUS_CHANGED: &str = "payment_status_changed";

#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    /// Derived from the buyer and the request's idempotency key.
    pub id: Uuid,
    pub order_id: Uuid,
    /// `sandbox` or `toss`.
    pub provider: String,
    pub amount: Won,
    pub status: PaymentStatus,
    /// The provider's reference: Toss's `paymentKey`, or ours for the sandbox.
    pub provider_ref: String,
    /// Why it was declined or failed: the provider's code.
    pub failure_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// Records a payment about to be charged (`pending`). `Conflict {
    /// PAYMENTS_ONE_LIVE_PER_ORDER }` when the order already has one pending, approved or being
    /// refunded.
    async fn begin_payment(&self, payment: &Payment) -> Result<(), DbError>;

    async fn payment(&self, id: Uuid) -> Result<Payment, DbError>;

    /// Oldest first.
    async fn payments_for_order(&self, order_id: Uuid) -> Result<Vec<Payment>, DbError>;

    /// Moves the payment from `from` to `to`. `Conflict { PAYMENT_STATUS_CHANGED }` when it is
    /// not (or no longer) `from`.
    async fn settle_payment(
        &self,
        id: Uuid,
        from: PaymentStatus,
        to: PaymentStatus,
        failure_code: Option<&str>,
        at: DateTime<Utc>,
        jobs: &[NewJob],
    ) -> Result<(), DbError>;

    /// Marks the pending payment approved and applies `change` (pending → paid) in one
    /// transaction: both or neither. `Conflict { PAYMENT_STATUS_CHANGED }` when the payment is
    /// no longer pending (the sweep is refunding it); otherwise errors as `transition_order`.
    async fn approve_payment(&self, id: Uuid, change: &OrderTransition) -> Result<Order, DbError>;

    /// Marks the pending payment `refunding` and enqueues `refund` in one transaction. `Conflict
    /// { PAYMENT_STATUS_CHANGED }`, and no job, when it is no longer pending.
    async fn refund_later(
        &self,
        id: Uuid,
        refund: &NewJob,
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Payments still `pending` that were created before `before`: their request died between
    /// the charge and its outcome.
    async fn stale_payments(&self, before: DateTime<Utc>) -> Result<Vec<Uuid>, DbError>;
}
