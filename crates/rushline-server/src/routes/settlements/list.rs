use axum::extract::State;
use chrono::NaiveDate;
use rushline_app::settlement;
use rushline_store::SettlementFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{SettlementList, decode_key};
use crate::auth::Seller;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListSettlements {
    /// The first business day, included.
    from: Option<NaiveDate>,
    /// The last business day, included.
    to: Option<NaiveDate>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 31.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

errors!(ListErrors: [InvalidQuery, InvalidCursor, Unauthorized, Forbidden]);

/// The caller's own settlements, by business day and revision.
#[utoipa::path(
    get,
    path = "/api/v1/seller/settlements",
    tag = "settlements",
    security(("bearer" = [])),
    params(ListSettlements),
    responses((status = 200, body = SettlementList), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Seller(seller): Seller,
    Query(query): Query<ListSettlements>,
) -> Result<Json<SettlementList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 31)?;
    let filter = SettlementFilter {
        seller: Some(seller.id),
        from: query.from,
        to: query.to,
        after: query.cursor.as_deref().map(decode_key).transpose()?,
        limit,
    };
    let page = settlement::list(&state, &filter).await?;
    Ok(Json(SettlementList::page(&page, limit)))
}
