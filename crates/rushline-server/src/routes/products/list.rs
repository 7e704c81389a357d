use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use rushline_app::{AppError, ErrorCode};
use rushline_domain::Role;
use rushline_domain::catalog::{ListingRequest, ProductCursor};
use rushline_store::{ListScope, ProductQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ProductView, json_bytes, json_response, valid_until};
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Products per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Only this category (case-insensitive).
    category: Option<String>,
    /// Words that must all occur in the name or description.
    q: Option<String>,
    /// `newest` (default), `price_asc` or `price_desc`. List price; ties by id.
    sort: Option<String>,
    /// Only this seller's products.
    seller_id: Option<Uuid>,
    /// `true` with a seller's token: that seller's own products in every status, drafts
    /// included. Not cached.
    mine: Option<bool>,
}

/// One page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProductPage {
    items: Vec<ProductView>,
    /// Pass as `cursor` for the next page; absent on the last page. Pages stay stable while
    /// products are added: nothing is skipped or repeated.
    next_cursor: Option<String>,
}

errors!(ListErrors: [InvalidCursor, InvalidQuery, Unauthorized, Forbidden, ValidationFailed]);

/// The public catalog: active products, newest first unless sorted otherwise. Cached; a write to
/// any product is visible on the next request on every node.
#[utoipa::path(
    get,
    path = "/api/v1/products",
    tag = "catalog",
    security((), ("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = ProductPage), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    viewer: Option<AuthUser>,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    let request = ListingRequest::validate(
        params.sort.as_deref(),
        params.limit,
        params.category.as_deref(),
        params.q.as_deref(),
    )?;
    let after = params
        .cursor
        .as_deref()
        .map(|cursor| ProductCursor::decode(cursor, request.sort))
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::InvalidCursor, e.to_string()))?;
    let scope = if params.mine == Some(true) {
        let user = viewer.ok_or_else(AppError::unauthorized)?;
        if user.role != Role::Seller {
            return Err(AppError::forbidden().into());
        }
        ListScope::OwnedBy(user.id)
    } else {
        ListScope::Active
    };
    let query = ProductQuery {
        scope,
        category: request.category,
        seller_id: params.seller_id,
        terms: request.terms,
        sort: request.sort,
        after,
        limit: request.limit,
    };
    let now = state.clock.now();
    let body = match scope {
        ListScope::Active => {
            state
                .catalog
                .cache
                .list(&query, now, || load_page(&state, &query, now))
                .await?
        }
        ListScope::OwnedBy(_) => load_page(&state, &query, now).await?.0,
    };
    Ok(json_response(StatusCode::OK, body))
}

/// The rendered page and the time its prices stop being right.
async fn load_page(
    state: &AppState,
    query: &ProductQuery,
    now: DateTime<Utc>,
) -> Result<(Bytes, Option<DateTime<Utc>>), ApiError> {
    // One more than asked tells whether another page follows.
    let probe = ProductQuery {
        limit: query.limit + 1,
        ..query.clone()
    };
    let mut details = state.store.list_products(&probe, now).await?;
    let more = details.len() > query.limit as usize;
    details.truncate(query.limit as usize);
    let next_cursor = details.last().filter(|_| more).map(|last| {
        let p = &last.product;
        ProductCursor::after(query.sort, p.created_at, p.price, p.id).encode()
    });
    let page = ProductPage {
        items: details.iter().map(|d| ProductView::new(d, now)).collect(),
        next_cursor,
    };
    Ok((json_bytes(&page), valid_until(&details, now)))
}
