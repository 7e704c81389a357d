use axum::extract::State;
use rushline_app::catalog;
use rushline_domain::Won;
use rushline_domain::catalog::ProductFields;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ProductView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

/// Changes to a product; absent (or null) fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ProductChangesBody {
    name: Option<String>,
    description: Option<String>,
    category: Option<String>,
    #[schema(value_type = Option<i64>)]
    price: Option<Won>,
    stock: Option<i64>,
    /// `draft`, `active` or `archived`.
    #[schema(example = "archived")]
    status: Option<String>,
    /// Units of the product one order may hold, 1 to 1000; carts holding more are refused at
    /// checkout.
    max_per_order: Option<i64>,
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
    let fields = ProductFields {
        name: body.name,
        description: body.description,
        category: body.category,
        price: body.price,
        stock: body.stock,
        status: body.status,
        max_per_order: body.max_per_order,
    };
    let details = catalog::update_product(&state, user, id, fields).await?;
    Ok(Json(ProductView::new(&details, state.clock.now())))
}
