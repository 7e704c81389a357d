//! Raffles, of drops and of trials: entering (a row written through the group commit, no stock,
//! no hot row), where an entrant stands, the draw at the close of entries, the sweep that offers
//! places down the draw order (a drop's winners buy within a window, and a window that passes or
//! a hold that lapses rolls the place on; a trial's are selected as testers, and one who cancels
//! passes the slot on), and the published draw anyone can recompute.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::drop::{Window, window_status};
use rushline_domain::notification::Event;
use rushline_domain::raffle::{
    ALGORITHM, DEFAULT_CLAIM_WINDOW_MINUTES, PlaceOutcome, draw_order, seed_commitment,
};
use rushline_domain::trial::validate_motivation;
use rushline_domain::{ApplicationStatus, DropStatus, EntryStatus};
use rushline_gate::PoolKey;
use rushline_jobs::Registry;
use rushline_store::{
    Audience, ClaimWrite, CommitOutcome, DbError, NewEntry, ProductDrop, RaffleKind,
    RaffleSettings, RaffleSweep, Store, Trial,
};
use uuid::Uuid;

use crate::claims::{Creates, first_attempt, request_id};
use crate::notifications::{notice, shown};
use crate::{App, AppError, ErrorCode};

/// Entry ids per page of a published draw, at most.
pub const MAX_DRAW_PAGE: u32 = 10_000;

/// An entry: the first answer, given again to every retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entered {
    pub entry_id: Uuid,
    /// The drop's or the trial's id.
    pub raffle_id: Uuid,
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

/// What a raffle allocates, as the hot path reads it (from the node's cache).
enum Subject {
    Drop(Arc<ProductDrop>),
    Trial(Arc<Trial>),
}

impl Subject {
    async fn get(app: &App, kind: RaffleKind, id: Uuid) -> Result<Self, AppError> {
        Ok(match kind {
            RaffleKind::Drop => Subject::Drop(app.drops.get(&app.store, id).await?),
            RaffleKind::Trial => Subject::Trial(app.trials.get(&app.store, id).await?),
        })
    }

    /// Its raffle; 409 `not_a_raffle` for a first-come drop or trial.
    fn raffle(&self) -> Result<&RaffleSettings, AppError> {
        let raffle = match self {
            Subject::Drop(drop) => drop.raffle.as_ref(),
            Subject::Trial(trial) => trial.raffle.as_ref(),
        };
        raffle.ok_or_else(|| {
            AppError::new(
                ErrorCode::NotARaffle,
                "this is first come, first served: it takes no entries and has no draw",
            )
        })
    }

    fn opens_at(&self) -> DateTime<Utc> {
        match self {
            Subject::Drop(drop) => drop.opens_at,
            Subject::Trial(trial) => trial.opens_at,
        }
    }

    /// When no more places are offered: a drop's close, or a trial's first review deadline.
    fn offers_end_at(&self) -> DateTime<Utc> {
        match self {
            Subject::Drop(drop) => drop.closes_at,
            Subject::Trial(trial) => trial.gives_back_until(),
        }
    }
}

/// Enters `buyer` in the raffle of the drop or trial `id`, under the request's idempotency
/// `key`; a trial's entrant may say why (`motivation`).
pub async fn enter(
    app: &App,
    buyer: Uuid,
    key: &str,
    kind: RaffleKind,
    id: Uuid,
    motivation: Option<String>,
) -> Result<Entered, AppError> {
    let subject = Subject::get(app, kind, id).await?;
    let raffle = subject.raffle()?;
    validate_motivation(motivation.as_deref())?;
    let now = app.clock.now();
    let entry_id = request_id(buyer, Creates::Entry, key);
    let asked = Asked {
        buyer,
        raffle_id: id,
        entry_id,
        motivation,
    };
    if now < subject.opens_at() {
        return Err(AppError::new(
            ErrorCode::NotOpen,
            "entries have not opened yet",
        ));
    }
    if now >= raffle.entries_close_at {
        return asked
            .answer_first(app, || {
                AppError::new(ErrorCode::Closed, "entries have closed")
            })
            .await;
    }
    if let Subject::Trial(trial) = &subject
        && trial.paused_at.is_some()
    {
        return asked.answer_first(app, crate::trials::paused).await;
    }
    let write = ClaimWrite::Entry(NewEntry {
        id: entry_id,
        raffle_id: id,
        user_id: buyer,
        idempotency_key: key.to_owned(),
        motivation: asked.motivation.clone(),
        entered_at: now,
    });
    match app.claims.commit(write).await? {
        CommitOutcome::Committed => Ok(Entered {
            entry_id,
            raffle_id: id,
            status: EntryStatus::Entered,
        }),
        CommitOutcome::Duplicate => asked.replay(app).await,
        CommitOutcome::AlreadyEntered => Err(already_entered()),
        CommitOutcome::EntriesClosed => {
            asked
                .answer_first(app, || {
                    AppError::new(ErrorCode::Closed, "entries have closed")
                })
                .await
        }
        other => Err(AppError::internal(format!(
            "an entry was refused with {other:?}"
        ))),
    }
}

