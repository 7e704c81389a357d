//! Trial campaigns, each with a pool of slots (`trial:<id>`), and the applications of testers.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::raffle::Seed;
use rushline_domain::{Allocation, ApplicationStatus};
use uuid::Uuid;

use crate::DbError;
use crate::claims::ClaimRow;
use crate::drops::DropWindow;
use crate::jobs::NewJob;
use crate::raffles::RaffleSettings;

#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub id: Uuid,
    pub product_id: Uuid,
    pub seller_id: Uuid,
    pub title: String,
    pub description: String,
    /// Testers to select: the total of its pool.
    pub slots: i64,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub review_due_days: i32,
    pub allocation: Allocation,
    /// A raffle trial's raffle (entries close at `closes_at`); `None` for first come.
    pub raffle: Option<RaffleSettings>,
    /// Since when its seller has paused it; `None` while it takes applications.
    pub paused_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Trial {
    pub fn pool_key(&self) -> String {
        trial_pool_key(self.id)
    }

    /// Until when a selected tester may give their slot back for another: a first-come trial's
    /// close (a later applicant takes it); a raffle trial's first review deadline (the next
    /// entrant in draw order takes it, and owes a review by their own deadline).
    pub fn gives_back_until(&self) -> DateTime<Utc> {
        match &self.raffle {
            Some(raffle) => rushline_domain::trial::review_due_at(
                raffle.drawn_at.unwrap_or(self.closes_at),
                self.review_due_days,
            ),
            None => self.closes_at,
        }
    }
}

pub fn trial_pool_key(id: Uuid) -> String {
    format!("trial:{id}")
}

/// Which trials to list, soonest opening first; the window is compared with its `now`.
#[derive(Debug, Clone, Default)]
pub struct TrialFilter {
    pub seller_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub window: Option<DropWindow>,
    /// Only those opening in `[start, end)`.
    pub opening: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Strictly after this `(opens_at, id)`.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u32,
}

/// An application as the group-commit writer records a selection: `selected`, with its claim
/// on the trial's pool and the job that tells the tester.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApplication {
    /// The claim's request id, derived from the buyer and the idempotency key.
    pub id: Uuid,
    pub trial_id: Uuid,
    pub buyer_id: Uuid,
    pub motivation: Option<String>,
    pub review_due_at: DateTime<Utc>,
    pub applied_at: DateTime<Utc>,
    /// The buyer is refused (`TrialBarred`) if one of their reviews went overdue after this.
    pub barred_if_overdue_after: DateTime<Utc>,
    pub claim: ClaimRow,
    /// Enqueued with the application: telling the tester now, and reminding them of the review.
    pub jobs: Vec<NewJob>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrialApplication {
    pub id: Uuid,
    pub trial_id: Uuid,
    pub buyer_id: Uuid,
    pub buyer_name: String,
    pub buyer_email: String,
    pub status: ApplicationStatus,
    pub motivation: Option<String>,
    /// The claim's place in the trial's order of selections; `None` for `not_selected`, which
    /// holds no claim.
    pub seq: Option<i64>,
    /// When the tester's review is due; `None` for `not_selected`, which owes none.
    pub review_due_at: Option<DateTime<Utc>>,
    /// For a raffle trial's entrant, when they entered.
    pub applied_at: DateTime<Utc>,
    pub status_changed_at: DateTime<Utc>,
    /// The review the tester wrote for the trial, if any.
    pub review_id: Option<Uuid>,
}

/// Applications, newest first.
#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    pub trial_id: Option<Uuid>,
    pub buyer_id: Option<Uuid>,
    pub status: Option<ApplicationStatus>,
    /// Strictly older than this `(applied_at, id)`.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u32,
}

/// A change of an application's status, applied only from `from`, with the jobs it causes.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationTransition {
    pub id: Uuid,
    pub from: ApplicationStatus,
    pub to: ApplicationStatus,
    pub at: DateTime<Utc>,
    pub jobs: Vec<NewJob>,
}

/// What a trial's statistics are made of.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrialCounts {
    /// Applications recorded, whatever became of them.
    pub applicants: i64,
    /// Applications holding a slot now.
    pub selected: i64,
    /// Reviews written by its testers (on time or late, hidden or not).
    pub reviews: i64,
    /// The mean rating of those reviews not hidden; `None` without any.
    pub average_rating: Option<f64>,
    /// When the latest of those was selected.
    pub last_selected_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait TrialStore: Send + Sync {
    /// Inserts the trial and its pool (`trial:<id>`, one slot per buyer) and, for a raffle
    /// trial, its raffle with the secret `seed`, in one transaction.
    async fn create_trial(&self, trial: &Trial, seed: Option<&Seed>) -> Result<(), DbError>;

    async fn trial(&self, id: Uuid) -> Result<Trial, DbError>;

    async fn list_trials(&self, filter: &TrialFilter) -> Result<Vec<Trial>, DbError>;

    /// Replaces a trial that has not opened at `now` (and its pool's total); `NotFound` when it
    /// does not exist, `Conflict { constraint: TRIAL_NOT_SCHEDULED }` once it has opened.
    async fn update_trial(&self, trial: &Trial, now: DateTime<Utc>) -> Result<(), DbError>;

    /// Deletes a trial that has not opened at `now`, with its pool; errors as `update_trial`.
    async fn delete_trial(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), DbError>;

    /// Pauses (`Some(at)`) or resumes (`None`) a trial, serialised with the group commit on its
    /// pool: once this returns, no batch commits a selection of a paused trial.
    async fn set_trial_paused(
        &self,
        id: Uuid,
        paused_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Trial, DbError>;

    async fn application(&self, id: Uuid) -> Result<TrialApplication, DbError>;

    async fn list_applications(
        &self,
        filter: &ApplicationFilter,
    ) -> Result<Vec<TrialApplication>, DbError>;

    /// Applies `change` only from `change.from` (else `Conflict { constraint:
    /// APPLICATION_STATUS_CHANGED }`), with its jobs; leaving `selected` for `cancelled` releases
    /// the claim and its slot in the same transaction.
    async fn transition_application(
        &self,
        change: &ApplicationTransition,
    ) -> Result<TrialApplication, DbError>;

    /// `selected` applications whose review was due by `now`, soonest due first.
    async fn applications_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TrialApplication>, DbError>;

    /// Applications recorded for the trial, whatever became of them: one count, for its view.
    async fn trial_applicants(&self, id: Uuid) -> Result<i64, DbError>;

    /// The counts of each of `ids` (a trial without applications has the default), in three
    /// statements however many trials.
    async fn trial_counts(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, TrialCounts>, DbError>;
}

/// The conflict `update_trial` and `delete_trial` report once a trial has opened.
pub const TRIAL_NOT_SCHEDULED: &str = "trial_not_scheduled";
/// The conflict `transition_application` reports when the status is not the expected one.
pub const APPLICATION_STATUS_CHANGED: &str = "application_status_changed";
