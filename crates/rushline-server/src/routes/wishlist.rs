//! `/api/v1/me/wishlist`: products a buyer wants, apart from the cart.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::wishlist;
use rushline_domain::Won;
use rushline_store::Wish;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Buyer;
use crate::openapi::errors;
use crate::routes::cart::{CartView, QuantityBody};
use crate::routes::orders::list::{decode_cursor, next_cursor};
use crate::{ApiError, AppState, Json, Path, Query};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(put, delete))
        .routes(routes!(to_cart))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListWishes {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WishView {
    product_id: Uuid,
    name: String,
    /// The list price, in KRW.
    #[schema(value_type = i64)]
    price: Won,
    added_at: DateTime<Utc>,
}

impl From<Wish> for WishView {
    fn from(wish: Wish) -> Self {
        Self {
            product_id: wish.product_id,
            name: wish.product_name,
            price: wish.price,
            added_at: wish.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Wishlist {
    items: Vec<WishView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

errors!(ListErrors: [InvalidQuery, InvalidCursor, Unauthorized, Forbidden]);

/// The caller's wishlist, last added first. Products no longer on sale (archived, deleted) drop
/// out of it.
#[utoipa::path(
    get,
    path = "/api/v1/me/wishlist",
    tag = "wishlist",
    security(("bearer" = [])),
    params(ListWishes),
    responses((status = 200, body = Wishlist), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Query(query): Query<ListWishes>,
) -> Result<Json<Wishlist>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 50)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let wishes = wishlist::list(&state, buyer.id, after, limit).await?;
    let next_cursor = next_cursor(&wishes, limit, |last| (last.created_at, last.product_id));
    Ok(Json(Wishlist {
        items: wishes.into_iter().map(WishView::from).collect(),
        next_cursor,
    }))
}

errors!(PutErrors: [InvalidPath, Unauthorized, Forbidden, NotFound, WishlistFull]);

/// Puts an active product on the caller's wishlist (at most 500); putting it again changes
/// nothing. Its wishers hear when a drop of it is scheduled, ten minutes before the drop opens,
/// and when a time sale of it starts.
#[utoipa::path(
    put,
    path = "/api/v1/me/wishlist/{product_id}",
    tag = "wishlist",
    security(("bearer" = [])),
    params(("product_id" = Uuid, Path)),
    responses((status = 204, description = "on the wishlist"), PutErrors)
)]
pub(crate) async fn put(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(product_id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    wishlist::wish(&state, buyer.id, product_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

errors!(DeleteErrors: [InvalidPath, Unauthorized, Forbidden]);

/// Takes a product off the caller's wishlist; nothing when it is not on it.
#[utoipa::path(
    delete,
    path = "/api/v1/me/wishlist/{product_id}",
    tag = "wishlist",
    security(("bearer" = [])),
    params(("product_id" = Uuid, Path)),
    responses((status = 204, description = "not on the wishlist"), DeleteErrors)
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(product_id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    wishlist::unwish(&state, buyer.id, product_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

errors!(ToCartErrors: [InvalidPath, Unauthorized, Forbidden, NotFound, CartLineFull, CartFull, ValidationFailed, InvalidBody, MalformedJson]);

/// Moves a product from the caller's wishlist into the cart, `quantity` units, as
/// `POST /api/v1/cart/items` would add them.
#[utoipa::path(
    post,
    path = "/api/v1/me/wishlist/{product_id}/to-cart",
    tag = "wishlist",
    security(("bearer" = [])),
    params(("product_id" = Uuid, Path)),
    request_body = QuantityBody,
    responses((status = 200, body = CartView), ToCartErrors)
)]
pub(crate) async fn to_cart(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(product_id): Path<Uuid>,
    Json(body): Json<QuantityBody>,
) -> Result<Json<CartView>, ApiError> {
    let cart = wishlist::to_cart(&state, buyer.id, product_id, body.quantity).await?;
    Ok(Json(cart.into()))
}
