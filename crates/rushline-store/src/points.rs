//! The points ledger: one entry per earn, spend, refund or expiry, and each buyer's balance,
//! kept equal to the sum of their entries in the transaction that writes each entry.
//!
//! Entries are written by the order's own writes: spent with the order in the group commit,
//! refunded and earned by its status changes (`OrderStore::transition_order`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::{PointKind, Won};
use uuid::Uuid;

use crate::DbError;

#[derive(Debug, Clone, PartialEq)]
pub struct PointEntry {
    /// Increasing in the order entries were written.
    pub id: i64,
    pub user_id: Uuid,
    pub kind: PointKind,
    /// Positive for earn and refund, negative for spend and expire.
    pub amount: Won,
    pub order_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait PointStore: Send + Sync {
    /// The sum of the buyer's entries; 0 for a buyer without any.
    async fn points_balance(&self, user_id: Uuid) -> Result<Won, DbError>;

    /// Up to `limit` of the buyer's entries, newest first, with an id below `before` when set.
    async fn point_entries(
        &self,
        user_id: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PointEntry>, DbError>;
}
