use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::{ProductView, json_response, may_see, product_page};
use crate::auth::AuthUser;
use crate::{ApiError, AppState, ErrorBody, Path};

/// A product with its price now (`effective_price`) and the time sale in force (or null).
/// Drafts, archived and deleted products answer 404 to all but their owner and admins. Cached.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    tag = "catalog",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "product id")),
    responses(
        (status = 200, body = ProductView),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 404, description = "no such product, or not visible to the caller (`not_found`)", body = ErrorBody),
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Option<AuthUser>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let page = product_page(&state, id, state.clock.now()).await?;
    if !may_see(page.seller_id, page.public, viewer) {
        return Err(ApiError::not_found());
    }
    Ok(json_response(StatusCode::OK, page.body))
}
