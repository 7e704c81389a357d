use axum::Router;
use axum::routing::get;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "rushline",
        description = "Fair first-come-first-served sales of limited stock. Money is integer KRW; \
                       times are RFC 3339 UTC; every error is `{\"error\": {\"code\", \"message\"}}` \
                       with a stable code."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "ops", description = "Health, readiness and metrics"),
        (name = "drops", description = "Limited allocations sold in a window, and purchases"),
        (name = "queue", description = "The waiting room in front of a drop: places, passes, events and numbers"),
    )
)]
pub(crate) struct ApiDoc;

/// Declares the `bearer` scheme that authenticated operations name in `security`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

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
