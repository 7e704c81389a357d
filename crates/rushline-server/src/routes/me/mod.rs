//! `/api/v1/me`: the caller's own account.

mod coupons;
mod password;
mod points;
mod show;
mod trials;
mod update;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show::show, update::update))
        .routes(routes!(password::change_password))
        .routes(routes!(coupons::list_coupons))
        .routes(routes!(points::points))
        .routes(routes!(trials::list_trials))
        .routes(routes!(trials::cancel_trial))
}
