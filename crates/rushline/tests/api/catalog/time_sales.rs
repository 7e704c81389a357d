use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rushline_domain::{Clock, Role};
use rushline_testkit::{TestApp, TestUser, backend_test};
use serde_json::{Value, json};

use super::{call, create, get_as, id_of, invalid_fields, product_body, wait_for_sync};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

async fn schedule(
    app: &TestApp,
    seller: &TestUser,
    product: &str,
    price: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> rushline_testkit::TestResponse {
    let body =
        json!({"price": price, "starts_at": rfc3339(starts_at), "ends_at": rfc3339(ends_at)});
    call(
        app,
        Method::POST,
        &format!("/api/v1/products/{product}/time-sales"),
        Some(body),
        Some(seller),
    )
    .await
}

backend_test! {
    async fn a_time_sale_changes_the_price_exactly_at_its_boundaries(backend: Backend) {
        let app = TestApp::new(backend).await;
        wait_for_sync(&app, |s| s.subscribed).await;
        let seller = app.user(Role::Seller).await;
        let product = id_of(&create(&app, &seller, product_body("Aurora sneakers", "shoes", 100_000)).await);
        let starts_at = app.clock.now() + Duration::hours(1);
        let ends_at = starts_at + Duration::hours(1);
        let sale = schedule(&app, &seller, &product, 79_000, starts_at, ends_at).await;
        sale.assert_status(StatusCode::CREATED);
        let sale_id = sale.json()["id"].clone();

        let path = format!("/api/v1/products/{product}");
        // Each moment is read twice: the second read comes from the cache and must agree.
        let price_at = |t: DateTime<Utc>| {
            let (app, path) = (&app, &path);
            async move {
                app.clock.set(t);
                let mut seen = Vec::new();
                for _ in 0..2 {
                    let detail = get_as(app, path, None).await.json();
                    let listed = get_as(app, "/api/v1/products", None).await.json();
                    let item = &listed["items"][0];
                    assert_eq!(item["effective_price"], detail["effective_price"]);
                    assert_eq!(item["active_time_sale"], detail["active_time_sale"]);
                    seen.push((detail["effective_price"].clone(), detail["active_time_sale"]["id"].clone()));
                }
                assert_eq!(seen[0], seen[1], "the cached answer differs at {t}");
                seen.remove(0)
            }
        };
        let us = Duration::microseconds(1);
        let list_price = (json!(100_000), Value::Null);
        let sale_price = (json!(79_000), sale_id.clone());
        assert_eq!(price_at(starts_at - Duration::minutes(30)).await, list_price);
        assert_eq!(price_at(starts_at - us).await, list_price);
        assert_eq!(price_at(starts_at).await, sale_price);
        assert_eq!(price_at(ends_at - us).await, sale_price);
        assert_eq!(price_at(ends_at).await, list_price);

        let detail = get_as(&app, &path, None).await.json();
        assert_eq!(detail["price"], 100_000);

        // A later, back-to-back sale takes over at the instant the first one ended.
        app.clock.set(starts_at);
        schedule(&app, &seller, &product, 89_000, ends_at, ends_at + Duration::hours(1))
            .await
            .assert_status(StatusCode::CREATED);
        assert_eq!(price_at(ends_at - us).await, sale_price);
        assert_eq!(price_at(ends_at).await.0, json!(89_000));

        // Lowering the list price below the sale price makes the list price the price.
        call(&app, Method::PATCH, &path, Some(json!({"price": 50_000})), Some(&seller))
            .await
            .assert_status(StatusCode::OK);
        assert_eq!(price_at(ends_at).await.0, json!(50_000));
    }
}

backend_test! {
    async fn time_sales_are_validated_and_may_not_overlap(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (seller, other, buyer) = (
            app.user(Role::Seller).await,
            app.user(Role::Seller).await,
            app.user(Role::Buyer).await,
        );
        let product = id_of(&create(&app, &seller, product_body("Aurora sneakers", "shoes", 100_000)).await);
        let now = app.clock.now();
        let at = |minutes: i64| now + Duration::minutes(minutes);

        schedule(&app, &seller, &product, 80_000, at(10), at(20)).await.assert_status(StatusCode::CREATED);
        for (from, to) in [(10, 20), (19, 30), (0, 11), (12, 13), (0, 40)] {
            let response = schedule(&app, &seller, &product, 70_000, at(from), at(to)).await;
            response.assert_status(StatusCode::CONFLICT);
            assert_eq!(response.error_code(), "time_sale_overlap", "{from}..{to}");
        }
        schedule(&app, &seller, &product, 90_000, at(0), at(10)).await.assert_status(StatusCode::CREATED);
        schedule(&app, &seller, &product, 70_000, at(20), at(30)).await.assert_status(StatusCode::CREATED);

        let listed = get_as(&app, &format!("/api/v1/products/{product}/time-sales"), None).await;
        listed.assert_status(StatusCode::OK);
        let prices: Vec<i64> = listed.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["price"].as_i64().unwrap())
            .collect();
        assert_eq!(prices, [90_000, 80_000, 70_000], "by start");

        let priced_at_list = schedule(&app, &seller, &product, 100_000, at(100), at(110)).await;
        assert_eq!(invalid_fields(&priced_at_list), ["price"]);
        let backwards = schedule(&app, &seller, &product, 1_000, at(110), at(100)).await;
        assert_eq!(invalid_fields(&backwards), ["ends_at"]);
        let over = schedule(&app, &seller, &product, 1_000, at(-20), at(-10)).await;
        assert_eq!(invalid_fields(&over), ["ends_at"]);
        let path = format!("/api/v1/products/{product}/time-sales");
        let empty = call(&app, Method::POST, &path, Some(json!({})), Some(&seller)).await;
        assert_eq!(invalid_fields(&empty), ["ends_at", "price", "starts_at"]);
        let not_a_time = call(&app, Method::POST, &path, Some(json!({"price": 1, "starts_at": "soon", "ends_at": "later"})), Some(&seller)).await;
        not_a_time.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(not_a_time.error_code(), "invalid_body");
        let far_future = call(&app, Method::POST, &path, Some(json!({"price": 1, "starts_at": rfc3339(at(300)), "ends_at": "+10000-01-01T00:00:00Z"})), Some(&seller)).await;
        assert_eq!(invalid_fields(&far_future), ["ends_at"]);
        // Outside the years a count of nanoseconds spans, within those both stores keep.
        let other_product = id_of(&create(&app, &seller, product_body("Aurora boots", "shoes", 100_000)).await);
        let other_path = format!("/api/v1/products/{other_product}/time-sales");
        let long_ago = call(&app, Method::POST, &other_path, Some(json!({"price": 1, "starts_at": "1600-01-01T00:00:00Z", "ends_at": "2300-01-01T00:00:00.0000005Z"})), Some(&seller)).await;
        long_ago.assert_status(StatusCode::CREATED);
        assert_eq!(long_ago.json()["ends_at"], "2300-01-01T00:00:00Z");

        schedule(&app, &other, &product, 1_000, at(200), at(210)).await.assert_status(StatusCode::NOT_FOUND);
        schedule(&app, &buyer, &product, 1_000, at(200), at(210)).await.assert_status(StatusCode::FORBIDDEN);
        let missing = uuid::Uuid::now_v7().to_string();
        schedule(&app, &seller, &missing, 1_000, at(200), at(210)).await.assert_status(StatusCode::NOT_FOUND);
        get_as(&app, &format!("/api/v1/products/{missing}/time-sales"), None)
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}
