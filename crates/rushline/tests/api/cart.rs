//! The cart, and checking it out as one all-or-nothing order against regular stock.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use rushline_domain::{Clock, Role};
use rushline_store::Product;
use rushline_testkit::{TestApp, TestClient, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};

async fn call(
    client: &TestClient,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> TestResponse {
    client
        .send(method, path, body, &[("authorization", &user.bearer())])
        .await
}

async fn add(app: &TestApp, buyer: &TestUser, product: &Product, quantity: i64) -> TestResponse {
    call(
        &app.client(),
        buyer,
        Method::POST,
        "/api/v1/cart/items",
        Some(json!({"product_id": product.id, "quantity": quantity})),
    )
    .await
}

async fn checkout(client: &TestClient, buyer: &TestUser, key: &str, body: Value) -> TestResponse {
    client
        .send(
            Method::POST,
            "/api/v1/cart/checkout",
            Some(body),
            &[("authorization", &buyer.bearer()), ("idempotency-key", key)],
        )
        .await
}

async fn cart(app: &TestApp, buyer: &TestUser) -> Value {
    let response = call(&app.client(), buyer, Method::GET, "/api/v1/cart", None).await;
    response.assert_status(StatusCode::OK);
    response.json()
}

fn line<'a>(cart: &'a Value, product: &Product) -> &'a Value {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_id"] == product.id.to_string())
        .expect("a cart line")
}

/// Sets how many units of `product` one order may hold, as its seller.
pub(crate) async fn limit_per_order(app: &TestApp, seller: &TestUser, product: &Product, max: i64) {
    app.send(
        Method::PATCH,
        &format!("/api/v1/products/{}", product.id),
        Some(json!({"max_per_order": max})),
        &[("authorization", &seller.bearer())],
    )
    .await
    .assert_status(StatusCode::OK);
}

backend_test! {
    async fn one_order_holds_at_most_the_products_units_per_order(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let created = app.send(
            Method::POST,
            "/api/v1/products",
            Some(json!({"name": "Socks", "description": "", "category": "socks", "price": 9_000, "stock": 500, "status": "active"})),
            &[("authorization", &seller.bearer())],
        ).await;
        created.assert_status(StatusCode::CREATED);
        assert_eq!(created.json()["max_per_order"], 10, "the default");
        let socks: Product = app.state().store.product(created.json()["id"].as_str().unwrap().parse().unwrap()).await.unwrap();

        add(&app, &buyer, &socks, 6).await.assert_status(StatusCode::CREATED);
        add(&app, &buyer, &socks, 4).await.assert_status(StatusCode::CREATED);
        let over = add(&app, &buyer, &socks, 1).await;
        assert_eq!((over.status, over.error_code()), (StatusCode::CONFLICT, "cart_line_full".to_owned()));
        assert_eq!(over.json()["error"]["details"]["max_per_order"], 10);
        let path = format!("/api/v1/cart/items/{}", socks.id);
        let set = call(&app.client(), &buyer, Method::PATCH, &path, Some(json!({"quantity": 11}))).await;
        assert_eq!(set.error_code(), "cart_line_full");
        assert_eq!(line(&cart(&app, &buyer).await, &socks)["quantity"], 10, "nothing changed");

        // The seller lowers the limit below what the cart holds: the checkout is refused whole,
        // and claims nothing, until the line fits.
        limit_per_order(&app, &seller, &socks, 5).await;
        let refused = checkout(&app.client(), &buyer, "k", json!({})).await;
        assert_eq!((refused.status, refused.error_code()), (StatusCode::CONFLICT, "cart_line_full".to_owned()));
        assert_eq!(app.get(&format!("/api/v1/products/{}", socks.id)).await.json()["stock"], 500);
        call(&app.client(), &buyer, Method::PATCH, &path, Some(json!({"quantity": 5}))).await.assert_status(StatusCode::OK);
        checkout(&app.client(), &buyer, "k2", json!({})).await.assert_status(StatusCode::CREATED);

        for bad in [0, 1001] {
            let patched = app.send(
                Method::PATCH,
                &format!("/api/v1/products/{}", socks.id),
                Some(json!({"max_per_order": bad})),
                &[("authorization", &seller.bearer())],
            ).await;
            assert_eq!(patched.error_code(), "validation_failed", "{bad}");
        }
    }
}

