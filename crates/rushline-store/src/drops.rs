//! Drops: a limited allocation of a product, sold in a time window through a pool.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::raffle::Seed;
use rushline_domain::{Allocation, Won};
use uuid::Uuid;

use crate::DbError;
use crate::raffles::RaffleSettings;

#[derive(Debug, Clone, PartialEq)]
pub struct ProductDrop {
    pub id: Uuid,
    pub product_id: Uuid,
    pub seller_id: Uuid,
    pub quantity: i64,
    pub price: Won,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub per_user_limit: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the scheduler saw the window open and close; `None` until then.
    pub opened_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The drop's waiting room; `None` for a drop anyone may buy from directly.
    pub waiting_room: Option<WaitingRoomSettings>,
    /// The seed the waiting room shuffled its pre-queue with, recorded when the room opened.
    pub queue_seed: Option<String>,
    pub allocation: Allocation,
    /// A raffle drop's raffle; `None` for first come, first served.
    pub raffle: Option<RaffleSettings>,
}

/// A drop's waiting room, as its seller set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitingRoomSettings {
    pub admit_per_minute: i32,
    /// The most buyers holding a valid pass at once; `None` for no cap.
    pub max_active: Option<i32>,
    pub session_minutes: i32,
    pub prequeue_minutes: i32,
}

impl ProductDrop {
    pub fn pool_key(&self) -> String {
        drop_pool_key(self.id)
    }
}

pub fn drop_pool_key(id: Uuid) -> String {
    format!("drop:{id}")
}

/// Which drops to list; times are compared with `now`.
#[derive(Debug, Clone, Default)]
pub struct DropFilter {
    pub seller_id: Option<Uuid>,
    pub window: Option<DropWindow>,
    /// Only those opening in `[start, end)`.
    pub opening: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropWindow {
    /// `now < opens_at`
    Scheduled { now: DateTime<Utc> },
    /// `opens_at <= now < closes_at`
    Open { now: DateTime<Utc> },
    /// `closes_at <= now`
    Closed { now: DateTime<Utc> },
}

#[async_trait]
pub trait DropStore: Send + Sync {
    /// Inserts the drop and its pool (and, for a raffle drop, its raffle with the secret `seed`)
    /// in one transaction, with `jobs` (the notices it causes).
    async fn create_drop(
        &self,
        drop: &ProductDrop,
        seed: Option<&Seed>,
        jobs: &[crate::NewJob],
    ) -> Result<(), DbError>;

    async fn drop_by_id(&self, id: Uuid) -> Result<ProductDrop, DbError>;

    /// Soonest opening first.
    async fn list_drops(&self, filter: &DropFilter) -> Result<Vec<ProductDrop>, DbError>;

    /// Replaces a drop that has not opened at `now` (and its pool's total and limit); `NotFound`
    /// when it does not exist, `Conflict { constraint: DROP_NOT_SCHEDULED }` once it has opened.
    async fn update_drop(&self, drop: &ProductDrop, now: DateTime<Utc>) -> Result<(), DbError>;

    /// Deletes a drop that has not opened at `now`, with its pool; same errors as `update_drop`.
    async fn delete_drop(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), DbError>;

    /// Records openings and closings that are due at `now`, enqueueing the jobs
    /// `closed(drop, now)` for each drop that closes in the same transaction; returns the drops
    /// that changed.
    async fn advance_drops(
        &self,
        now: DateTime<Utc>,
        closed: fn(Uuid, DateTime<Utc>) -> Vec<crate::NewJob>,
    ) -> Result<Vec<Uuid>, DbError>;

    /// Records the seed the drop's waiting room opened with, unless one is recorded already;
    /// returns the recorded one, so that every node publishes the first. `NotFound` when the drop
    /// does not exist.
    async fn record_queue_seed(&self, id: Uuid, seed: &str) -> Result<String, DbError>;

    /// The drops with a waiting room whose window holds `now` (`opens_at <= now < closes_at`):
    /// the rooms that admit buyers.
    async fn drops_with_open_rooms(&self, now: DateTime<Utc>) -> Result<Vec<ProductDrop>, DbError>;
}

/// The conflict `update_drop` and `delete_drop` report once a drop has opened.
pub const DROP_NOT_SCHEDULED: &str = "drop_not_scheduled";
