//! `/api/v1/me`: the caller's own account.

mod coupons;
mod password;
mod points;
mod show;
mod update;

use rushline_app::AppError;
use rushline_store::{DbError, User};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show::show, update::update))
        .routes(routes!(password::change_password))
        .routes(routes!(coupons::list_coupons))
        .routes(routes!(points::points))
}

/// The caller's account. A valid token for an account that no longer exists is no credential.
async fn own_account(state: &AppState, id: Uuid) -> Result<User, ApiError> {
    match state.store.user_by_id(id).await {
        Ok(user) => Ok(user),
        Err(DbError::NotFound) => Err(AppError::unauthorized().into()),
        Err(e) => Err(e.into()),
    }
}