backend_test! {
    async fn a_cart_holds_as_many_lines_as_one_order(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let mut products = Vec::new();
        for _ in 0..101 {
            products.push(app.product(&seller, 1_000, 5).await);
        }
        for product in &products[..100] {
            add(&app, &buyer, product, 1).await.assert_status(StatusCode::CREATED);
        }
        let over = add(&app, &buyer, &products[100], 1).await;
        over.assert_status(StatusCode::CONFLICT);
        assert_eq!(over.error_code(), "cart_full");
        // A line already there still takes more units.
        add(&app, &buyer, &products[0], 1).await.assert_status(StatusCode::CREATED);
        assert_eq!(cart(&app, &buyer).await["items"].as_array().unwrap().len(), 100);
    }
}

backend_test! {
    async fn cart_lines_merge_change_and_go(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let (shoes, socks) = (app.product(&seller, 120_000, 5).await, app.product(&seller, 9_000, 40).await);

        add(&app, &buyer, &shoes, 1).await.assert_status(StatusCode::CREATED);
        add(&app, &buyer, &socks, 3).await.assert_status(StatusCode::CREATED);
        let merged = add(&app, &buyer, &shoes, 1).await;
        let view = merged.json();
        assert_eq!(line(&view, &shoes)["quantity"], 2);
        assert_eq!((line(&view, &shoes)["available"].as_u64(), line(&view, &socks)["subtotal"].as_i64()), (Some(5), Some(27_000)));
        assert_eq!(view["total"], 2 * 120_000 + 27_000);

        let path = format!("/api/v1/cart/items/{}", socks.id);
        let changed = call(&app.client(), &buyer, Method::PATCH, &path, Some(json!({"quantity": 1}))).await;
        assert_eq!(line(&changed.json(), &socks)["quantity"], 1);
        call(&app.client(), &buyer, Method::DELETE, &path, None).await.assert_status(StatusCode::NO_CONTENT);
        call(&app.client(), &buyer, Method::DELETE, &path, None).await.assert_status(StatusCode::NOT_FOUND);
        call(&app.client(), &buyer, Method::PATCH, &path, Some(json!({"quantity": 1}))).await.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(cart(&app, &buyer).await["items"].as_array().unwrap().len(), 1);

        for bad in [0, -1, 1000] {
            let refused = add(&app, &buyer, &socks, bad).await;
            assert_eq!((refused.status, refused.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".to_owned()));
        }
        limit_per_order(&app, &seller, &shoes, 1000).await;
        add(&app, &buyer, &shoes, 997).await.assert_status(StatusCode::CREATED);
        assert_eq!(add(&app, &buyer, &shoes, 1).await.error_code(), "cart_line_full");
        let missing = call(&app.client(), &buyer, Method::POST, "/api/v1/cart/items", Some(json!({"product_id": uuid::Uuid::now_v7(), "quantity": 1}))).await;
        missing.assert_status(StatusCode::NOT_FOUND);
        call(&app.client(), &seller, Method::GET, "/api/v1/cart", None).await.assert_status(StatusCode::FORBIDDEN);
        app.get("/api/v1/cart").await.assert_status(StatusCode::UNAUTHORIZED);
    }
}

backend_test! {
    async fn checkout_is_all_or_nothing_and_empties_the_bought_lines(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let (shoes, cap) = (app.product(&seller, 120_000, 5).await, app.product(&seller, 30_000, 1).await);
        add(&app, &buyer, &shoes, 2).await;
        add(&app, &buyer, &cap, 2).await;

        let short = checkout(&app.client(), &buyer, "all", json!({})).await;
        short.assert_status(StatusCode::CONFLICT);
        assert_eq!(short.error_code(), "sold_out");
        assert_eq!(short.json()["error"]["details"]["product_id"], cap.id.to_string());
        let after = cart(&app, &buyer).await;
        assert_eq!(line(&after, &shoes)["available"], 5, "the lines already claimed were given back");
        assert_eq!(after["items"].as_array().unwrap().len(), 2, "a refused checkout leaves the cart alone");

        let only_shoes = checkout(&app.client(), &buyer, "shoes", json!({"product_ids": [shoes.id]})).await;
        only_shoes.assert_status(StatusCode::CREATED);
        let order = only_shoes.json();
        assert_eq!((order["status"].as_str(), order["total"].as_i64()), (Some("pending_payment"), Some(240_000)));
        assert_eq!(order["lines"].as_array().unwrap().len(), 1);
        assert_eq!(order["history"][0]["cause"], "checkout");
        let left = cart(&app, &buyer).await;
        assert_eq!(left["items"].as_array().unwrap().len(), 1);
        assert_eq!(line(&left, &cap)["quantity"], 2);

        let not_there = checkout(&app.client(), &buyer, "ghost", json!({"product_ids": [shoes.id]})).await;
        assert_eq!(not_there.error_code(), "not_in_cart");
        call(&app.client(), &buyer, Method::PATCH, &format!("/api/v1/cart/items/{}", cap.id), Some(json!({"quantity": 1}))).await;
        add(&app, &buyer, &shoes, 3).await;
        let both = checkout(&app.client(), &buyer, "both", json!({})).await;
        both.assert_status(StatusCode::CREATED);
        assert_eq!(both.json()["lines"].as_array().unwrap().len(), 2);
        assert_eq!(both.json()["total"], 3 * 120_000 + 30_000);
        assert!(cart(&app, &buyer).await["items"].as_array().unwrap().is_empty());
        assert_eq!(checkout(&app.client(), &buyer, "again", json!({})).await.error_code(), "empty_cart");

        // A retry answers the first order, though the cart has changed since; the same key
        // naming other lines is a mismatch.
        add(&app, &buyer, &shoes, 1).await;
        let replay = checkout(&app.client(), &buyer, "both", json!({})).await;
        assert_eq!((replay.status, replay.json()["id"].clone()), (StatusCode::CREATED, both.json()["id"].clone()));
        assert_eq!(line(&cart(&app, &buyer).await, &shoes)["quantity"], 1, "a replay buys nothing more");
        let other_lines = checkout(&app.client(), &buyer, "both", json!({"product_ids": [shoes.id]})).await;
        assert_eq!(other_lines.error_code(), "idempotency_mismatch");
    }
}

backend_test! {
    async fn regular_stock_cannot_oversell_under_concurrent_checkouts(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let product = app.product(&seller, 15_000, 50).await;
        let buyers = app.users(Role::Buyer, 200).await;
        for buyer in &buyers {
            add(&app, buyer, &product, 1).await.assert_status(StatusCode::CREATED);
        }
        let tasks: Vec<_> = buyers
            .iter()
            .map(|buyer| {
                let (client, buyer) = (app.client(), buyer.clone());
                tokio::spawn(async move { checkout(&client, &buyer, "rush", json!({})).await })
            })
            .collect();
        let mut sold = 0;
        for task in tasks {
            let response = task.await.unwrap();
            match response.status {
                StatusCode::CREATED => sold += 1,
                _ => assert_eq!(response.error_code(), "sold_out"),
            }
        }
        assert_eq!(sold, 50);
        let (pool, claims) = app.state().store.pool_snapshot(&format!("product:{}", product.id)).await.unwrap();
        assert_eq!((pool.held, claims.len()), (50, 50));
        let pool = rushline_gate::PoolKey(format!("product:{}", product.id));
        assert_eq!(app.state().claims.gate.remaining(&pool).await.unwrap(), Some(0), "the gate agrees");
    }
}

backend_test! {
    async fn stock_changes_move_the_pool_and_expiry_gives_units_back(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let product = app.product(&seller, 15_000, 3).await;
        add(&app, &buyer, &product, 3).await;
        checkout(&app.client(), &buyer, "all", json!({})).await.assert_status(StatusCode::CREATED);

        let path = format!("/api/v1/products/{}", product.id);
        let too_low = call(&app.client(), &seller, Method::PATCH, &path, Some(json!({"stock": 2}))).await;
        too_low.assert_status(StatusCode::CONFLICT);
        assert_eq!(too_low.error_code(), "stock_below_held");
        call(&app.client(), &seller, Method::PATCH, &path, Some(json!({"stock": 5}))).await.assert_status(StatusCode::OK);
        add(&app, &buyer, &product, 1).await;
        assert_eq!(line(&cart(&app, &buyer).await, &product)["available"], 2, "the gate took the new total");

        app.advance(Duration::minutes(10)).await;
        assert_eq!(line(&cart(&app, &buyer).await, &product)["available"], 5, "the expired order gave its units back");
    }
}

backend_test! {
    async fn checkout_charges_the_time_sale_price_running_now(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let product = app.product(&seller, 100_000, 10).await;
        let now = app.clock.now();
        let sale = call(
            &app.client(),
            &seller,
            Method::POST,
            &format!("/api/v1/products/{}/time-sales", product.id),
            Some(json!({"price": 70_000, "starts_at": now + Duration::minutes(1), "ends_at": now + Duration::hours(1)})),
        )
        .await;
        sale.assert_status(StatusCode::CREATED);
        add(&app, &buyer, &product, 1).await;
        assert_eq!(line(&cart(&app, &buyer).await, &product)["unit_price"], 100_000);
        app.clock.advance(Duration::minutes(1));
        let order = checkout(&app.client(), &buyer, "sale", json!({})).await;
        order.assert_status(StatusCode::CREATED);
        assert_eq!(order.json()["lines"][0]["unit_price"], 70_000);
        assert_eq!(order.json()["total"], 70_000);
    }
}

backend_test! {
    async fn checkout_redeems_a_coupon_on_the_lines_it_covers(backend: Backend) {
        use crate::coupons::{claim, create_campaign, open_claims, wallet};

        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let (shoes, socks) = (app.product(&seller, 100_000, 5).await, app.product(&seller, 9_000, 5).await);
        let campaign = create_campaign(
            &app,
            &seller,
            10,
            1,
            json!({"kind": "fixed", "amount": 15_000}),
            50_000,
            json!({"kind": "product", "product_id": shoes.id}),
        )
        .await;
        open_claims(&app, &campaign);
        let coupon = claim(&app.client(), &buyer, &campaign, "c1").await.json()["id"].as_str().unwrap().to_owned();
        add(&app, &buyer, &shoes, 1).await;
        add(&app, &buyer, &socks, 2).await;

        let too_many_points = checkout(&app.client(), &buyer, "pts", json!({"points": 1})).await;
        assert_eq!(too_many_points.error_code(), "insufficient_points");
        let bought = checkout(&app.client(), &buyer, "with-coupon", json!({"coupon_id": coupon})).await;
        bought.assert_status(StatusCode::CREATED);
        assert_eq!(bought.json()["total"], 100_000 + 2 * 9_000 - 15_000);
        let reserved = wallet(&app, &buyer, "").await;
        assert_ne!(reserved["items"][0]["status"], "available", "the coupon went with the order: {reserved}");

        let other = checkout(&app.client(), &buyer, "with-coupon", json!({})).await;
        assert_eq!(other.error_code(), "idempotency_mismatch", "the same key without the coupon is another request");
        let replay = checkout(&app.client(), &buyer, "with-coupon", json!({"coupon_id": coupon})).await;
        assert_eq!(replay.json()["id"], bought.json()["id"]);
    }
}
