use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use rushline_app::settlement;
use rushline_domain::Won;
use rushline_store::SettlementLine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::SettlementView;
use crate::auth::Seller;
use crate::openapi::errors;
use crate::routes::orders::list::{cursor_text, invalid_cursor};
use crate::{ApiError, AppState, Json, Path, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DayQuery {
    /// `next_cursor` of the previous page of lines.
    cursor: Option<String>,
    /// Lines per page, 1–100, default 100.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// A seller's part of one order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettlementLineView {
    order_id: Uuid,
    /// The settlement (of this day) the line belongs to.
    revision: i32,
    completed_at: DateTime<Utc>,
    gross: Won,
    seller_discount: Won,
    platform_discount: Won,
    points: Won,
    platform_fee: Won,
    payment_fee: Won,
    net: Won,
}

impl From<&SettlementLine> for SettlementLineView {
    fn from(l: &SettlementLine) -> Self {
        Self {
            order_id: l.order_id,
            revision: l.revision,
            completed_at: l.completed_at,
            gross: l.gross,
            seller_discount: l.seller_discount,
            platform_discount: l.platform_discount,
            points: l.points,
            platform_fee: l.platform_fee,
            payment_fee: l.payment_fee,
            net: l.net,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettlementDay {
    business_day: NaiveDate,
    /// Every revision of the day: the run's, then its corrections.
    settlements: Vec<SettlementView>,
    /// A page of the lines, by revision and order.
    lines: Vec<SettlementLineView>,
    /// Pass as `cursor` for the next page of lines; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

errors!(DayErrors: [InvalidQuery, InvalidCursor, Unauthorized, Forbidden, NotFound]);

const CSV_HEADER: &str = "order_id,revision,completed_at,gross,seller_discount,\
                          platform_discount,points,platform_fee,payment_fee,net\n";
/// Lines read per query while writing the CSV of a day.
const CSV_BATCH: u32 = 1_000;

/// The caller's settlements of one business day with their lines, a page at a time; with
/// `Accept: text/csv`, every line of the day as CSV (one header row, then one row per line).
/// 404 when the caller has no settlement that day.
#[utoipa::path(
    get,
    path = "/api/v1/seller/settlements/{date}",
    tag = "settlements",
    security(("bearer" = [])),
    params(("date" = NaiveDate, Path, description = "A business day, YYYY-MM-DD"), DayQuery),
    responses(
        (status = 200, content(
            (SettlementDay = "application/json"),
            (String = "text/csv"),
        )),
        DayErrors,
    )
)]
pub(crate) async fn day(
    State(state): State<AppState>,
    Seller(seller): Seller,
    Path(date): Path<NaiveDate>,
    Query(query): Query<DayQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 100)?;
    let after = query.cursor.as_deref().map(decode_line_key).transpose()?;
    let wants_csv = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().starts_with("text/csv")));
    if wants_csv {
        let mut csv = String::from(CSV_HEADER);
        let mut after = None;
        loop {
            let (_, lines) = settlement::day(&state, seller.id, date, after, CSV_BATCH).await?;
            for l in &lines {
                let _ = writeln!(
                    csv,
                    "{},{},{},{},{},{},{},{},{},{}",
                    l.order_id,
                    l.revision,
                    l.completed_at.to_rfc3339(),
                    l.gross,
                    l.seller_discount,
                    l.platform_discount,
                    l.points,
                    l.platform_fee,
                    l.payment_fee,
                    l.net
                );
            }
            match lines.last() {
                Some(last) if lines.len() == CSV_BATCH as usize => {
                    after = Some((last.revision, last.order_id));
                }
                _ => break,
            }
        }
        return Ok((
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"))],
            csv,
        )
            .into_response());
    }
    let (settlements, lines) = settlement::day(&state, seller.id, date, after, limit).await?;
    let next_cursor = lines
        .last()
        .filter(|_| lines.len() == limit as usize)
        .map(|l| URL_SAFE_NO_PAD.encode(format!("{}|{}", l.revision, l.order_id)));
    Ok(Json(SettlementDay {
        business_day: date,
        settlements: settlements.iter().map(SettlementView::from).collect(),
        lines: lines.iter().map(SettlementLineView::from).collect(),
        next_cursor,
    })
    .into_response())
}

fn decode_line_key(cursor: &str) -> Result<(i32, Uuid), ApiError> {
    let text = cursor_text(cursor)?;
    let (revision, order) = text.split_once('|').ok_or_else(invalid_cursor)?;
    Ok((
        revision.parse().map_err(|_| invalid_cursor())?,
        order.parse().map_err(|_| invalid_cursor())?,
    ))
}
