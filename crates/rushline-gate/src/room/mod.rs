//! The waiting room: who is in line for a drop, in which order, and who may buy now.
//!
//! This module owns the [`WaitingRoom`] port and its two backends, [`MemoryRoom`] (one process)
//! and [`RedisRoom`] (many nodes sharing one Redis, one Lua script per operation). It decides
//! the order of the line (the pre-queue shuffle, then arrival order), admission (a rate and an
//! optional cap on active passes), passes and their expiry, and dropped places. It must not read
//! the database or the system clock: the caller passes the room's [`RoomSpec`] and `now` on
//! every call. Signing the pass a buyer carries is the HTTP layer's job, not this one's.
//!
//! # Order of the line
//!
//! Buyers who join before `opens_at` (from `opens_at - prequeue` on) form the pre-queue; they
//! have no position yet. The first operation at or after `opens_at` opens the room: it draws a
//! random seed (32 lowercase hex digits, recorded once and then readable through
//! [`WaitingRoom::seed`]) and shuffles the pre-queue by this rule, which anyone can recompute
//! from the published seed:
//!
//! > Order the pre-queue joiners by `sha1_hex(seed + ":" + user_id)` ascending, where
//! > `sha1_hex` is the SHA-1 digest in 40 lowercase hex digits and `user_id` the user's UUID in
//! > lowercase hyphenated form (`67e55044-10b1-426f-9247-bb680e5fe0c8`); ties by `user_id`
//! > ascending. Equivalently: sort the strings `sha1_hex(seed + ":" + user_id) + ":" + user_id`
//! > bytewise.
//!
//! Buyers who join after the opening go behind the whole pre-queue, in arrival order. Every
//! pre-queue joiner still holding a place at the opening is shuffled, including one who has
//! stopped polling; admission skips such a place when it reaches it.
//!
//! # Admission
//!
//! [`WaitingRoom::admit`] admits from the front of the line on a schedule of one slot every
//! `60 s / admit_per_minute` (rounded up to the microsecond), starting at `opens_at`: a call
//! admits one buyer per slot that has come due since the last admission. Slots never come early,
//! so a 1-second tick admits `admit_per_minute / 60`, rounded down or up, and never a minute's
//! worth at once. Slots that came due while nobody could be admitted (an empty line, the
//! `max_active` cap, nobody calling) are kept for at most [`CATCH_UP`], which bounds the burst
//! after a quiet spell. No buyer is admitted while `max_active` passes are active; a pass is
//! active from admission until it is used ([`WaitingRoom::consume`]) or its session ends. A
//! waiting place whose holder has not polled for `idle_timeout` is dropped when admission
//! reaches it (counted as abandoned, takes no slot), or when its holder comes back, who is then
//! told [`Status::Expired`] once. `admit_per_minute = 0` pauses admission.
//!
//! `admit` is cheap when nothing is due: call it on every poll and/or from a ticker on each node.

mod memory;
mod redis;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::GateError;

pub use self::memory::MemoryRoom;
pub use self::redis::RedisRoom;

/// How long slots that came due without an admission stay usable; see the module docs.
pub const CATCH_UP: TimeDelta = TimeDelta::seconds(5);

/// The most places one `admit` call looks at, admitted or skipped, so that one call (and on
/// Redis one script) stays short even behind a long run of abandoned places; the next call
/// goes on from there.
pub const SCAN_BUDGET: u32 = 1_000;

/// A waiting room, one per drop, e.g. `drop:0192…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomKey(pub String);

/// A room's configuration, as the drop in the database says; passed on every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSpec {
    pub opens_at: DateTime<Utc>,
    /// 0 pauses admission.
    pub admit_per_minute: u32,
    /// The most passes active at once; None for no cap.
    pub max_active: Option<u32>,
    /// How long a pass stays valid after admission.
    pub session: TimeDelta,
    /// How long before `opens_at` buyers may join the pre-queue.
    pub prequeue: TimeDelta,
    /// A waiting buyer who has not polled for this long loses the place.
    pub idle_timeout: TimeDelta,
}

impl RoomSpec {
    pub const DEFAULT_SESSION: TimeDelta = TimeDelta::minutes(5);
    pub const DEFAULT_PREQUEUE: TimeDelta = TimeDelta::minutes(30);
    pub const DEFAULT_IDLE_TIMEOUT: TimeDelta = TimeDelta::minutes(2);

    /// A room with no active cap and the default session, pre-queue and idle timeout.
    pub fn new(opens_at: DateTime<Utc>, admit_per_minute: u32) -> Self {
        Self {
            opens_at,
            admit_per_minute,
            max_active: None,
            session: Self::DEFAULT_SESSION,
            prequeue: Self::DEFAULT_PREQUEUE,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
        }
    }

