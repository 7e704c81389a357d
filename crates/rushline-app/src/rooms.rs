//! The waiting rooms in front of drops: the room backend (memory or Redis), the passes admitted
//! buyers carry, the published shuffle seed, and admission.
//!
//! The room itself (`rushline_gate::room`) decides order and admission; this module turns a
//! drop's settings into the room's [`RoomSpec`], signs and checks passes, and records the seed
//! in the database once the room opens. Admission runs whenever a room is asked: on every poll
//! (`/queue`, `/queue/me`, each event of `/queue/events`) and once per second from the
//! `admit_waiting_rooms` job, so a room keeps its pace even when nobody polls.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use moka::future::Cache;
use rushline_gate::room::{
    ExpiryReason, JoinOutcome, RoomKey, RoomSpec, RoomStats, Status, Ticket,
};
use rushline_gate::{GateError, WaitingRoom};
use rushline_store::{DbError, ProductDrop, RoomFigures};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

pub use crate::streams::StreamGuard;
use crate::streams::Streams;
use crate::{App, AppError, ErrorCode};

/// Sets passes apart from every other token signed with the same secret.
const PASS_AUDIENCE: &str = "rushline:queue-pass";

/// The claims of a pass: a buyer's admission to one drop, valid until `exp`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PassClaims {
    aud: String,
    drop: Uuid,
    user: Uuid,
    /// Admission + the room's session, in whole seconds, rounded down so that a pass never
    /// outlives the room's own record of it.
    exp: i64,
    /// One per admission: derived from the drop, the buyer and the ticket, so that every poll
    /// of one admission returns the same pass.
    jti: Uuid,
}

/// The room backend and everything the API needs around it; one per node.
pub struct WaitingRooms {
    pub room: Arc<dyn WaitingRoom>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// A waiting buyer who has not polled for this long loses the place.
    idle_timeout: TimeDelta,
    /// How often `/queue/events` pushes the buyer's place.
    pub events_every: Duration,
    /// The seeds this node has published: a burst of readers at an opening records one once.
    seeds: Cache<Uuid, Arc<str>>,
    /// `/queue/events` streams open on this node: each holds a connection and polls the room.
    streams: Streams,
}

impl WaitingRooms {
    /// `secret` is the deployment's token-signing secret, so that every node verifies the
    /// passes every other node signs.
    pub fn new(
        room: Arc<dyn WaitingRoom>,
        secret: &[u8],
        idle_timeout: TimeDelta,
        events_every: Duration,
        streams_per_user: usize,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the application clock, which tests move.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.set_audience(&[PASS_AUDIENCE]);
        Self {
            room,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            idle_timeout,
            events_every,
            seeds: Cache::builder().max_capacity(10_000).build(),
            streams: Streams::new("rushline_queue_event_streams", streams_per_user),
        }
    }

    /// The drop's room as the room backend takes it; `None` for a drop without a waiting room.
    pub fn spec(&self, drop: &ProductDrop) -> Option<RoomSpec> {
        let room = drop.waiting_room?;
        Some(RoomSpec {
            opens_at: drop.opens_at,
            admit_per_minute: u32::try_from(room.admit_per_minute).unwrap_or(0),
            max_active: room.max_active.and_then(|max| u32::try_from(max).ok()),
            session: TimeDelta::minutes(i64::from(room.session_minutes)),
            prequeue: TimeDelta::minutes(i64::from(room.prequeue_minutes)),
            idle_timeout: self.idle_timeout,
        })
    }

    /// One admission step for the drop's room: admits whoever is due at `now`.
    pub async fn admit(
        &self,
        drop: &ProductDrop,
        spec: &RoomSpec,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let admission = self
            .room
            .admit(&room_key(drop.id), spec, now)
            .await
            .map_err(room_error)?;
        metrics::counter!("rushline_room_admitted_total").increment(admission.admitted.into());
        metrics::counter!("rushline_room_abandoned_total").increment(admission.abandoned.into());
        Ok(())
    }

