//! The claim gate: the one atomic step that decides whether a buyer gets limited stock; and the
//! waiting room in front of a drop.
//!
//! This crate owns the [`Gate`] port and its two backends, [`MemoryGate`] (one process, atomics)
//! and [`RedisGate`] (many nodes, one Lua script per claim). It decides grants, their `seq`
//! order, request-id replays and releases. The [`room`] module owns the [`WaitingRoom`] port
//! (memory and Redis): who waits, in what order, and who is admitted when.
//!
//! It must not touch the database: the only way in is the [`PoolSource`] trait, read when a pool
//! is first used or its state is lost. The gate is a fast, rebuildable copy; the database stays
//! the truth.

mod memory;
mod redis;
pub mod room;

use async_trait::async_trait;
use uuid::Uuid;

pub use crate::memory::MemoryGate;
pub use crate::redis::RedisGate;
pub use crate::room::{MemoryRoom, RedisRoom, WaitingRoom};

/// A limited thing (units of a drop, a product's stock, coupons of a campaign), e.g. `drop:0192…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolKey(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub user: Uuid,
    pub qty: u32,
    /// The client's idempotency key: a retry with the same id claims nothing more.
    pub request_id: Uuid,
    /// A hash of the request body, telling a genuine retry from a reused key.
    pub fingerprint: u64,
    /// When the caller asked, by its clock, in Unix microseconds. Kept with the grant so that
    /// reconciliation can tell a grant whose write was lost (its node died) from one whose
    /// write is still in flight.
    pub at: i64,
}

/// An active grant as the gate holds it, for reconciliation against the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveGrant {
    pub request_id: Uuid,
    pub qty: u32,
    /// The claim's `at`; 0 for grants loaded from the database.
    pub at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// A new grant; `seq` is its place in the pool's order of grants.
    Granted { seq: u64 },
    /// The request id was already granted with the same fingerprint: nothing more claimed.
    Replayed { seq: u64 },
    /// The request id was already granted with a different fingerprint: nothing claimed.
    Mismatch,
    /// Fewer than `qty` units remain.
    SoldOut,
    /// The user's held units plus `qty` would exceed the per-user limit.
    LimitReached,
}

/// An active (unreleased) grant as the database records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub request_id: Uuid,
    pub user: Uuid,
    pub qty: u32,
    pub seq: u64,
    pub fingerprint: u64,
}

/// The database's view of a pool, from which a gate (re)builds its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSnapshot {
    pub total: u64,
    /// `u32::MAX` means no limit.
    pub per_user_limit: u32,
    /// The highest `seq` the database has recorded; new grants continue after it.
    pub last_seq: u64,
    pub holds: Vec<Hold>,
}

#[async_trait]
pub trait PoolSource: Send + Sync + 'static {
    /// The database's current view of a pool; None when the pool does not exist.
    async fn load_pool(&self, pool: &PoolKey) -> Result<Option<PoolSnapshot>, GateError>;
}

#[async_trait]
pub trait Gate: Send + Sync + 'static {
    /// Checks, in one atomic step: request-id replay, then the per-user limit, then stock; a
    /// grant takes both the stock and the user's count, or neither.
    async fn claim(&self, pool: &PoolKey, claim: &Claim) -> Result<ClaimOutcome, GateError>;
    /// Gives a grant's stock and user count back. Idempotent per request_id: true only the
    /// first time; false for unknown ids.
    async fn release(&self, pool: &PoolKey, request_id: Uuid) -> Result<bool, GateError>;
    /// Undoes a grant that never became durable (its write failed): gives its stock and user
    /// count back and forgets the request id, so that a retry claims afresh instead of replaying
    /// a grant nobody holds. True when there was an active grant to undo.
    async fn abort(&self, pool: &PoolKey, request_id: Uuid) -> Result<bool, GateError>;
    /// Remaining units; None when the pool does not exist. No database read once the pool is
    /// loaded.
    async fn remaining(&self, pool: &PoolKey) -> Result<Option<u64>, GateError>;
    /// Forgets the pool's state so that the next use reloads it from the source (used after
    /// the total changes, and by reconciliation).
    async fn invalidate(&self, pool: &PoolKey) -> Result<(), GateError>;
    /// The pools whose state this gate holds now.
    async fn pools(&self) -> Result<Vec<PoolKey>, GateError>;
    /// The pool's active (unreleased) grants; empty when the gate holds no state for it. Reads
    /// the gate only: it never loads the pool.
    async fn grants(&self, pool: &PoolKey) -> Result<Vec<ActiveGrant>, GateError>;
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// Redis is unreachable or refused a command.
    #[error("gate unavailable: {0}")]
    Unavailable(String),
    /// The [`PoolSource`] failed, or gave a pool this backend cannot hold.
    #[error("pool source failed: {0}")]
    Source(String),
    #[error("unknown pool")]
    UnknownPool,
}
