//! Orders and their lines, each line backed by a claim on a pool.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::OrderStatus;
use uuid::Uuid;

use crate::DbError;
use crate::claims::ClaimRow;

/// An order as the group-commit writer creates it: `pending_payment`, holding its claims.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub id: Uuid,
    pub buyer_id: Uuid,
    /// The client's `Idempotency-Key`; unique per buyer.
    pub idempotency_key: String,
    pub total: i64,
    pub hold_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// What created it, recorded as the cause of its first status: `purchase`, `checkout`.
    pub cause: &'static str,
    pub lines: Vec<NewOrderLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewOrderLine {
    pub product_id: Uuid,
    pub drop_id: Option<Uuid>,
    pub qty: i32,
    pub unit_price: i64,
    pub claim: ClaimRow,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub buyer_id: Uuid,
    pub status: OrderStatus,
    pub idempotency_key: String,
    pub total: i64,
    pub hold_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub lines: Vec<OrderLine>,
    /// Every status the order took, oldest first, starting with its creation.
    pub history: Vec<OrderEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub line_no: i32,
    pub product_id: Uuid,
    pub drop_id: Option<Uuid>,
    pub qty: i32,
    pub unit_price: i64,
    pub claim_id: Uuid,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
    /// Why: `purchase`, `checkout`, `payment`, `buyer`, `hold_expired`, …
    pub cause: String,
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    async fn order(&self, id: Uuid) -> Result<Order, DbError>;

    /// Every order with a line of the drop, oldest first.
    async fn orders_for_drop(&self, drop_id: Uuid) -> Result<Vec<Order>, DbError>;
}
