//! Handlers, one module per resource, each named by its verb.

mod admin;
mod auth;
mod cart;
mod coupons;
mod drops;
mod me;
mod ops;
mod orders;
mod products;
mod queue;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::openapi::ApiDoc;

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
}
