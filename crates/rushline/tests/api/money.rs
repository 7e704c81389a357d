//! Money never wraps: every price a client sets is bounded, and a line or an order that would
//! cost more than an order may is refused as a field error, not answered with a wrapped total.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use rushline_domain::money::{MAX_ORDER_LINES, MAX_PRICE};
use rushline_domain::{Clock, Role, Won};
use rushline_store::ProductDrop;
use rushline_testkit::{TestApp, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};
use uuid::Uuid;

/// The price that once bought 4 units for a subtotal of 4 won: 2^62 + 1.
const WRAPPING_PRICE: i64 = 4_611_686_018_427_387_905;

async fn send(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Value,
) -> TestResponse {
    app.send(
        method,
        path,
        Some(body),
        &[("authorization", &user.bearer())],
    )
    .await
}

/// A field error on `field`, and only the fields in `fields` named.
fn assert_refused(response: &TestResponse, fields: &[&str]) {
    response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.error_code(), "validation_failed");
    let reported = response.json()["error"]["details"]["fields"].clone();
    let mut named: Vec<&str> = reported
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    named.sort_unstable();
    assert_eq!(named, fields, "{reported}");
}

async fn purchase(
    app: &TestApp,
    buyer: &TestUser,
    drop_id: Uuid,
    quantity: i64,
    key: &str,
) -> TestResponse {
    app.send(
        Method::POST,
        &format!("/api/v1/drops/{drop_id}/purchase"),
        Some(json!({ "quantity": quantity })),
        &[("authorization", &buyer.bearer()), ("idempotency-key", key)],
    )
    .await
}

fn drop_terms(product: Uuid, price: i64, now: DateTime<Utc>) -> Value {
    json!({
        "product_id": product, "quantity": 10_000, "price": price, "per_user_limit": 10_000,
        "opens_at": now + Duration::minutes(1), "closes_at": now + Duration::hours(1),
    })
}

backend_test! {
    async fn a_price_beyond_the_bound_is_a_field_error_wherever_a_client_sets_one(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let product = app.product(&seller, 129_000, 5).await;
        let now = app.clock.now();
        let beyond = MAX_PRICE.get() + 1;

        for price in [WRAPPING_PRICE, beyond, i64::MAX] {
            let drop = send(&app, &seller, Method::POST, "/api/v1/drops", drop_terms(product.id, price, now)).await;
            assert_refused(&drop, &["price"]);
        }
        let at_bound = send(&app, &seller, Method::POST, "/api/v1/drops", drop_terms(product.id, MAX_PRICE.get(), now)).await;
        at_bound.assert_status(StatusCode::CREATED);
        let path = format!("/api/v1/drops/{}", at_bound.json()["id"].as_str().unwrap());
        assert_refused(&send(&app, &seller, Method::PATCH, &path, json!({"price": WRAPPING_PRICE})).await, &["price"]);

        let new_product = json!({"name": "Aurora", "description": "", "category": "shoes", "price": beyond, "stock": 1});
        assert_refused(&send(&app, &seller, Method::POST, "/api/v1/products", new_product).await, &["price"]);
        let path = format!("/api/v1/products/{}", product.id);
        assert_refused(&send(&app, &seller, Method::PATCH, &path, json!({"price": WRAPPING_PRICE})).await, &["price"]);
        let sale = json!({"price": WRAPPING_PRICE, "starts_at": now, "ends_at": now + Duration::hours(1)});
        assert_refused(&send(&app, &seller, Method::POST, &format!("{path}/time-sales"), sale).await, &["price"]);

        let campaign = json!({
            "name": "Too generous", "total": 10, "claim_starts_at": now, "claim_ends_at": now + Duration::hours(1),
            "valid_from": now, "valid_until": now + Duration::days(1), "min_order_amount": WRAPPING_PRICE,
            "discount": {"kind": "fixed", "amount": beyond}, "scope": {"kind": "seller"},
        });
        let refused = send(&app, &seller, Method::POST, "/api/v1/coupon-campaigns", campaign).await;
        assert_refused(&refused, &["discount.amount", "min_order_amount"]);
    }
}

