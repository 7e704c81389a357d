use axum::extract::State;
use chrono::{DateTime, Utc};
use rushline_app::trials::{self, TrialChanges};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::TrialView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateTrial {
    title: Option<String>,
    description: Option<String>,
    slots: Option<i64>,
    opens_at: Option<DateTime<Utc>>,
    closes_at: Option<DateTime<Utc>>,
    review_due_days: Option<i64>,
}

errors!(UpdateErrors: [Unauthorized, NotFound, NotScheduled, ValidationFailed]);

/// Changes a trial's terms while it is scheduled (before `opens_at`). Its seller or an admin.
#[utoipa::path(
    patch,
    path = "/api/v1/trials/{id}",
    tag = "trials",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = UpdateTrial,
    responses((status = 200, body = TrialView), UpdateErrors)
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateTrial>,
) -> Result<Json<TrialView>, ApiError> {
    let changes = TrialChanges {
        title: body.title,
        description: body.description,
        slots: body.slots,
        opens_at: body.opens_at,
        closes_at: body.closes_at,
        review_due_days: body.review_due_days,
    };
    let trial = trials::update_trial(&state, user, id, changes).await?;
    Ok(Json(TrialView::of(&state, &trial).await?))
}
