//! `/api/v1/orders`: orders and their lifecycle — listing, cancel, return, pay.

mod cancel;
mod get;
pub(crate) mod list;
mod pay;
mod return_;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list))
        .routes(routes!(get::get))
        .routes(routes!(cancel::cancel))
        .routes(routes!(return_::request_return))
        .routes(routes!(pay::pay))
}
