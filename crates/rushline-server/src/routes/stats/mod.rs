//! `/api/v1/seller/stats`: a seller's own statistics (admins name the seller), and charts of
//! them as SVG.

mod charts;
mod get;

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get::get))
        .routes(routes!(charts::sales))
        .routes(routes!(charts::sellout))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatsQuery {
    /// The first business day, included; by default 29 days before `to`.
    from: Option<NaiveDate>,
    /// The last business day, included (at most 366 days after `from`); by default yesterday:
    /// a day's figures are rolled up at 00:30 the day after.
    to: Option<NaiveDate>,
    /// Whose statistics: required of an admin; a seller may name only themselves.
    seller_id: Option<Uuid>,
}
