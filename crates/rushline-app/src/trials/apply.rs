//! Applying to an open trial: window and pause → one atomic step in the claim gate (the trial's
//! pool, one slot per buyer) → group-committed application, selected at once. No database read
//! on the way, except for the trial once a second per node, on a retry, and after the window
//! closed or the trial paused (a retry of an application that went through is answered with it).

use chrono::{DateTime, Utc};
use rushline_domain::ApplicationStatus;
use rushline_domain::drop::{Window, window_status};
use rushline_domain::trial::{review_due_at, validate_motivation};
use rushline_gate::{Claim, PoolKey};
use rushline_store::{ClaimWrite, DbError, NewApplication, Trial};
use uuid::Uuid;

use super::testers::{paused, review_reminder, status_notice};
use crate::claims::place::{Placement, Refusal, claim_row, place};
use crate::claims::{Creates, fingerprint, first_attempt, request_id};
use crate::{App, AppError, ErrorCode};

/// A selection: the first answer, given again to every retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub application_id: Uuid,
    pub trial_id: Uuid,
    /// `selected`: the application's answer; `GET /me/trials` shows where it stands now.
    pub status: ApplicationStatus,
    /// The selection's place in the order the trial's slots were taken.
    pub seq: u64,
    pub review_due_at: DateTime<Utc>,
}

/// Applies `buyer` to trial `trial_id` under the request's idempotency `key`.
pub async fn apply(
    app: &App,
    buyer: Uuid,
    key: &str,
    trial_id: Uuid,
    motivation: Option<String>,
) -> Result<Applied, AppError> {
    validate_motivation(motivation.as_deref())?;
    let trial = app.trials.get(&app.store, trial_id).await?;
    if trial.raffle.is_some() {
        return Err(raffle_only());
    }
    let now = app.clock.now();
    let application_id = request_id(buyer, Creates::Application, key);
    match window_status(now, trial.opens_at, trial.closes_at) {
        Window::Scheduled => {
            return Err(AppError::new(
                ErrorCode::NotOpen,
                "the trial's application window has not opened yet",
            ));
        }
        Window::Closed => {
            return answer_first(app, buyer, &trial, application_id, || {
                AppError::new(
                    ErrorCode::Closed,
                    "the trial's application window has closed",
                )
            })
            .await;
        }
        Window::Open if trial.paused_at.is_some() => {
            return answer_first(app, buyer, &trial, application_id, paused).await;
        }
        Window::Open => {}
    }
    select(app, &trial, buyer, application_id, motivation, now).await
}

/// The refusal of a first-come application to a raffle trial.
fn raffle_only() -> AppError {
    AppError::new(
        ErrorCode::RaffleOnly,
        "this trial draws its testers: enter its raffle instead",
    )
}

/// Selects `buyer` for a slot of `trial` under `application_id`: one claim in the trial's pool,
/// then the group-committed application. A first-come application, and the selection of a
/// raffle trial's drawn entrant (whose entry id is the application id), both come here.
pub(crate) async fn select(
    app: &App,
    trial: &Trial,
    buyer: Uuid,
    application_id: Uuid,
    motivation: Option<String>,
    now: DateTime<Utc>,
) -> Result<Applied, AppError> {
    let motivation_bytes = motivation.as_deref().unwrap_or_default().as_bytes();
    let claim = Claim {
        user: buyer,
        qty: 1,
        request_id: application_id,
        fingerprint: fingerprint(&[b"trial-apply", trial.id.as_bytes(), motivation_bytes]),
        at: now.timestamp_micros(),
    };
    let mut application = Application {
        claims: [(PoolKey(trial.pool_key()), claim)],
        buyer,
        trial,
        motivation,
        now,
        barred_if_overdue_after: now - app.trial_settings.overdue_bar,
    };
    place(app, &mut application).await
}

/// A refusal before the gate, unless the request is the retry of an application that went
/// through before it: that one gets its first answer.
async fn answer_first(
    app: &App,
    buyer: Uuid,
    trial: &Trial,
    application_id: Uuid,
    refusal: impl FnOnce() -> AppError,
) -> Result<Applied, AppError> {
    match app.store.application(application_id).await {
        Ok(_) => replay(app, buyer, trial.id, application_id).await,
        Err(DbError::NotFound) => Err(refusal()),
        Err(e) => Err(e.into()),
    }
}

/// An application: one claim in the trial's pool, one selected application.
struct Application<'a> {
    claims: [(PoolKey, Claim); 1],
    buyer: Uuid,
    trial: &'a Trial,
    motivation: Option<String>,
    now: DateTime<Utc>,
    barred_if_overdue_after: DateTime<Utc>,
}

impl Application<'_> {
    fn id(&self) -> Uuid {
        self.claims[0].1.request_id
    }

    fn review_due_at(&self) -> DateTime<Utc> {
        review_due_at(self.now, self.trial.review_due_days)
    }
}

impl Placement for Application<'_> {
    type Answer = Applied;
    const POOL: &'static str = "trial";

    fn claims(&self) -> &[(PoolKey, Claim)] {
        &self.claims
    }

    fn refused(&self, refusal: Refusal, _line: Option<usize>) -> AppError {
        match refusal {
            Refusal::SoldOut => {
                AppError::new(ErrorCode::TrialFull, "every slot of this trial is taken")
            }
            Refusal::LimitReached => AppError::new(
                ErrorCode::AlreadyApplied,
                "you have applied to this trial before",
            ),
        }
    }

    fn write(&mut self, seqs: &[u64]) -> ClaimWrite {
        let (pool, claim) = &self.claims[0];
        ClaimWrite::Application(NewApplication {
            id: self.id(),
            trial_id: self.trial.id,
            buyer_id: self.buyer,
            motivation: self.motivation.take(),
            review_due_at: self.review_due_at(),
            applied_at: self.now,
            barred_if_overdue_after: self.barred_if_overdue_after,
            claim: claim_row(pool, claim, seqs[0], self.now),
            jobs: vec![
                status_notice(self.id(), ApplicationStatus::Selected, self.now),
                review_reminder(self.id(), self.review_due_at(), self.now),
            ],
        })
    }

    async fn committed(&self, _app: &App, seqs: &[u64]) -> Result<Applied, AppError> {
        Ok(Applied {
            application_id: self.id(),
            trial_id: self.trial.id,
            status: ApplicationStatus::Selected,
            seq: seqs[0],
            review_due_at: self.review_due_at(),
        })
    }

    async fn replay(&self, app: &App) -> Result<Applied, AppError> {
        replay(app, self.buyer, self.trial.id, self.id()).await
    }
}

/// Answers a retried application with the selection its first attempt made, once durable.
async fn replay(
    app: &App,
    buyer: Uuid,
    trial_id: Uuid,
    application_id: Uuid,
) -> Result<Applied, AppError> {
    let application = first_attempt(|| app.store.application(application_id)).await?;
    if application.buyer_id != buyer || application.trial_id != trial_id {
        return Err(AppError::idempotency_mismatch());
    }
    // Only a raffle trial's entrant can be `not_selected`, once the raffle has nothing left.
    let (Some(seq), Some(review_due_at)) = (application.seq, application.review_due_at) else {
        return Err(AppError::new(
            ErrorCode::AlreadyApplied,
            "this entry was not selected",
        ));
    };
    Ok(Applied {
        application_id: application.id,
        trial_id: application.trial_id,
        status: ApplicationStatus::Selected,
        #[expect(clippy::cast_sign_loss, reason = "seqs start at 1")]
        seq: seq as u64,
        review_due_at,
    })
}
