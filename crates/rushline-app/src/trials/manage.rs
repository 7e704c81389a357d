//! A seller's trials: creating one (idempotently), changing and deleting it while scheduled,
//! pausing and resuming it while open, its applications and its statistics. Only its seller or
//! an admin sees it as theirs; anyone else is told it does not exist.

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::drop::{Window, window_status};
use rushline_domain::raffle::{Seed, seed_commitment};
use rushline_domain::{Allocation, Role, TrialTerms, ValidTrialTerms};
use rushline_gate::PoolKey;
use rushline_store::{
    ApplicationFilter, DbError, RaffleSettings, TRIAL_NOT_SCHEDULED, Trial, TrialApplication,
    TrialCounts, trial_pool_key,
};
use uuid::Uuid;

use crate::claims::{Creates, created_id};
use crate::{App, AppError, AuthUser, ErrorCode};

/// What a `PATCH` of a trial changes; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct TrialChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub slots: Option<i64>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub review_due_days: Option<i64>,
}

/// A trial's statistics, for its seller and admins.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialStats {
    /// Applications recorded (a first-come trial records only selections).
    pub applicants: i64,
    /// Applications holding a slot now.
    pub selected: i64,
    /// From `opens_at` to the last slot taken, once every slot is; `None` while any is free.
    pub time_to_fill: Option<TimeDelta>,
    /// Reviews written per selected tester (late ones too), 0 to 1.
    pub review_rate: f64,
    /// The mean rating of the testers' visible reviews; `None` without any.
    pub average_rating: Option<f64>,
}

/// Creates a trial of one of `seller`'s products, first come or (`allocation` raffle) drawn at its
/// close. With an idempotency `key`, a retry gets the trial the first attempt created, and
/// different terms under the same key `idempotency_mismatch`.
pub async fn create_trial(
    app: &App,
    seller: AuthUser,
    key: Option<&str>,
    product_id: Uuid,
    terms: TrialTerms,
    allocation: Allocation,
) -> Result<Trial, AppError> {
    if seller.role == Role::Buyer {
        return Err(AppError::forbidden());
    }
    let now = app.clock.now();
    let terms = terms.validate(now)?;
    match app.store.product(product_id).await {
        Ok(product) if product.seller_id == seller.id && product.deleted_at.is_none() => {}
        Ok(_) | Err(DbError::NotFound) => return Err(AppError::not_found()),
        Err(e) => return Err(e.into()),
    }
    let trial = with_terms(
        Trial {
            id: created_id(seller.id, Creates::Trial, key),
            product_id,
            seller_id: seller.id,
            title: String::new(),
            description: String::new(),
            slots: 0,
            opens_at: now,
            closes_at: now,
            review_due_days: 0,
            allocation,
            raffle: None,
            paused_at: None,
            created_at: now,
            updated_at: now,
        },
        terms,
    );
    let seed: Option<Seed> = (allocation == Allocation::Raffle).then(rand::random);
    let trial = Trial {
        raffle: seed.map(|seed| RaffleSettings {
            entries_close_at: trial.closes_at,
            claim_window_minutes: None,
            seed_commitment: seed_commitment(&seed),
            drawn_at: None,
            entrants: None,
            exhausted_at: None,
        }),
        ..trial
    };
    match app.store.create_trial(&trial, seed.as_ref()).await {
        Ok(()) => Ok(trial),
        Err(DbError::Conflict { .. }) if key.is_some() => replay(app, &trial).await,
        Err(e) => Err(e.into()),
    }
}

/// The trial with `terms`; a raffle trial's entries close with its window.
fn with_terms(trial: Trial, terms: ValidTrialTerms) -> Trial {
    Trial {
        raffle: trial.raffle.map(|raffle| RaffleSettings {
            entries_close_at: terms.closes_at,
            ..raffle
        }),
        title: terms.title,
        description: terms.description,
        slots: terms.slots,
        opens_at: terms.opens_at,
        closes_at: terms.closes_at,
        review_due_days: terms.review_due_days,
        ..trial
    }
}

/// The trial a retried creation's first attempt created, if it asked for the same.
async fn replay(app: &App, asked: &Trial) -> Result<Trial, AppError> {
    let first = app.store.trial(asked.id).await?;
    let terms = |trial: &Trial| {
        (
            trial.product_id,
            trial.seller_id,
            trial.title.clone(),
            trial.description.clone(),
            trial.slots,
            [trial.opens_at, trial.closes_at],
            trial.review_due_days,
            trial.allocation,
        )
    };
    if terms(&first) != terms(asked) {
        return Err(AppError::idempotency_mismatch());
    }
    Ok(first)
}

