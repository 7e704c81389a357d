//! Raffle drops: entering (a row written through the group commit, no stock, no hot row), where
//! an entrant stands, the draw at the close of entries, the sweep that offers places down the
//! draw order as windows pass and holds lapse, the winners' right to buy, and the published
//! draw anyone can recompute.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::drop::{Window, window_status};
use rushline_domain::raffle::{ALGORITHM, draw_order, seed_commitment};
use rushline_domain::{Allocation, DropStatus, EntryStatus};
use rushline_jobs::{Job, Registry, new_job};
use rushline_mail::Mail;
use rushline_store::{
    ClaimWrite, CommitOutcome, DbError, NewEntry, ProductDrop, RaffleSweep, Store,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::claims::{Creates, first_attempt, request_id};
use crate::mail::SendMail;
use crate::{App, AppError, ErrorCode};

/// Entry ids per page of a published draw, at most.
pub const MAX_DRAW_PAGE: u32 = 10_000;

/// An entry: the first answer, given again to every retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entered {
    pub entry_id: Uuid,
    pub drop_id: Uuid,
    pub status: EntryStatus,
}

/// Where an entrant stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub entry_id: Uuid,
    pub status: EntryStatus,
    /// Place in draw order, from 0; `None` before the draw.
    pub position: Option<i64>,
    /// The end of the entrant's claim window, once offered a place.
    pub claim_until: Option<DateTime<Utc>>,
}

/// One page of a published draw: both lists from the same index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawPage {
    pub seed: String,
    pub seed_commitment: String,
    pub algorithm: &'static str,
    pub total: i64,
    /// Entry ids in canonical order (ascending).
    pub entrants: Vec<Uuid>,
    /// Entry ids in draw order.
    pub order: Vec<Uuid>,
    pub next_cursor: Option<String>,
}

/// Enters `buyer` in the raffle of drop `drop_id`, under the request's idempotency `key`.
pub async fn enter(app: &App, buyer: Uuid, key: &str, drop_id: Uuid) -> Result<Entered, AppError> {
    let drop = app.drops.get(&app.store, drop_id).await?;
    let raffle = raffle_of(&drop)?;
    let now = app.clock.now();
    let entry_id = request_id(buyer, Creates::Entry, key);
    if now < drop.opens_at {
        return Err(AppError::new(
            ErrorCode::NotOpen,
            "entries have not opened yet",
        ));
    }
    if now >= raffle.entries_close_at {
        return answer_first(app, buyer, drop_id, entry_id).await;
    }
    let write = ClaimWrite::Entry(NewEntry {
        id: entry_id,
        raffle_id: drop.id,
        user_id: buyer,
        idempotency_key: key.to_owned(),
        entered_at: now,
    });
    match app.claims.commit(write).await? {
        CommitOutcome::Committed => Ok(Entered {
            entry_id,
            drop_id,
            status: EntryStatus::Entered,
        }),
        CommitOutcome::Duplicate => replay(app, buyer, drop_id, entry_id).await,
        CommitOutcome::AlreadyEntered => Err(already_entered()),
        CommitOutcome::EntriesClosed => answer_first(app, buyer, drop_id, entry_id).await,
        other => Err(AppError::internal(format!(
            "an entry was refused with {other:?}"
        ))),
    }
}

fn already_entered() -> AppError {
    AppError::new(
        ErrorCode::AlreadyEntered,
        "you have entered this raffle before",
    )
}

/// After the close of entries: the first answer to a retry of an entry that went through, the
/// refusal otherwise.
async fn answer_first(
    app: &App,
    buyer: Uuid,
    drop_id: Uuid,
    entry_id: Uuid,
) -> Result<Entered, AppError> {
    match app.store.entry(entry_id).await {
        Ok(_) => replay(app, buyer, drop_id, entry_id).await,
        Err(DbError::NotFound) => Err(AppError::new(ErrorCode::Closed, "entries have closed")),
        Err(e) => Err(e.into()),
    }
}

async fn replay(
    app: &App,
    buyer: Uuid,
    drop_id: Uuid,
    entry_id: Uuid,
) -> Result<Entered, AppError> {
    let entry = first_attempt(|| app.store.entry(entry_id)).await?;
    if entry.user_id != buyer || entry.raffle_id != drop_id {
        return Err(AppError::idempotency_mismatch());
    }
    Ok(Entered {
        entry_id,
        drop_id,
        status: EntryStatus::Entered,
    })
}

