use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::trials::{self, Applied};
use rushline_domain::ApplicationStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json, Path};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplyRequest {
    /// Why the buyer wants to test the product: up to 1,000 characters, line breaks allowed,
    /// no other control characters. Shown to the trial's seller.
    #[serde(default)]
    motivation: Option<String>,
}

/// A selection. A retry with the same `Idempotency-Key` answers exactly this again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApplyResponse {
    application_id: Uuid,
    trial_id: Uuid,
    /// `selected`: a first-come trial selects every applicant who gets a slot at once.
    status: ApplicationStatus,
    /// This selection's place in the order the trial's slots were taken.
    seq: u64,
    /// The review is due by then; past it the application is `review_overdue`.
    review_due_at: DateTime<Utc>,
}

errors!(ApplyErrors: [IdempotencyKeyRequired, InvalidIdempotencyKey, Unauthorized, Forbidden, TrialBarred, NotFound, TrialFull, AlreadyApplied, NotOpen, Closed, Paused, RaffleOnly, RequestInProgress, ValidationFailed, IdempotencyMismatch, GateUnavailable, DatabaseUnavailable]);

/// Applies for a slot of an open trial: JWT → window and pause check → one atomic step in the
/// claim gate (the trial's pool `trial:<id>`, one slot per buyer) → group-committed application
/// → 201, selected. No database read on the way but the trial's, at most once a second per node
/// (and on a retry, or after the close or a pause, which may follow an application that went
/// through). A refusal records nothing.
#[utoipa::path(
    post,
    path = "/api/v1/trials/{id}/apply",
    tag = "trials",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the first answer"),
    ),
    request_body(content = Option<ApplyRequest>),
    responses((status = 201, body = ApplyResponse), ApplyErrors)
)]
pub(crate) async fn apply(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(trial_id): Path<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
    body: Option<Json<ApplyRequest>>,
) -> Result<(StatusCode, Json<ApplyResponse>), ApiError> {
    let body = body.map(|Json(body)| body).unwrap_or_default();
    let applied = trials::apply(&state, buyer.id, &key, trial_id, body.motivation).await?;
    Ok((StatusCode::CREATED, Json(applied.into())))
}

impl From<Applied> for ApplyResponse {
    fn from(applied: Applied) -> Self {
        Self {
            application_id: applied.application_id,
            trial_id: applied.trial_id,
            status: applied.status,
            seq: applied.seq,
            review_due_at: applied.review_due_at,
        }
    }
}
