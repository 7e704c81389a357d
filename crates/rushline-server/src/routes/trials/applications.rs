use axum::extract::State;
use chrono::{DateTime, Utc};
use rushline_app::trials;
use rushline_domain::ApplicationStatus;
use rushline_store::{ApplicationFilter, TrialApplication};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::routes::orders::list::{decode_cursor, next_cursor};
use crate::{ApiError, AppState, Json, Path, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListApplications {
    /// Only applications with this status.
    status: Option<ApplicationStatus>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// An application as the trial's seller sees it: no e-mail address.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApplicationView {
    application_id: Uuid,
    buyer_id: Uuid,
    buyer_name: String,
    motivation: Option<String>,
    status: ApplicationStatus,
    /// The selection's place in the order the slots were taken; null for `not_selected`.
    seq: Option<i64>,
    applied_at: DateTime<Utc>,
    /// Null for `not_selected`, which owes no review.
    review_due_at: Option<DateTime<Utc>>,
    status_changed_at: DateTime<Utc>,
}

impl From<TrialApplication> for ApplicationView {
    fn from(application: TrialApplication) -> Self {
        Self {
            application_id: application.id,
            buyer_id: application.buyer_id,
            buyer_name: application.buyer_name,
            motivation: application.motivation,
            status: application.status,
            seq: application.seq,
            applied_at: application.applied_at,
            review_due_at: application.review_due_at,
            status_changed_at: application.status_changed_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApplicationList {
    items: Vec<ApplicationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

errors!(ApplicationsErrors: [InvalidQuery, InvalidCursor, Unauthorized, NotFound]);

/// A trial's applications, newest first. Its seller or an admin; anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/trials/{id}/applications",
    tag = "trials",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ListApplications),
    responses((status = 200, body = ApplicationList), ApplicationsErrors)
)]
pub(crate) async fn applications(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(query): Query<ListApplications>,
) -> Result<Json<ApplicationList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 50)?;
    let filter = ApplicationFilter {
        trial_id: Some(id),
        buyer_id: None,
        status: query.status,
        before: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    };
    let found = trials::applications(&state, user, filter).await?;
    let next_cursor = next_cursor(&found, limit, |last| (last.applied_at, last.id));
    let items = found.into_iter().map(ApplicationView::from).collect();
    Ok(Json(ApplicationList { items, next_cursor }))
}
