//! Raffles: their secret seed and published state, the entries (written by the group commit,
//! append-only), the draw's order of places, and the sweep that offers places down that order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::raffle::{Place, PlaceOutcome, Seed};
use uuid::Uuid;

use crate::DbError;
use crate::jobs::NewJob;

/// What a raffle allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaffleKind {
    /// Units of a drop: winners may buy, each within a claim window.
    Drop,
    /// Slots of a trial: winners are selected testers.
    Trial,
}

impl RaffleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RaffleKind::Drop => "drop",
            RaffleKind::Trial => "trial",
        }
    }
}

impl std::str::FromStr for RaffleKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "drop" => Ok(RaffleKind::Drop),
            "trial" => Ok(RaffleKind::Trial),
            other => Err(format!("unknown raffle kind {other:?}")),
        }
    }
}

/// A raffle as anyone may see it: never the seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaffleSettings {
    pub entries_close_at: DateTime<Utc>,
    /// How long a drop's winner may buy; `None` for a trial.
    pub claim_window_minutes: Option<i32>,
    /// SHA-256 of the seed, hex.
    pub seed_commitment: String,
    pub drawn_at: Option<DateTime<Utc>>,
    /// Entries the draw ordered.
    pub entrants: Option<i64>,
    /// When the sweep found nothing left to offer (every place decided, or the drop closed).
    pub exhausted_at: Option<DateTime<Utc>>,
}

/// An entry as the group-commit writer records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// Derived from the buyer and the idempotency key, so a retry names the same entry.
    pub id: Uuid,
    pub raffle_id: Uuid,
    pub user_id: Uuid,
    pub idempotency_key: String,
    /// A trial applicant's motivation.
    pub motivation: Option<String>,
    pub entered_at: DateTime<Utc>,
}

/// An entry and, once drawn, its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: Uuid,
    pub raffle_id: Uuid,
    pub user_id: Uuid,
    pub idempotency_key: String,
    pub motivation: Option<String>,
    pub entered_at: DateTime<Utc>,
    /// Its place in draw order (0 first); `None` before the draw.
    pub position: Option<i64>,
    pub place: Place,
}

/// What the sweep of one drawn raffle does at `now`: records what became of the places it
/// offered, then offers as many of the next places as the free units serve.
#[derive(Debug, Clone, PartialEq)]
pub struct RaffleSweep {
    pub raffle_id: Uuid,
    /// The pool whose active claims are the winners' purchases.
    pub pool_key: String,
    pub per_user_limit: i64,
    pub now: DateTime<Utc>,
    /// The end of the claim window of a place offered now.
    pub claim_until: DateTime<Utc>,
    /// No place is offered from this time on; the raffle is exhausted.
    pub offers_end_at: DateTime<Utc>,
    /// Enqueued with the offers, if any are made: tells those offered now.
    pub offers: NewJob,
    /// Enqueued when the raffle is exhausted: tells those never offered a place.
    pub lost: NewJob,
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Swept {
    /// Places offered by this sweep.
    pub offered: u64,
    /// Whether the raffle has nothing left to offer (it is not swept again).
    pub exhausted: bool,
}

#[async_trait]
pub trait RaffleStore: Send + Sync {
    /// `user_id`'s entry in the raffle of `raffle_id`, with its place.
    async fn raffle_entry(&self, raffle_id: Uuid, user_id: Uuid) -> Result<Entry, DbError>;

    async fn entry(&self, id: Uuid) -> Result<Entry, DbError>;

    /// Raffles to work on at `now`: undrawn ones whose entries have closed, and drawn ones with
    /// places left to decide.
    async fn raffles_due(&self, now: DateTime<Utc>) -> Result<Vec<(Uuid, RaffleKind)>, DbError>;

    /// Closes the raffle to entries (once; later calls keep the first time) and returns its
    /// seed. Once this returns, no entry commits: a batch writing one waits for it, then is
    /// refused with `EntriesClosed`.
    async fn close_entries(&self, id: Uuid, now: DateTime<Utc>) -> Result<Seed, DbError>;

    /// Every entry of the raffle as `(entry id, user id)`, in canonical order (ascending id).
    async fn raffle_entrants(&self, id: Uuid) -> Result<Vec<(Uuid, Uuid)>, DbError>;

    /// Records the draw: `order` (entry id, user id) gives each entrant its place, and the raffle
    /// is drawn at `now`. Does nothing when it was drawn already (the first draw stands).
    async fn record_draw(
        &self,
        id: Uuid,
        order: &[(Uuid, Uuid)],
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// The seed, once the raffle is drawn; `None` before.
    async fn revealed_seed(&self, id: Uuid) -> Result<Option<Seed>, DbError>;

    /// Up to `limit` entry ids in canonical order, strictly after `after`.
    async fn entrants_page(
        &self,
        id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Uuid>, DbError>;

    /// Up to `limit` entry ids in draw order, from position `from`.
    async fn draw_page(&self, id: Uuid, from: i64, limit: u32) -> Result<Vec<Uuid>, DbError>;

    /// One sweep, in one transaction: see [`RaffleSweep`].
    async fn sweep_raffle(&self, sweep: &RaffleSweep) -> Result<Swept, DbError>;

    /// Up to `limit` entries of a drawn raffle whose places were not offered yet, in draw order.
    async fn next_places(&self, id: Uuid, limit: u32) -> Result<Vec<Entry>, DbError>;

    /// Records what became of the place of entry `entry_id`, offered at `at`.
    async fn settle_place(
        &self,
        entry_id: Uuid,
        at: DateTime<Utc>,
        outcome: PlaceOutcome,
    ) -> Result<(), DbError>;

    /// Marks the raffle as having nothing left to offer, once, with the `lost` notice. For a
    /// trial, its entrants without an application (never drawn, or passed over) get one,
    /// `not_selected`, under their entry's id.
    async fn exhaust_raffle(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        lost: &NewJob,
    ) -> Result<(), DbError>;
}
