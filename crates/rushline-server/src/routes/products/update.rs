use axum::extract::State;
use rushline_domain::Role;
use rushline_domain::catalog::ProductFields;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ProductView, owned_product};
use crate::auth::AuthUser;
use crate::{ApiError, AppState, ErrorBody, Json, Path};

/// Changes to a product; absent (or null) fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ProductChangesBody {
    name: Option<String>,
    description: Option<String>,
    category: Option<String>,
    price: Option<i64>,
    stock: Option<i64>,
    /// `draft`, `active` or `archived`.
    #[schema(example = "archived")]
    status: Option<String>,
}

/// Changes a product: its owner or an admin.
#[utoipa::path(
    patch,
    path = "/api/v1/products/{id}",
    tag = "catalog",
    params(("id" = Uuid, Path, description = "product id")),
    request_body = ProductChangesBody,
    responses(
        (status = 200, body = ProductView),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "a buyer (`forbidden`)", body = ErrorBody),
        (status = 404, description = "no such product, deleted, or another seller's (`not_found`)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, with `details.fields`", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Json(body): Json<ProductChangesBody>,
) -> Result<Json<ProductView>, ApiError> {
    if user.role == Role::Buyer {
        return Err(ApiError::forbidden());
    }
    owned_product(&state, user, id, true).await?;
    let changes = ProductFields {
        name: body.name,
        description: body.description,
        category: body.category,
        price: body.price,
        stock: body.stock,
        status: body.status,
    }
    .validate_changes()?;
    let now = state.clock.now();
    state.store.update_product(id, &changes, now).await?;
    state.catalog.cache.invalidate(id).await;
    let details = state.store.product_details(id, now).await?;
    Ok(Json(ProductView::new(&details, now)))
}
