//! `/api/v1/admin`: operator tasks over HTTP, for admins only.

mod import_users;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_users::import_users))
}
