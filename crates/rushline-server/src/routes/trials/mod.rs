//! `/api/v1/trials`: trial campaigns ("체험단"), applying for a slot, and what their sellers see.

mod applications;
mod apply;
mod create;
mod delete;
mod get;
mod list;
mod pause;
mod stats;
mod update;

use chrono::{DateTime, Utc};
use rushline_app::AppError;
use rushline_domain::{Allocation, TrialStatus};
use rushline_gate::PoolKey;
use rushline_store::Trial;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::routes::raffles::RaffleView;
use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create::create, list::list))
        .routes(routes!(get::get, update::update, delete::delete))
        .routes(routes!(pause::pause))
        .routes(routes!(pause::resume))
        .routes(routes!(apply::apply))
        .routes(routes!(applications::applications))
        .routes(routes!(stats::stats))
}

/// A trial as buyers and sellers see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TrialView {
    id: Uuid,
    product_id: Uuid,
    seller_id: Uuid,
    title: String,
    description: String,
    /// Testers it selects.
    slots: i64,
    /// Slots not taken, from the claim gate.
    remaining: u64,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    /// A selected tester owes a review this many days after selection.
    review_due_days: i32,
    /// `scheduled` → `open` → `full` | `closed`; `paused` while its seller has paused it.
    status: TrialStatus,
    /// How testers are chosen: `fcfs` (first come, first served, `POST …/apply`) or `raffle`
    /// (entries until `closes_at`, `POST …/entries`, then a verifiable draw).
    allocation: Allocation,
    /// A raffle trial's raffle; null for first come.
    raffle: Option<RaffleView>,
    /// Applications recorded: a first-come trial records only selections (a refused applicant
    /// leaves no trace); a raffle trial its selections, and every other entrant as
    /// `not_selected` once its raffle has nothing left to offer.
    applicants: i64,
}

impl TrialView {
    /// The view at the current clock; `remaining` comes from the gate, not the database.
    pub(crate) async fn of(state: &AppState, trial: &Trial) -> Result<Self, ApiError> {
        let remaining = state
            .claims
            .gate
            .remaining(&PoolKey(trial.pool_key()))
            .await?
            .ok_or_else(AppError::not_found)?;
        let applicants = state.store.trial_applicants(trial.id).await?;
        Ok(Self {
            id: trial.id,
            product_id: trial.product_id,
            seller_id: trial.seller_id,
            title: trial.title.clone(),
            description: trial.description.clone(),
            slots: trial.slots,
            remaining,
            opens_at: trial.opens_at,
            closes_at: trial.closes_at,
            review_due_days: trial.review_due_days,
            status: TrialStatus::shown(
                state.clock.now(),
                trial.opens_at,
                trial.closes_at,
                trial.paused_at.is_some(),
                remaining,
            ),
            allocation: trial.allocation,
            raffle: trial.raffle.as_ref().map(RaffleView::from),
            applicants,
        })
    }
}
