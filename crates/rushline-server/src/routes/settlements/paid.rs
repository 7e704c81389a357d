use axum::extract::State;
use rushline_app::settlement;

use super::SettlementView;
use crate::auth::Admin;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(PaidErrors: [Unauthorized, Forbidden, NotFound, SettlementPaid]);

/// Records that a settlement was paid out (admins). From then on it never changes: orders of its
/// day settled later go into a correction, a settlement of its own.
#[utoipa::path(
    post,
    path = "/api/v1/admin/settlements/{id}/paid",
    tag = "settlements",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SettlementView), PaidErrors)
)]
pub(crate) async fn paid(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<i64>,
) -> Result<Json<SettlementView>, ApiError> {
    let paid = settlement::mark_paid(&state, id).await?;
    Ok(Json(SettlementView::from(&paid)))
}