/// What an entry asked for: enough to tell its retry from another request under its key.
struct Asked {
    buyer: Uuid,
    raffle_id: Uuid,
    entry_id: Uuid,
    motivation: Option<String>,
}

impl Asked {
    /// After the close (or behind a pause): the first answer to a retry of an entry that went
    /// through, the refusal otherwise.
    async fn answer_first(
        &self,
        app: &App,
        refusal: impl FnOnce() -> AppError,
    ) -> Result<Entered, AppError> {
        match app.store.entry(self.entry_id).await {
            Ok(_) => self.replay(app).await,
            Err(DbError::NotFound) => Err(refusal()),
            Err(e) => Err(e.into()),
        }
    }

    async fn replay(&self, app: &App) -> Result<Entered, AppError> {
        let entry = first_attempt(|| app.store.entry(self.entry_id)).await?;
        if entry.user_id != self.buyer
            || entry.raffle_id != self.raffle_id
            || entry.motivation != self.motivation
        {
            return Err(AppError::idempotency_mismatch());
        }
        Ok(Entered {
            entry_id: self.entry_id,
            raffle_id: self.raffle_id,
            status: EntryStatus::Entered,
        })
    }
}

fn already_entered() -> AppError {
    AppError::new(
        ErrorCode::AlreadyEntered,
        "you have entered this raffle before",
    )
}

/// Where `buyer` stands in the raffle of the drop or trial `id`; 404 without an entry.
pub async fn standing(
    app: &App,
    buyer: Uuid,
    kind: RaffleKind,
    id: Uuid,
) -> Result<Standing, AppError> {
    let subject = Subject::get(app, kind, id).await?;
    let raffle = subject.raffle()?;
    let entry = app.store.raffle_entry(id, buyer).await?;
    let now = app.clock.now();
    let ended = now >= subject.offers_end_at() || raffle.exhausted_at.is_some();
    let status = match (&subject, entry.position, entry.place.outcome) {
        (_, None, _) => EntryStatus::Entered,
        // A selected tester: until they give the slot back.
        (Subject::Trial(_), Some(_), Some(PlaceOutcome::Purchased)) => {
            match app.store.application(entry.id).await?.status {
                ApplicationStatus::Cancelled => EntryStatus::Expired,
                _ => EntryStatus::Won,
            }
        }
        (Subject::Trial(_), Some(_), Some(PlaceOutcome::Expired)) => EntryStatus::Expired,
        (Subject::Trial(_), Some(_), None) if ended => EntryStatus::Lost,
        (Subject::Trial(_), Some(_), None) => EntryStatus::Waitlisted,
        (Subject::Drop(_), Some(_), _) => entry.place.status(now, ended),
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

/// A page of the published draw of the drop or trial `id`, from `cursor` (a previous page's
/// `next_cursor`); 409 `not_drawn` before the draw.
pub async fn draw(
    app: &App,
    kind: RaffleKind,
    id: Uuid,
    cursor: Option<&str>,
    limit: u32,
) -> Result<DrawPage, AppError> {
    Subject::get(app, kind, id).await?.raffle()?;
    let (from, after) = match cursor {
        None => (0, None),
        Some(cursor) => parse_cursor(cursor).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidCursor,
                "the cursor did not come from this list",
            )
        })?,
    };
    let Some(seed) = app.store.revealed_seed(id).await? else {
        return Err(AppError::new(
            ErrorCode::NotDrawn,
            "the raffle has not been drawn yet",
        ));
    };
    // The cached copy may predate the draw; the draw's own record does not.
    let fresh = match kind {
        RaffleKind::Drop => app.store.drop_by_id(id).await?.raffle,
        RaffleKind::Trial => app.store.trial(id).await?.raffle,
    };
    let total = fresh.and_then(|raffle| raffle.entrants).unwrap_or(0);
    let entrants = app.store.entrants_page(id, after, limit).await?;
    let order = app.store.draw_page(id, from, limit).await?;
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
}