/// Changes a trial's terms while it is scheduled; the gate rebuilds its pool from the new ones.
pub async fn update_trial(
    app: &App,
    caller: AuthUser,
    id: Uuid,
    changes: TrialChanges,
) -> Result<Trial, AppError> {
    let now = app.clock.now();
    let current = owned_trial(app, caller, id).await?;
    let terms = TrialTerms {
        title: changes.title.unwrap_or_else(|| current.title.clone()),
        description: changes
            .description
            .unwrap_or_else(|| current.description.clone()),
        slots: changes.slots.unwrap_or(current.slots),
        opens_at: changes.opens_at.unwrap_or(current.opens_at),
        closes_at: changes.closes_at.unwrap_or(current.closes_at),
        review_due_days: changes
            .review_due_days
            .unwrap_or(i64::from(current.review_due_days)),
    }
    .validate(now)?;
    let trial = with_terms(
        Trial {
            updated_at: now,
            ..current
        },
        terms,
    );
    app.store
        .update_trial(&trial, now)
        .await
        .map_err(not_scheduled)?;
    forget(app, id).await?;
    Ok(trial)
}

/// Deletes a trial while it is scheduled.
pub async fn delete_trial(app: &App, caller: AuthUser, id: Uuid) -> Result<(), AppError> {
    owned_trial(app, caller, id).await?;
    app.store
        .delete_trial(id, app.clock.now())
        .await
        .map_err(not_scheduled)?;
    forget(app, id).await
}

/// Forgets this node's copies of a trial whose terms changed: the cached trial and the gate's
/// pool, which reloads from the new total.
async fn forget(app: &App, id: Uuid) -> Result<(), AppError> {
    app.trials.forget(id).await;
    app.claims
        .gate
        .invalidate(&PoolKey(trial_pool_key(id)))
        .await?;
    Ok(())
}

/// Pauses an open trial: applications are refused (409 `paused`) from the moment this returns
/// (on other nodes, the group commit refuses any that got through). Pausing a paused trial
/// changes nothing.
pub async fn pause(app: &App, caller: AuthUser, id: Uuid) -> Result<Trial, AppError> {
    set_paused(app, caller, id, true).await
}

/// Resumes a paused trial; resuming one that is not paused changes nothing.
pub async fn resume(app: &App, caller: AuthUser, id: Uuid) -> Result<Trial, AppError> {
    set_paused(app, caller, id, false).await
}

async fn set_paused(
    app: &App,
    caller: AuthUser,
    id: Uuid,
    paused: bool,
) -> Result<Trial, AppError> {
    let trial = owned_trial(app, caller, id).await?;
    let now = app.clock.now();
    match window_status(now, trial.opens_at, trial.closes_at) {
        Window::Scheduled => {
            return Err(AppError::new(
                ErrorCode::NotOpen,
                "only an open trial can be paused or resumed",
            ));
        }
        Window::Closed => {
            return Err(AppError::new(ErrorCode::Closed, "the trial has closed"));
        }
        Window::Open => {}
    }
    if trial.paused_at.is_some() == paused {
        return Ok(trial);
    }
    let trial = app
        .store
        .set_trial_paused(id, paused.then_some(now), now)
        .await?;
    app.trials.forget(id).await;
    Ok(trial)
}

/// A trial's applications, newest first: for its seller and admins.
pub async fn applications(
    app: &App,
    caller: AuthUser,
    mut filter: ApplicationFilter,
) -> Result<Vec<TrialApplication>, AppError> {
    let trial_id = filter.trial_id.ok_or_else(AppError::not_found)?;
    owned_trial(app, caller, trial_id).await?;
    filter.buyer_id = None;
    Ok(app.store.list_applications(&filter).await?)
}

/// A trial's statistics: for its seller and admins.
pub async fn stats(app: &App, caller: AuthUser, id: Uuid) -> Result<TrialStats, AppError> {
    let trial = owned_trial(app, caller, id).await?;
    let counts = app.store.trial_counts(&[id]).await?;
    Ok(stats_of(&trial, &counts[&id]))
}

/// The statistics of `trial` from its `counts`.
pub fn stats_of(trial: &Trial, counts: &TrialCounts) -> TrialStats {
    let time_to_fill = counts
        .last_selected_at
        .filter(|_| counts.selected >= trial.slots)
        .map(|last| last - trial.opens_at);
    #[expect(
        clippy::cast_precision_loss,
        reason = "counts are at most 100,000 slots"
    )]
    let review_rate = if counts.selected == 0 {
        0.0
    } else {
        (counts.reviews as f64 / counts.selected as f64).min(1.0)
    };
    TrialStats {
        applicants: counts.applicants,
        selected: counts.selected,
        time_to_fill,
        review_rate,
        average_rating: counts.average_rating,
    }
}

/// The trial, when `caller` is its seller or an admin; 404 for everyone else.
pub async fn owned_trial(app: &App, caller: AuthUser, id: Uuid) -> Result<Trial, AppError> {
    let trial = app.store.trial(id).await?;
    if trial.seller_id != caller.id && !caller.is_admin() {
        return Err(AppError::not_found());
    }
    Ok(trial)
}

fn not_scheduled(e: DbError) -> AppError {
    if e.is_conflict_on(TRIAL_NOT_SCHEDULED) {
        AppError::new(
            ErrorCode::NotScheduled,
            "a trial can change only before it opens",
        )
    } else {
        e.into()
    }
}