    /// The seed the drop's room shuffled its pre-queue with, once the drop has opened: from the
    /// drop when recorded, else the room is opened (if nobody has yet), its seed recorded in the
    /// database (the first recorded wins, so every node publishes the same) and the node's copy
    /// of the drop forgotten. `None` before the opening and for drops without a room.
    pub async fn published_seed(
        &self,
        app: &App,
        drop: &ProductDrop,
    ) -> Result<Option<String>, AppError> {
        if let Some(seed) = &drop.queue_seed {
            return Ok(Some(seed.clone()));
        }
        let now = app.clock.now();
        let Some(spec) = self.spec(drop).filter(|_| now >= drop.opens_at) else {
            return Ok(None);
        };
        let seed = self
            .seeds
            .try_get_with(drop.id, async {
                // Every room operation at or after opens_at opens the room; admission is due
                // at the opening anyway.
                self.admit(drop, &spec, now)
                    .await
                    .map_err(|_| SeedError::Room)?;
                let seed = self
                    .room
                    .seed(&room_key(drop.id))
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "reading the queue seed failed");
                        SeedError::Room
                    })?
                    .ok_or(SeedError::Room)?;
                let recorded = app
                    .store
                    .record_queue_seed(drop.id, &seed)
                    .await
                    .map_err(SeedError::Db)?;
                if recorded != seed {
                    tracing::warn!(drop = %drop.id, "the room opened with another seed than the one published (Redis lost its state, or memory rooms on several nodes)");
                }
                app.drops.forget(drop.id).await;
                Ok::<_, SeedError>(Arc::from(recorded))
            })
            .await
            .map_err(|e: Arc<SeedError>| match &*e {
                SeedError::Room => room_unavailable(),
                SeedError::Db(e) => AppError::from(e.clone()),
            })?;
        Ok(Some(seed.to_string()))
    }

    /// The pass of an admitted buyer.
    #[expect(
        clippy::expect_used,
        reason = "HS256 signing with a key in memory cannot fail"
    )]
    pub fn pass(&self, drop: Uuid, user: Uuid, ticket: u64, expires_at: DateTime<Utc>) -> String {
        let claims = PassClaims {
            aud: PASS_AUDIENCE.to_owned(),
            drop,
            user,
            exp: expires_at.timestamp(),
            jti: Uuid::new_v5(&drop, format!("{user}:{ticket}").as_bytes()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// Checks a pass without any I/O: signed by this deployment, for this drop and buyer, not
    /// expired at `now`. Whether it was used already is the room's to say ([`Self::use_pass`]).
    pub fn check_pass(
        &self,
        pass: Option<&str>,
        drop: Uuid,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), PassRefused> {
        let pass = pass.ok_or_else(|| {
            PassRefused::Invalid(AppError::new(
                ErrorCode::QueuePassRequired,
                "this drop has a waiting room: join it and send the pass you get on admission in X-Queue-Pass",
            ))
        })?;
        let claims =
            jsonwebtoken::decode::<PassClaims>(pass.trim(), &self.decoding, &self.validation)
                .map_err(|_| {
                    PassRefused::Invalid(pass_invalid(
                        "the queue pass is not one this service signed",
                    ))
                })?
                .claims;
        if claims.drop != drop || claims.user != user {
            return Err(PassRefused::Invalid(pass_invalid(
                "the queue pass is for another buyer or another drop",
            )));
        }
        if claims.exp <= now.timestamp() {
            return Err(PassRefused::Expired(pass_invalid(
                "the queue pass has expired",
            )));
        }
        Ok(())
    }

    /// Uses the buyer's pass up, freeing its place among the room's active passes. False when
    /// the room holds no valid pass for them: used already, or its session ended.
    pub async fn use_pass(
        &self,
        drop: Uuid,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        self.room
            .consume(&room_key(drop), user, now)
            .await
            .map_err(room_error)
    }

    /// Counts an open `/queue/events` stream of `user` until the guard is dropped with the
    /// stream; 429 `too_many_streams` when the user has as many open on this node as one may.
    pub fn stream_opened(&self, user: Uuid) -> Result<StreamGuard, AppError> {
        self.streams.open(user)
    }

    /// `/queue/events` streams open on this node.
    pub fn open_event_streams(&self) -> usize {
        self.streams.count()
    }
}

enum SeedError {
    Room,
    Db(DbError),
}

/// The room of a drop: named like its pool.
fn room_key(drop: Uuid) -> RoomKey {
    RoomKey(rushline_store::drop_pool_key(drop))
}

/// Why [`WaitingRooms::check_pass`] refused a pass.
pub enum PassRefused {
    /// Missing, not signed by this deployment, or for another buyer or drop.
    Invalid(AppError),
    /// A pass that was valid: its session has ended since.
    Expired(AppError),
}

pub fn pass_invalid(message: &'static str) -> AppError {
    AppError::new(ErrorCode::QueuePassInvalid, message)
}

fn room_error(e: GateError) -> AppError {
    tracing::error!(error = %e, "waiting room failed");
    room_unavailable()
}

fn room_unavailable() -> AppError {
    AppError::new(
        ErrorCode::RoomUnavailable,
        "the waiting room is unavailable; retry later",
    )
    .with_retry_after(1)
}

/// The drop and its room spec; 404 `no_waiting_room` for a drop without one.
async fn room_of(app: &App, id: Uuid) -> Result<(Arc<ProductDrop>, RoomSpec), AppError> {
    let drop = app.drops.get(&app.store, id).await?;
    let spec = app.rooms.spec(&drop).ok_or_else(|| {
        AppError::new(
            ErrorCode::NoWaitingRoom,
            "this drop has no waiting room: buy directly",
        )
    })?;
    Ok((drop, spec))
}

/// Takes `buyer`'s place in the drop's waiting room, from `prequeue_minutes` before `opens_at`
/// until the drop closes; joining again answers with the same ticket (and counts as a poll).
pub async fn join(app: &App, drop_id: Uuid, buyer: Uuid) -> Result<Ticket, AppError> {
    let (drop, spec) = room_of(app, drop_id).await?;
    let now = app.clock.now();
    if now >= drop.closes_at {
        return Err(AppError::new(ErrorCode::Closed, "the drop has closed"));
    }
    app.rooms.admit(&drop, &spec, now).await?;
    let outcome = app
        .rooms
        .room
        .join(&room_key(drop.id), &spec, buyer, now)
        .await
        .map_err(room_error)?;
    match outcome {
        JoinOutcome::Joined(ticket) => Ok(ticket),
        JoinOutcome::NotOpenYet { queue_opens_at } => Err(AppError::new(
            ErrorCode::NotOpen,
            "the waiting room has not opened yet",
        )
        .with_details(json!({ "queue_opens_at": queue_opens_at }))),
    }
}

/// A poll of `buyer`'s place: admits whoever is due, then reads the place (which keeps a
/// waiting place alive). 410 `queue_expired` once for a lost place, 404 `not_in_queue` for a
/// buyer without one.
pub async fn poll(app: &App, drop_id: Uuid, buyer: Uuid) -> Result<Ticket, AppError> {
    let (drop, spec) = room_of(app, drop_id).await?;
    let now = app.clock.now();
    app.rooms.admit(&drop, &spec, now).await?;
    let status = app
        .rooms
        .room
        .status(&room_key(drop.id), &spec, buyer, now)
        .await
        .map_err(room_error)?;
    match status {
        Status::InRoom(ticket) => Ok(ticket),
        Status::Expired { ticket, reason } => {
            let (reason, message) = match reason {
                ExpiryReason::Abandoned => (
                    "abandoned",
                    "the place was lost: it went unpolled for too long; join again to queue at the back",
                ),
                ExpiryReason::PassExpired => (
                    "pass_expired",
                    "the pass expired unused; join again to queue at the back",
                ),
            };
            Err(AppError::new(ErrorCode::QueueExpired, message)
                .with_details(json!({ "ticket": ticket, "reason": reason })))
        }
        Status::NotInQueue => Err(AppError::new(
            ErrorCode::NotInQueue,
            "you hold no place in this waiting room: join it first",
        )),
    }
}

/// The room's numbers, for the drop's seller (`viewer`) or an admin; 404 for anyone else.
pub async fn stats(
    app: &App,
    viewer: Uuid,
    admin: bool,
    drop_id: Uuid,
) -> Result<RoomStats, AppError> {
    let drop = app.drops.get(&app.store, drop_id).await?;
    if drop.seller_id != viewer && !admin {
        return Err(AppError::not_found());
    }
    let (drop, spec) = room_of(app, drop.id).await?;
    room_stats(app, &drop, &spec).await
}

/// The figures of `drop`'s room for its sale's statistics; `None` without a room, or when the
/// room holds no record of the sale (an in-process room that restarted since: unknown, not 0).
pub(crate) async fn sale_figures(
    app: &App,
    drop: &ProductDrop,
) -> Result<Option<RoomFigures>, AppError> {
    let Some(spec) = app.rooms.spec(drop) else {
        return Ok(None);
    };
    let stats = room_stats(app, drop, &spec).await?;
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Ok((stats.peak_waiting > 0).then(|| RoomFigures {
        peak_waiting: count(stats.peak_waiting),
        admitted: count(stats.admitted),
        used: count(stats.used),
        median_wait_seconds: stats.median_wait.map(|wait| wait.num_seconds()),
    }))
}

async fn room_stats(app: &App, drop: &ProductDrop, spec: &RoomSpec) -> Result<RoomStats, AppError> {
    app.rooms
        .room
        .stats(&room_key(drop.id), spec, app.clock.now())
        .await
        .map_err(room_error)
}

/// The `admit_waiting_rooms` job: one admission step for every open drop with a room, and the
/// seed of each room that opened published.
pub async fn admit_open_rooms(app: &App) -> Result<(), AppError> {
    let now = app.clock.now();
    let (mut waiting, mut active) = (0, 0);
    for drop in app.store.drops_with_open_rooms(now).await? {
        let Some(spec) = app.rooms.spec(&drop) else {
            continue;
        };
        app.rooms.admit(&drop, &spec, now).await?;
        if drop.queue_seed.is_none() {
            app.rooms.published_seed(app, &drop).await?;
        }
        let stats = app
            .rooms
            .room
            .stats(&room_key(drop.id), &spec, now)
            .await
            .map_err(room_error)?;
        waiting += stats.waiting;
        active += stats.active;
    }
    // The length of every open room together, as of this step (once a second, on the node
    // that ran it): one series however many drops there are.
    metrics::gauge!("rushline_room_waiting").set(waiting as f64);
    metrics::gauge!("rushline_room_active_passes").set(active as f64);
    Ok(())
}
