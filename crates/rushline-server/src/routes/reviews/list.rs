use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rushline_app::{ErrorCode, reviews};
use rushline_store::{ReviewKey, ReviewQuery, ReviewSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ReviewView;
use crate::openapi::errors;
use crate::routes::orders::list::{cursor_text, invalid_cursor, parse_time_id};
use crate::{ApiError, AppState, Json, Path, Query};

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SortParam {
    #[default]
    Newest,
    RatingDesc,
    RatingAsc,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListReviews {
    /// `newest` (default), `rating_desc` or `rating_asc`; ties go newest first.
    sort: Option<SortParam>,
    /// Only reviews with this many stars, 1 to 5.
    #[param(minimum = 1, maximum = 5)]
    rating: Option<i32>,
    /// `next_cursor` of the previous page (with the same `sort` and `rating`).
    cursor: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReviewList {
    items: Vec<ReviewView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

errors!(ListErrors: [InvalidQuery, InvalidCursor, NotFound]);

/// A public product's reviews (hidden ones left out), a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/reviews",
    tag = "reviews",
    params(("id" = Uuid, Path), ListReviews),
    responses((status = 200, body = ReviewList), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(product_id): Path<Uuid>,
    Query(query): Query<ListReviews>,
) -> Result<Json<ReviewList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 20)?;
    if query.rating.is_some_and(|r| !(1..=5).contains(&r)) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "rating must be between 1 and 5",
        ));
    }
    let query = ReviewQuery {
        product_id,
        sort: match query.sort.unwrap_or_default() {
            SortParam::Newest => ReviewSort::Newest,
            SortParam::RatingDesc => ReviewSort::RatingDesc,
            SortParam::RatingAsc => ReviewSort::RatingAsc,
        },
        rating: query.rating,
        after: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    };
    let page = reviews::list(&state, &query).await?;
    let next_cursor = page
        .last()
        .filter(|_| page.len() == limit as usize)
        .map(|last| encode_cursor((last.rating, last.created_at, last.id)));
    Ok(Json(ReviewList {
        items: page.iter().map(ReviewView::from).collect(),
        next_cursor,
    }))
}

fn encode_cursor((rating, created_at, id): ReviewKey) -> String {
    URL_SAFE_NO_PAD.encode(format!("{rating}|{}|{id}", created_at.to_rfc3339()))
}

/// A cursor is `rating|` before the `time|id` key of every other list.
fn decode_cursor(cursor: &str) -> Result<ReviewKey, ApiError> {
    let text = cursor_text(cursor)?;
    let (rating, key) = text.split_once('|').ok_or_else(invalid_cursor)?;
    let (at, id) = parse_time_id(key)?;
    Ok((rating.parse().map_err(|_| invalid_cursor())?, at, id))
}
