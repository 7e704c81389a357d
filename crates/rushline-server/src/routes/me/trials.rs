use axum::extract::State;
use chrono::{DateTime, Utc};
use rushline_app::trials;
use rushline_domain::ApplicationStatus;
use rushline_store::{ApplicationFilter, TrialApplication};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{AuthUser, Buyer};
use crate::openapi::errors;
use crate::routes::orders::list::{decode_cursor, next_cursor};
use crate::routes::trials::TrialView;
use crate::{ApiError, AppState, Json, Path, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListMyTrials {
    /// Only applications with this status.
    status: Option<ApplicationStatus>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// One of the caller's applications, with its trial.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MyTrialView {
    application_id: Uuid,
    trial: TrialView,
    /// `selected` (holds a slot, owes a review), `review_submitted`, `review_overdue` (no review
    /// by `review_due_at`: barred from new trials for a while), `cancelled` (slot given back);
    /// `not_selected` (a raffle trial's entrant not drawn, recorded once its raffle has nothing
    /// left to offer).
    status: ApplicationStatus,
    /// Null for `not_selected`, which owes no review.
    review_due_at: Option<DateTime<Utc>>,
    /// The review written for this trial (`/products/{product_id}/reviews/{review_id}`); null
    /// until the tester writes it.
    review_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MyTrialList {
    items: Vec<MyTrialView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

impl MyTrialView {
    async fn of(state: &AppState, application: TrialApplication) -> Result<Self, ApiError> {
        let trial = state.trials.get(&state.store, application.trial_id).await?;
        Ok(Self {
            application_id: application.id,
            trial: TrialView::of(state, &trial).await?,
            status: application.status,
            review_due_at: application.review_due_at,
            review_id: application.review_id,
        })
    }
}

errors!(ListMyTrialsErrors: [InvalidQuery, InvalidCursor, Unauthorized]);

/// The caller's trial applications, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/me/trials",
    tag = "trials",
    security(("bearer" = [])),
    params(ListMyTrials),
    responses((status = 200, body = MyTrialList), ListMyTrialsErrors)
)]
pub(crate) async fn list_trials(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(query): Query<ListMyTrials>,
) -> Result<Json<MyTrialList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 20)?;
    let found = state
        .store
        .list_applications(&ApplicationFilter {
            trial_id: None,
            buyer_id: Some(caller.id),
            status: query.status,
            before: query.cursor.as_deref().map(decode_cursor).transpose()?,
            limit,
        })
        .await?;
    let next_cursor = next_cursor(&found, limit, |last| (last.applied_at, last.id));
    let mut items = Vec::with_capacity(found.len());
    for application in found {
        items.push(MyTrialView::of(&state, application).await?);
    }
    Ok(Json(MyTrialList { items, next_cursor }))
}

errors!(CancelErrors: [Unauthorized, Forbidden, NotFound, Closed, InvalidTransition]);

/// Gives back the caller's slot before the trial closes: the application becomes `cancelled`,
/// and the slot goes back to the pool for a later applicant. One may not apply to the trial again.
#[utoipa::path(
    post,
    path = "/api/v1/me/trials/{application_id}/cancel",
    tag = "trials",
    security(("bearer" = [])),
    params(("application_id" = Uuid, Path)),
    responses((status = 200, body = MyTrialView), CancelErrors)
)]
pub(crate) async fn cancel_trial(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(application_id): Path<Uuid>,
) -> Result<Json<MyTrialView>, ApiError> {
    let cancelled = trials::cancel(&state, buyer.id, application_id).await?;
    Ok(Json(MyTrialView::of(&state, cancelled).await?))
}
