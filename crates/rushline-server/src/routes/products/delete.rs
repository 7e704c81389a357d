use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::catalog;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Path};

errors!(DeleteErrors: [Unauthorized, Forbidden, NotFound]);

/// Soft-deletes a product: its owner or an admin. It leaves every listing and answers 404 to
/// everyone else from then on; its owner and admins still see it, with `deleted_at`.
#[utoipa::path(
    delete,
    path = "/api/v1/products/{id}",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "product id")),
    responses(
        (status = 204, description = "deleted"),
        DeleteErrors,
    )
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    catalog::delete_product(&state, user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
