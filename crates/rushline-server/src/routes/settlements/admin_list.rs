use axum::extract::State;
use chrono::NaiveDate;
use rushline_app::settlement;
use rushline_store::SettlementFilter;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{SettlementList, decode_key};
use crate::auth::Admin;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AdminListSettlements {
    /// Only this business day.
    date: Option<NaiveDate>,
    /// Only this seller's.
    seller_id: Option<Uuid>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 100.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

errors!(AdminListErrors: [InvalidQuery, InvalidCursor, Unauthorized, Forbidden]);

/// Every seller's settlements (admins), by business day, seller and revision.
#[utoipa::path(
    get,
    path = "/api/v1/admin/settlements",
    tag = "settlements",
    security(("bearer" = [])),
    params(AdminListSettlements),
    responses((status = 200, body = SettlementList), AdminListErrors)
)]
pub(crate) async fn admin_list(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<AdminListSettlements>,
) -> Result<Json<SettlementList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 100)?;
    let filter = SettlementFilter {
        seller: query.seller_id,
        from: query.date,
        to: query.date,
        after: query.cursor.as_deref().map(decode_key).transpose()?,
        limit,
    };
    let page = settlement::list(&state, &filter).await?;
    Ok(Json(SettlementList::page(&page, limit)))
}
