use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rushline_app::stats;
use uuid::Uuid;

use super::StatsQuery;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Path, Query};

fn svg(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("image/svg+xml"),
        )],
        body,
    )
        .into_response()
}

errors!(SalesErrors: [InvalidQuery, Unauthorized, Forbidden, NotFound]);

/// Gross and net per business day as an SVG line chart (KRW over days), each day's values
/// written beside its points; the same seller and range rules as `GET /api/v1/seller/stats`.
#[utoipa::path(
    get,
    path = "/api/v1/seller/stats/sales.svg",
    tag = "stats",
    security(("bearer" = [])),
    params(StatsQuery),
    responses((status = 200, content_type = "image/svg+xml", body = String), SalesErrors)
)]
pub(crate) async fn sales(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<StatsQuery>,
) -> Result<Response, ApiError> {
    let seller = stats::subject(user, query.seller_id)?;
    let (from, to) = stats::range(&state, query.from, query.to)?;
    let days = state.store.seller_days(seller, from, to).await?;
    // Every day of the range, so that a day without sales shows as zero.
    let series: Vec<_> = from
        .iter_days()
        .take_while(|day| *day <= to)
        .map(|day| {
            let found = days.iter().find(|d| d.day == day);
            (
                day,
                found.map_or(0, |d| d.gross.get()),
                found.map_or(0, |d| d.net.get()),
            )
        })
        .collect();
    let title = format!("Sales {from} to {to}: gross and net (KRW)");
    Ok(svg(crate::charts::sales(&title, &series)?))
}

errors!(SelloutErrors: [Unauthorized, NotFound]);

/// A drop's units granted over time (in grant order, from its claims) as an SVG line chart,
/// with the quantity as a reference line. Its seller or an admin; anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/seller/stats/drops/{id}/sellout.svg",
    tag = "stats",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String), SelloutErrors)
)]
pub(crate) async fn sellout(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let (drop, series) = stats::sellout(&state, user, id).await?;
    let sold = series.last().map_or(0, |s| s.1);
    let title = format!("Drop sell-out: {sold} of {} units granted", drop.quantity);
    Ok(svg(crate::charts::sellout(
        &title,
        drop.opens_at,
        drop.quantity,
        &series,
    )?))
}
