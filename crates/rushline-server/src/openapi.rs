use axum::Router;
use axum::routing::get;
use utoipa::Modify;
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
        (name = "catalog", description = "Products, their images and time sales"),
        (name = "auth", description = "Sign-up, e-mail verification, login and refresh-token sessions"),
        (name = "me", description = "The caller's own account"),
        (name = "drops", description = "Limited allocations sold in a window, and purchases"),
        (name = "cart", description = "The buyer's cart, checked out as one all-or-nothing order"),
        (name = "coupons", description = "Coupon campaigns claimed first come, first served, and buyers' wallets"),
        (name = "points", description = "Buyers' points: earned on completed orders, spent at checkout"),
        (name = "orders", description = "Orders through their lifecycle: payment, shipping, delivery, cancel, return"),
        (name = "queue", description = "The waiting room in front of a drop: places, passes, events and numbers"),
        (name = "admin", description = "Operator tasks for admins: bulk import of accounts"),
    )
)]
pub(crate) struct ApiDoc;

/// The `bearer` security scheme: an access token from `/api/v1/auth/login`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
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
