//! Handlers, one module per resource, each named by its verb.

mod admin;
mod auth;
mod cart;
mod coupons;
mod drops;
mod me;
mod notifications;
mod ops;
pub(crate) mod orders;
mod products;
pub(crate) mod queue;
mod raffles;
mod reviews;
mod settlements;
mod stats;
mod trials;
mod wishlist;

use rushline_app::ErrorCode;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;
use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(drops::router())
        .merge(coupons::router())
        .merge(orders::router())
        .merge(cart::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(queue::router())
        .merge(admin::router())
        .merge(products::router())
        .merge(trials::router())
        .merge(reviews::router())
        .merge(raffles::router())
        .merge(settlements::router())
        .merge(stats::router())
        .merge(notifications::router())
        .merge(wishlist::router())
}

/// A worker's routes: liveness and metrics.
pub(crate) fn worker_router() -> OpenApiRouter<AppState> {
    ops::worker_router()
}

/// A list's `limit`: `default` when absent, else 1 to 100 (400 `invalid_query`).
fn page_limit(limit: Option<u32>, default: u32) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "limit must be between 1 and 100",
        ));
    }
    Ok(limit)
}