/// Where `buyer` stands in the raffle of drop `drop_id`; 404 without an entry.
pub async fn standing(app: &App, buyer: Uuid, drop_id: Uuid) -> Result<Standing, AppError> {
    let drop = app.drops.get(&app.store, drop_id).await?;
    let raffle = raffle_of(&drop)?;
    let entry = app.store.raffle_entry(drop_id, buyer).await?;
    let now = app.clock.now();
    let ended = now >= drop.closes_at || raffle.exhausted_at.is_some();
    let status = match entry.position {
        None => EntryStatus::Entered,
        Some(_) => entry.place.status(now, ended),
    };
    Ok(Standing {
        entry_id: entry.id,
        status,
        position: entry.position,
        claim_until: entry.place.claim_until,
    })
}

/// Whether `buyer` may buy from raffle drop `drop` at `now`: a winner within their window.
pub(crate) async fn check_winner(
    app: &App,
    drop: &ProductDrop,
    buyer: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let not_a_winner = || {
        AppError::new(
            ErrorCode::NotAWinner,
            "only a winner of the raffle may buy, within their claim window",
        )
    };
    match app.store.raffle_entry(drop.id, buyer).await {
        Ok(entry) if entry.place.may_buy(now) => Ok(()),
        Ok(_) | Err(DbError::NotFound) => Err(not_a_winner()),
        Err(e) => Err(e.into()),
    }
}

/// The status of a raffle drop at `now`, given what the gate says remains.
pub fn status(drop: &ProductDrop, now: DateTime<Utc>, remaining: u64) -> DropStatus {
    let Some(raffle) = &drop.raffle else {
        return DropStatus::shown(now, drop.opens_at, drop.closes_at, remaining);
    };
    match window_status(now, drop.opens_at, drop.closes_at) {
        Window::Scheduled => DropStatus::Scheduled,
        Window::Open if now < raffle.entries_close_at => DropStatus::Open,
        Window::Open if raffle.drawn_at.is_none() => DropStatus::Drawing,
        Window::Open if remaining == 0 => DropStatus::SoldOut,
        Window::Open if raffle.exhausted_at.is_some() => DropStatus::Closed,
        Window::Open => DropStatus::Claiming,
        Window::Closed => DropStatus::Closed,
    }
}

/// A page of the published draw of drop `drop_id`, from `cursor` (a previous page's
/// `next_cursor`); 409 `not_drawn` before the draw.
pub async fn draw(
    app: &App,
    drop_id: Uuid,
    cursor: Option<&str>,
    limit: u32,
) -> Result<DrawPage, AppError> {
    let drop = app.drops.get(&app.store, drop_id).await?;
    raffle_of(&drop)?;
    let (from, after) = match cursor {
        None => (0, None),
        Some(cursor) => parse_cursor(cursor).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidCursor,
                "the cursor did not come from this list",
            )
        })?,
    };
    let Some(seed) = app.store.revealed_seed(drop_id).await? else {
        return Err(AppError::new(
            ErrorCode::NotDrawn,
            "the raffle has not been drawn yet",
        ));
    };
    // The drop as cached may predate the draw; the draw's own record does not.
    let total = app
        .store
        .drop_by_id(drop_id)
        .await?
        .raffle
        .and_then(|raffle| raffle.entrants)
        .unwrap_or(0);
    let entrants = app.store.entrants_page(drop_id, after, limit).await?;
    let order = app.store.draw_page(drop_id, from, limit).await?;
    let next = from + entrants.len() as i64;
    let next_cursor = match entrants.last() {
        Some(last) if next < total => Some(format!("{next}.{last}")),
        _ => None,
    };
    Ok(DrawPage {
        seed: hex::encode(seed),
        seed_commitment: seed_commitment(&seed),
        algorithm: ALGORITHM,
        total,
        entrants,
        order,
        next_cursor,
    })
}

/// `<index>.<last entry id>`.
fn parse_cursor(cursor: &str) -> Option<(i64, Option<Uuid>)> {
    let (index, last) = cursor.split_once('.')?;
    let index: i64 = index.parse().ok().filter(|index| *index > 0)?;
    Some((index, Some(last.parse().ok()?)))
}

/// The raffle of a raffle drop; 409 `not_a_raffle` for a first-come drop.
fn raffle_of(drop: &ProductDrop) -> Result<&rushline_store::RaffleSettings, AppError> {
    match (&drop.raffle, drop.allocation) {
        (Some(raffle), Allocation::Raffle) => Ok(raffle),
        _ => Err(AppError::new(
            ErrorCode::NotARaffle,
            "the drop is first come, first served: buy directly",
        )),
    }
}