backend_test! {
    async fn a_purchase_that_would_overflow_is_refused_on_its_quantity(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let product = app.product(&seller, 129_000, 0).await;
        let now = app.clock.now();
        let created = send(&app, &seller, Method::POST, "/api/v1/drops", drop_terms(product.id, MAX_PRICE.get(), now)).await;
        created.assert_status(StatusCode::CREATED);
        let at_bound: Uuid = created.json()["id"].as_str().unwrap().parse().unwrap();

        // A drop priced before prices were bounded, as it was stored then.
        let legacy = ProductDrop {
            id: Uuid::now_v7(),
            price: Won::new(WRAPPING_PRICE),
            ..app.state().store.drop_by_id(at_bound).await.unwrap()
        };
        app.state().store.create_drop(&legacy, None, &[]).await.unwrap();

        app.advance(Duration::minutes(1)).await;
        assert_refused(&purchase(&app, &buyer, at_bound, 1_001, "beyond-the-line").await, &["quantity"]);
        let wrapped = purchase(&app, &buyer, legacy.id, 4, "wrapping").await;
        assert_refused(&wrapped, &["quantity"]);
        // Even one unit costs more than an order may.
        assert_refused(&purchase(&app, &buyer, legacy.id, 1, "one").await, &["quantity"]);

        let most = purchase(&app, &buyer, at_bound, 1_000, "the-most").await;
        most.assert_status(StatusCode::CREATED);
        let order = most.json();
        let expected = MAX_PRICE.checked_mul(1_000).unwrap().get();
        assert_eq!((order["subtotal"].as_i64(), order["total"].as_i64()), (Some(expected), Some(expected)));
    }
}

backend_test! {
    async fn cart_and_checkout_totals_are_bounded_and_never_wrapped(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let add = |product: Uuid, quantity: i64| send(&app, &buyer, Method::POST, "/api/v1/cart/items", json!({"product_id": product, "quantity": quantity}));
        let checkout = |key: &'static str, body: Value| {
            let auth = buyer.bearer();
            let app = &app;
            async move {
                app.send(Method::POST, "/api/v1/cart/checkout", Some(body), &[("authorization", &auth), ("idempotency-key", key)]).await
            }
        };

        // The dearest cart within the bounds is checked out whole.
        let dearest = app.product(&seller, MAX_PRICE.get(), 999).await;
        crate::cart::limit_per_order(&app, &seller, &dearest, 999).await;
        add(dearest.id, 999).await.assert_status(StatusCode::CREATED);
        let bought = checkout("dearest", json!({})).await;
        bought.assert_status(StatusCode::CREATED);
        assert_eq!(bought.json()["total"].as_i64(), Some(MAX_PRICE.get() * 999));

        // A product priced before prices were bounded: 4 units would wrap, and even 1 costs more
        // than an order may.
        let legacy = app.product(&seller, WRAPPING_PRICE, 10).await;
        assert_refused(&add(legacy.id, 4).await, &["quantity"]);
        let cart = app.send(Method::GET, "/api/v1/cart", None, &[("authorization", &buyer.bearer())]).await;
        assert_refused(&cart, &["quantity"]);
        assert_refused(&checkout("wrapping", json!({})).await, &["quantity"]);
        let path = format!("/api/v1/cart/items/{}", legacy.id);
        send(&app, &buyer, Method::PATCH, &path, json!({"quantity": 1})).await.assert_status(StatusCode::OK);
        assert_refused(&checkout("one-legacy", json!({})).await, &["quantity"]);
        app.send(Method::DELETE, &path, None, &[("authorization", &buyer.bearer())]).await.assert_status(StatusCode::NO_CONTENT);

        // More lines than an order may have: the cart takes no more, so every cart can be
        // checked out whole.
        let mut ids = Vec::new();
        for _ in 0..MAX_ORDER_LINES {
            let product = app.product(&seller, 1_000, 5).await;
            add(product.id, 1).await.assert_status(StatusCode::CREATED);
            ids.push(product.id);
        }
        let one_more = app.product(&seller, 1_000, 5).await;
        assert_eq!(add(one_more.id, 1).await.error_code(), "cart_full");
        let most = checkout("the-most", json!({"product_ids": ids[..MAX_ORDER_LINES]})).await;
        most.assert_status(StatusCode::CREATED);
        assert_eq!(most.json()["total"].as_i64(), Some(1_000 * MAX_ORDER_LINES as i64));
    }
}
