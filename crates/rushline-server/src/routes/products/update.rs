use axum::extract::State;
use rushline_app::{AppError, ErrorCode};
use rushline_domain::Role;
use rushline_domain::catalog::ProductFields;
use rushline_gate::PoolKey;
use rushline_store::{POOLS_HELD_CHECK, product_pool_key};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ProductView, owned_product};
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

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

errors!(UpdateErrors: [Unauthorized, Forbidden, NotFound, StockBelowHeld, ValidationFailed]);

/// Changes a product: its owner or an admin.
#[utoipa::path(
    patch,
    path = "/api/v1/products/{id}",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "product id")),
    request_body = ProductChangesBody,
    responses((status = 200, body = ProductView), UpdateErrors)
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Json(body): Json<ProductChangesBody>,
) -> Result<Json<ProductView>, ApiError> {
    if user.role == Role::Buyer {
        return Err(AppError::forbidden().into());
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
    let restocked = changes.stock.is_some();
    state
        .store
        .update_product(id, &changes, now)
        .await
        .map_err(|e| {
            if e.is_conflict_on(POOLS_HELD_CHECK) {
                ApiError::new(
                    ErrorCode::StockBelowHeld,
                    "orders hold more units than this stock",
                )
            } else {
                e.into()
            }
        })?;
    if restocked {
        // The gate's copy of the pool has the old total: rebuild it from the database.
        state
            .claims
            .gate
            .invalidate(&PoolKey(product_pool_key(id)))
            .await?;
    }
    state.catalog.cache.invalidate(id).await;
    let details = state.store.product_details(id, now).await?;
    Ok(Json(ProductView::new(&details, now)))
}
