use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rushline_app::catalog;
use rushline_domain::Won;
use rushline_domain::catalog::ProductFields;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ProductView, json_bytes, json_response};
use crate::auth::Seller;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json};

/// A new product. Every field but `status` and `max_per_order` is required.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct NewProductBody {
    /// 1 to 100 characters, trimmed.
    #[schema(example = "Aurora sneakers")]
    name: Option<String>,
    /// At most 5000 characters; may be empty.
    #[schema(example = "Limited colourway, hand-stitched")]
    description: Option<String>,
    /// 1 to 50 characters; stored lowercased.
    #[schema(example = "shoes")]
    category: Option<String>,
    /// List price: a whole number of KRW, at least 1.
    #[schema(value_type = Option<i64>, example = 129000)]
    price: Option<Won>,
    /// Regular stock, at least 0.
    #[schema(example = 40)]
    stock: Option<i64>,
    /// `draft` (default) or `active`.
    #[schema(example = "active")]
    status: Option<String>,
    /// Units of the product one order (a cart line) may hold, 1 to 1000; default 10.
    #[schema(example = 2)]
    max_per_order: Option<i64>,
}

errors!(CreateErrors: [InvalidIdempotencyKey, Unauthorized, Forbidden, ValidationFailed, IdempotencyMismatch]);

/// Lists a product for sale (or keeps it as a draft).
#[utoipa::path(
    post,
    path = "/api/v1/products",
    tag = "catalog",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the product the first attempt created"),
    ),
    request_body = NewProductBody,
    responses(
        (status = 201, description = "created; `Location` names it", body = ProductView),
        CreateErrors,
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Seller(seller): Seller,
    key: Option<IdempotencyKey>,
    Json(body): Json<NewProductBody>,
) -> Result<Response, ApiError> {
    let fields = ProductFields {
        name: body.name,
        description: body.description,
        category: body.category,
        price: body.price,
        stock: body.stock,
        status: body.status,
        max_per_order: body.max_per_order,
    };
    let key = key.as_ref().map(|key| key.0.as_str());
    let details = catalog::create_product(&state, seller, key, fields).await?;
    let location = format!("/api/v1/products/{}", details.product.id);
    let body = json_bytes(&ProductView::new(&details, state.clock.now()));
    Ok((
        [(header::LOCATION, location)],
        json_response(StatusCode::CREATED, body),
    )
        .into_response())
}
