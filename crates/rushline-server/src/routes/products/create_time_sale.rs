use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::catalog;
use rushline_domain::Won;
use rushline_domain::catalog::TimeSaleFields;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::TimeSaleView;
use crate::auth::Seller;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

/// A time sale: `price` applies from `starts_at` until just before `ends_at`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct NewTimeSaleBody {
    /// Sale price in KRW: at least 1, below the list price.
    #[schema(value_type = Option<i64>, example = 99000)]
    price: Option<Won>,
    #[schema(example = "2026-03-01T09:00:00Z")]
    starts_at: Option<DateTime<Utc>>,
    /// Exclusive; after `starts_at` and in the future.
    #[schema(example = "2026-03-01T10:00:00Z")]
    ends_at: Option<DateTime<Utc>>,
}

errors!(CreateTimeSaleErrors: [Unauthorized, Forbidden, NotFound, TimeSaleOverlap, ValidationFailed]);

/// Schedules a time sale of the caller's product. Windows of one product may touch but not
/// overlap.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/time-sales",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "product id")),
    request_body = NewTimeSaleBody,
    responses((status = 201, body = TimeSaleView), CreateTimeSaleErrors)
)]
pub(crate) async fn create_time_sale(
    State(state): State<AppState>,
    Seller(seller): Seller,
    Path(id): Path<Uuid>,
    Json(body): Json<NewTimeSaleBody>,
) -> Result<(StatusCode, Json<TimeSaleView>), ApiError> {
    let fields = TimeSaleFields {
        price: body.price,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
    };
    let sale = catalog::create_time_sale(&state, seller, id, fields).await?;
    Ok((StatusCode::CREATED, Json(TimeSaleView::from(&sale))))
}