    /// The earliest time a buyer may join.
    pub fn queue_opens_at(&self) -> DateTime<Utc> {
        self.opens_at
            .checked_sub_signed(self.prequeue)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// A buyer's place in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// The join's number in the room, from 1: the same for every answer about one place, a new
    /// one after the place was lost or used.
    pub ticket: u64,
    pub state: TicketState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketState {
    /// In line. Both fields are None in the pre-queue, which has no order until the opening.
    Waiting {
        /// 1 for the next buyer to be admitted: one more than the places still held ahead.
        position: Option<u64>,
        /// From the admissions over the last minute; the configured rate during the room's
        /// first minute or when nobody was admitted in the last minute. None while paused.
        estimated_wait: Option<TimeDelta>,
    },
    /// Holds a pass, valid until `pass_expires_at` (exclusive) unless used first.
    Admitted { pass_expires_at: DateTime<Utc> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    /// A new place at the back, or the buyer's existing one.
    Joined(Ticket),
    /// Too early: the queue opens at `queue_opens_at` (409 `not_open`).
    NotOpenYet { queue_opens_at: DateTime<Utc> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InRoom(Ticket),
    /// The place is gone (410 `queue_expired`). Said once; afterwards the buyer is
    /// [`Status::NotInQueue`] and may join again, at the back.
    Expired {
        ticket: u64,
        reason: ExpiryReason,
    },
    /// Never joined, or the place was used or already reported expired.
    NotInQueue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryReason {
    /// The buyer stopped polling while waiting.
    Abandoned,
    /// The pass's session ended before it was used.
    PassExpired,
}

/// What one [`WaitingRoom::admit`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Admission {
    pub admitted: u32,
    /// Idle places dropped on the way.
    pub abandoned: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomStats {
    /// Places in line, including the pre-queue and idle places not dropped yet.
    pub waiting: u64,
    /// Buyers admitted since the room opened.
    pub admitted: u64,
    /// Passes neither used nor expired.
    pub active: u64,
    /// Admissions in the minute up to `now`: the observed rate per minute.
    pub admitted_last_minute: u64,
    /// Places dropped because their holder stopped polling.
    pub abandoned: u64,
    /// The most places in line at once (pre-queue included), as of the last join.
    pub peak_waiting: u64,
    /// Passes used by a purchase ([`WaitingRoom::consume`]): admitted buyers who bought.
    pub used: u64,
    /// The median wait of the buyers admitted so far (the lower median of an even count), to
    /// the second, rounded down: from when the buyer's place entered the line (the join, or
    /// `opens_at` for the pre-queue) to the admission. None before the first admission.
    pub median_wait: Option<TimeDelta>,
}

#[async_trait]
pub trait WaitingRoom: Send + Sync + 'static {
    /// Takes a place for `user`, or answers with the one they hold (refreshing it, like a poll).
    /// A place that was lost or used is replaced by a new one at the back.
    async fn join(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<JoinOutcome, GateError>;
    /// The buyer's place; a poll, so it keeps a waiting place alive.
    async fn status(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Status, GateError>;
    /// One admission step, atomic: safe from many nodes and tasks at once.
    async fn admit(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        now: DateTime<Utc>,
    ) -> Result<Admission, GateError>;
    /// Uses the buyer's pass up and frees its `max_active` slot. False when the buyer holds no
    /// valid pass (never admitted, expired, already used).
    async fn consume(
        &self,
        room: &RoomKey,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, GateError>;
    async fn stats(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        now: DateTime<Utc>,
    ) -> Result<RoomStats, GateError>;
    /// The shuffle seed; None until the room has opened.
    async fn seed(&self, room: &RoomKey) -> Result<Option<String>, GateError>;
}

const MINUTE_US: i64 = 60_000_000;
/// Every span is capped so that times stay exact in Lua's doubles (below 2^53 µs).
const MAX_SPAN_US: i64 = 100 * 366 * 24 * 3_600 * 1_000_000;

/// A spec and `now` in microseconds since the epoch, as both backends compute with them.
#[derive(Debug, Clone, Copy)]
struct Params {
    now: i64,
    opens: i64,
    queue_opens: i64,
    rate: u32,
    max_active: Option<u32>,
    session: i64,
    idle: i64,
}

impl Params {
    fn new(spec: &RoomSpec, now: DateTime<Utc>) -> Self {
        let opens = spec.opens_at.timestamp_micros();
        Self {
            now: now.timestamp_micros(),
            opens,
            queue_opens: opens - span(spec.prequeue),
            rate: spec.admit_per_minute,
            max_active: spec.max_active,
            session: span(spec.session),
            idle: span(spec.idle_timeout),
        }
    }

    fn is_idle(&self, last_seen: i64) -> bool {
        self.now - last_seen >= self.idle
    }

    /// The estimated wait of the buyer at `position`; see [`TicketState::Waiting`].
    fn estimate(&self, position: u64, admitted_last_minute: u64, opened: i64) -> Option<TimeDelta> {
        let per_minute = if self.now - opened >= MINUTE_US && admitted_last_minute > 0 {
            admitted_last_minute
        } else {
            u64::from(self.rate)
        };
        if per_minute == 0 {
            return None;
        }
        let seconds = position.saturating_mul(60).div_ceil(per_minute);
        Some(TimeDelta::seconds(
            i64::try_from(seconds).unwrap_or(i64::MAX / 1_000),
        ))
    }
}

fn span(d: TimeDelta) -> i64 {
    d.num_microseconds()
        .unwrap_or(MAX_SPAN_US)
        .clamp(0, MAX_SPAN_US)
}

/// Microseconds between admission slots; never 0. Rounded up, so never faster than the rate.
fn interval(rate: u32) -> i64 {
    let rate = i64::from(rate.max(1));
    ((MINUTE_US + rate - 1) / rate).max(1)
}

fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A new shuffle seed: 128 random bits in 32 lowercase hex digits.
fn new_seed() -> String {
    format!("{:032x}", rand::random::<u128>())
}
