use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rushline_app::AppError;
use uuid::Uuid;

use super::{ProductView, json_response, may_see, product_page};
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Path};

errors!(ShowErrors: [InvalidPath, NotFound]);

/// A product with its price now (`effective_price`) and the time sale in force (or null).
/// Drafts, archived and deleted products answer 404 to all but their owner and admins. Cached.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    tag = "catalog",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "product id")),
    responses((status = 200, body = ProductView), ShowErrors)
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Option<AuthUser>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let page = product_page(&state, id, state.clock.now()).await?;
    if !may_see(page.seller_id, page.public, viewer) {
        return Err(AppError::not_found().into());
    }
    Ok(json_response(StatusCode::OK, page.body))
}