/// Draws every raffle whose entries have closed, and sweeps every drawn one with places left to
/// decide.
/// One raffle's failure does not hold up the others; the first is answered once all were tried.
pub async fn advance(app: &App, now: DateTime<Utc>) -> Result<(), AppError> {
    let mut failed = Ok(());
    for (id, kind) in app.store.raffles_due(now).await? {
        let advanced = match kind {
            RaffleKind::Drop => advance_drop(app, id, now).await,
            RaffleKind::Trial => advance_trial(app, id, now).await,
        };
        if let Err(e) = advanced {
            tracing::error!(raffle = %id, error = ?e, "could not advance a raffle");
            failed = failed.and(Err(e));
        }
    }
    failed
}

async fn advance_drop(app: &App, id: Uuid, now: DateTime<Utc>) -> Result<(), AppError> {
    let drop = app.store.drop_by_id(id).await?;
    let Some(raffle) = &drop.raffle else {
        return Ok(());
    };
    if raffle.drawn_at.is_none() {
        hold_draw(&app.store, drop.id, now).await?;
    }
    let window = TimeDelta::minutes(i64::from(
        raffle
            .claim_window_minutes
            .unwrap_or(DEFAULT_CLAIM_WINDOW_MINUTES as i32),
    ));
    let claim_until = (now + window).min(drop.closes_at);
    let title = app.store.product(drop.product_id).await?.name;
    // The offers of the sweep that follows the draw go to its winners; later ones to entrants a
    // place rolled down to.
    let offered = if raffle.drawn_at.is_none() {
        Event::RaffleWon
    } else {
        Event::RaffleWaitlistPromoted
    };
    let mut offers = notice(
        offered,
        Audience::RaffleOffered {
            raffle: drop.id,
            at: now,
        },
        drop.id,
        [("title", title.clone()), ("until", shown(claim_until))],
        now,
    );
    // Two sweeps at one instant offer under one time: the second's job tells the union again,
    // which writes only the inbox rows of those it adds.
    offers.dedupe_key = None;
    let lost = notice(
        Event::RaffleLost,
        Audience::RaffleLosers { raffle: drop.id },
        drop.id,
        [("title", title)],
        now,
    );
    let swept = app
        .store
        .sweep_raffle(&RaffleSweep {
            raffle_id: drop.id,
            pool_key: drop.pool_key(),
            per_user_limit: i64::from(drop.per_user_limit),
            now,
            claim_until,
            offers_end_at: drop.closes_at,
            offers,
            lost,
        })
        .await?;
    if swept.offered > 0 || swept.exhausted || raffle.drawn_at.is_none() {
        tracing::info!(drop = %drop.id, offered = swept.offered, exhausted = swept.exhausted, "raffle swept");
        app.drops.forget(drop.id).await;
    }
    Ok(())
}

/// Selects the next entrants in draw order for the trial's free slots, each through the same
/// claim and group commit as a first-come application (so a barred tester is refused and
/// passed over, and the selection mails them); until its first review deadline.
async fn advance_trial(app: &App, id: Uuid, now: DateTime<Utc>) -> Result<(), AppError> {
    let trial = app.store.trial(id).await?;
    let Some(raffle) = &trial.raffle else {
        return Ok(());
    };
    if raffle.drawn_at.is_none() {
        hold_draw(&app.store, trial.id, now).await?;
        app.trials.forget(trial.id).await;
        return Ok(());
    }
    let lost = notice(
        Event::TrialNotSelected,
        Audience::RaffleLosers { raffle: trial.id },
        trial.id,
        [("title", trial.title.clone())],
        now,
    );
    if now >= trial.gives_back_until() {
        app.store.exhaust_raffle(trial.id, now, &lost).await?;
        return Ok(());
    }
    let pool = PoolKey(trial.pool_key());
    let free = app.claims.gate.remaining(&pool).await?.unwrap_or(0);
    if free == 0 {
        return Ok(());
    }
    let places = app
        .store
        .next_places(trial.id, u32::try_from(free).unwrap_or(u32::MAX))
        .await?;
    if places.is_empty() {
        app.store.exhaust_raffle(trial.id, now, &lost).await?;
        return Ok(());
    }
    for entry in places {
        let selected = crate::trials::select(
            app,
            &trial,
            entry.user_id,
            entry.id,
            entry.motivation.clone(),
            now,
        )
        .await;
        let outcome = match selected {
            Ok(_) => PlaceOutcome::Purchased,
            Err(e) if matches!(e.code(), ErrorCode::TrialBarred | ErrorCode::AlreadyApplied) => {
                PlaceOutcome::Expired
            }
            // Full (a slot went meanwhile) or paused: the next sweep goes on.
            Err(e) if matches!(e.code(), ErrorCode::TrialFull | ErrorCode::Paused) => break,
            Err(e) => return Err(e),
        };
        app.store.settle_place(entry.id, now, outcome).await?;
    }
    Ok(())
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
