//! Settlements: a seller's own (`/api/v1/seller/settlements`), everyone's for admins
//! (`/api/v1/admin/settlements`), and marking a payout done.

mod admin_list;
mod day;
mod list;
mod paid;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use rushline_domain::{FeeRate, Won};
use rushline_store::{Settlement, SettlementKey};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::routes::orders::list::{cursor_text, invalid_cursor};
use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list))
        .routes(routes!(day::day))
        .routes(routes!(admin_list::admin_list))
        .routes(routes!(paid::paid))
}

/// A seller's settlement of one business day. Revision 1 is the day's run; a later revision is a
/// correction holding only orders of the day settled after it. Amounts are KRW; each is the sum
/// of the settlement's lines.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettlementView {
    id: i64,
    seller_id: Uuid,
    /// A calendar day in `settlement.timezone`.
    business_day: NaiveDate,
    revision: i32,
    /// Orders settled (one line each).
    orders: i64,
    /// The seller's order lines at their prices.
    gross: Won,
    /// Coupons scoped to the seller or their products: paid by the seller.
    seller_discount: Won,
    /// Store-wide coupons: paid by the platform, not taken from the payout.
    platform_discount: Won,
    /// Points spent: paid by the platform, not taken from the payout.
    points: Won,
    platform_fee: Won,
    payment_fee: Won,
    /// Payable: gross − seller_discount − platform_fee − payment_fee.
    net: Won,
    /// The rates applied, as fractions (0.05 is 5 %).
    platform_fee_rate: f64,
    payment_fee_rate: f64,
    /// `pending` until an admin records the payout, then `paid` (and never changed again).
    status: SettlementStatus,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SettlementStatus {
    Pending,
    Paid,
}

#[expect(clippy::cast_precision_loss, reason = "millionths, at most a million")]
fn rate(millionths: i64) -> f64 {
    millionths as f64 / FeeRate::ONE as f64
}

impl From<&Settlement> for SettlementView {
    fn from(s: &Settlement) -> Self {
        Self {
            id: s.id,
            seller_id: s.seller_id,
            business_day: s.business_day,
            revision: s.revision,
            orders: s.orders,
            gross: s.gross,
            seller_discount: s.seller_discount,
            platform_discount: s.platform_discount,
            points: s.points,
            platform_fee: s.platform_fee,
            payment_fee: s.payment_fee,
            net: s.net,
            platform_fee_rate: rate(s.platform_fee_ppm),
            payment_fee_rate: rate(s.payment_fee_ppm),
            status: if s.paid_at.is_some() {
                SettlementStatus::Paid
            } else {
                SettlementStatus::Pending
            },
            created_at: s.created_at,
            paid_at: s.paid_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettlementList {
    items: Vec<SettlementView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

impl SettlementList {
    fn page(page: &[Settlement], limit: u32) -> Self {
        let next_cursor = page
            .last()
            .filter(|_| page.len() == limit as usize)
            .map(|s| encode_key((s.business_day, s.seller_id, s.revision)));
        Self {
            items: page.iter().map(SettlementView::from).collect(),
            next_cursor,
        }
    }
}

fn encode_key((day, seller, revision): SettlementKey) -> String {
    URL_SAFE_NO_PAD.encode(format!("{day}|{seller}|{revision}"))
}

fn decode_key(cursor: &str) -> Result<SettlementKey, ApiError> {
    let text = cursor_text(cursor)?;
    let mut parts = text.split('|');
    let (Some(day), Some(seller), Some(revision), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid_cursor());
    };
    Ok((
        day.parse().map_err(|_| invalid_cursor())?,
        seller.parse().map_err(|_| invalid_cursor())?,
        revision.parse().map_err(|_| invalid_cursor())?,
    ))
}
