use axum::Router;
use axum::routing::get;
use utoipa::openapi::OpenApi;

use crate::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "rushline",
        description = "Fair first-come-first-served sales of limited stock. Money is integer KRW; \
                       times are RFC 3339 UTC; every error is `{\"error\": {\"code\", \"message\"}}` \
                       with a stable code."
    ),
    tags(
        (name = "ops", description = "Health, readiness and metrics"),
        (name = "catalog", description = "Products, their images and time sales"),
    )
)]
pub(crate) struct ApiDoc;

/// `/openapi.json`: the document generated from the handlers' annotations.
pub(crate) fn serve(openapi: OpenApi) -> Router<AppState> {
    let json = openapi
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    Router::new().route(
        "/openapi.json",
        get(move || async move { ([("content-type", "application/json")], json.clone()) }),
    )
}
