use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::AppError;
use rushline_domain::Role;
use uuid::Uuid;

use super::owned_product;
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
    if user.role == Role::Buyer {
        return Err(AppError::forbidden().into());
    }
    owned_product(&state, user, id, true).await?;
    state.store.delete_product(id, state.clock.now()).await?;
    state.catalog.cache.invalidate(id).await;
    Ok(StatusCode::NO_CONTENT)
}