/// Tells everyone offered a place of a raffle at `offered_at`: enqueued with the offers.
#[derive(Debug, Serialize, Deserialize)]
pub struct RaffleOffers {
    pub drop_id: Uuid,
    pub offered_at: DateTime<Utc>,
}

impl Job for RaffleOffers {
    const KIND: &'static str = "raffle_offers";
}

pub(crate) fn register_jobs(registry: &mut Registry, app: &Arc<App>) {
    let sweeper = app.clone();
    registry.every(
        "advance_raffles",
        std::time::Duration::from_secs(1),
        move |_| {
            let app = sweeper.clone();
            async move {
                advance(&app, app.clock.now())
                    .await
                    .map_err(|e| anyhow::anyhow!("advancing raffles failed: {e:?}"))
            }
        },
    );
    let teller = app.clone();
    registry.handle(move |job: RaffleOffers| {
        let app = teller.clone();
        async move {
            tell(&app, &job)
                .await
                .map_err(|e| anyhow::anyhow!("telling raffle winners failed: {e:?}"))
        }
    });
}

/// Draws every raffle whose entries have closed, and sweeps every drawn one with places left to
/// decide.
pub async fn advance(app: &App, now: DateTime<Utc>) -> Result<(), AppError> {
    for id in app.store.raffles_due(now).await? {
        let drop = app.store.drop_by_id(id).await?;
        let Some(raffle) = &drop.raffle else { continue };
        if raffle.drawn_at.is_none() {
            hold_draw(&app.store, drop.id, now).await?;
        }
        let window = TimeDelta::minutes(i64::from(raffle.claim_window_minutes));
        let swept = app
            .store
            .sweep_raffle(&RaffleSweep {
                raffle_id: drop.id,
                pool_key: drop.pool_key(),
                per_user_limit: i64::from(drop.per_user_limit),
                now,
                claim_until: (now + window).min(drop.closes_at),
                offers_end_at: drop.closes_at,
                job: offers_job(drop.id, now),
            })
            .await?;
        if swept.offered > 0 || swept.exhausted || raffle.drawn_at.is_none() {
            tracing::info!(drop = %drop.id, offered = swept.offered, exhausted = swept.exhausted, "raffle swept");
            app.drops.forget(drop.id).await;
        }
    }
    Ok(())
}

fn offers_job(drop_id: Uuid, offered_at: DateTime<Utc>) -> rushline_store::NewJob {
    let mut job = new_job(
        &RaffleOffers {
            drop_id,
            offered_at,
        },
        offered_at,
    );
    job.dedupe_key = Some(format!(
        "raffle_offers:{drop_id}:{}",
        offered_at.timestamp_micros()
    ));
    job
}

/// Closes the raffle of drop `drop_id` to entries, orders the entrants as the published
/// algorithm does, and records the order at `now`; returns how many entrants it drew.
pub async fn hold_draw(
    store: &Arc<dyn Store>,
    drop_id: Uuid,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let started = Instant::now();
    let seed = store.close_entries(drop_id, now).await?;
    let entrants = store.raffle_entrants(drop_id).await?;
    let users: HashMap<Uuid, Uuid> = entrants.iter().copied().collect();
    let ids: Vec<Uuid> = entrants.iter().map(|(entry, _)| *entry).collect();
    let order: Vec<(Uuid, Uuid)> = draw_order(&seed, &ids)
        .into_iter()
        .map(|entry| (entry, users[&entry]))
        .collect();
    store.record_draw(drop_id, &order, now).await?;
    metrics::histogram!("rushline_raffle_draw_seconds").record(started.elapsed().as_secs_f64());
    tracing::info!(drop = %drop_id, entrants = order.len(), elapsed = ?started.elapsed(), "raffle drawn");
    Ok(order.len())
}

/// Mails each entrant offered a place at the job's time, once each.
async fn tell(app: &App, job: &RaffleOffers) -> Result<(), AppError> {
    let drop = app.store.drop_by_id(job.drop_id).await?;
    let product = app.store.product(drop.product_id).await?;
    let now = app.clock.now();
    for offer in app.store.offers_made(job.drop_id, job.offered_at).await? {
        let mail = Mail {
            to: offer.email,
            subject: format!("You won the raffle for \"{}\"", product.name),
            text: format!(
                "Hello {}, you may buy \"{}\" until {}. After that, your place goes to the next \
                 entrant in the draw.",
                offer.name,
                product.name,
                offer.claim_until.to_rfc3339()
            ),
        };
        let mut send = new_job(&SendMail(mail), now);
        send.dedupe_key = Some(format!("raffle_won:{}", offer.entry_id));
        app.store.enqueue(&send, now).await?;
    }
    Ok(())
}
