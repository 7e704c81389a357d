use std::collections::BTreeMap;

use axum::extract::State;
use rushline_app::reviews;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

/// A product's visible reviews in numbers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReviewStatsView {
    count: i64,
    /// Null without reviews.
    average: Option<f64>,
    min: Option<i32>,
    max: Option<i32>,
    /// Reviews per star, `"1"` to `"5"`.
    #[schema(example = json!({"1": 0, "2": 1, "3": 0, "4": 3, "5": 7}))]
    histogram: BTreeMap<String, i64>,
}

errors!(StatsErrors: [NotFound]);

/// A public product's review statistics, kept as counters with every review write.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/review-stats",
    tag = "reviews",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ReviewStatsView), StatsErrors)
)]
pub(crate) async fn stats(
    State(state): State<AppState>,
    Path(product_id): Path<Uuid>,
) -> Result<Json<ReviewStatsView>, ApiError> {
    let h = reviews::stats(&state, product_id).await?;
    Ok(Json(ReviewStatsView {
        count: h.count(),
        average: h.average(),
        min: h.min(),
        max: h.max(),
        histogram: (1..)
            .zip(h.stars)
            .map(|(stars, n): (i32, i64)| (stars.to_string(), n))
            .collect(),
    }))
}
