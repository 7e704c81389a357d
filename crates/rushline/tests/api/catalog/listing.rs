use std::collections::HashSet;

use axum::http::StatusCode;
use chrono::Duration;
use rushline_domain::catalog::{ProductCursor, ProductSort};
use rushline_domain::{Role, Won};
use rushline_testkit::{TestApp, backend_test};
use serde_json::{Value, json};

use super::{create, get_as, id_of, invalid_fields, item_ids, product_body};

backend_test! {
    async fn listings_filter_sort_and_search(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (alice, bob) = (app.user(Role::Seller).await, app.user(Role::Seller).await);
        let mut made = Vec::new();
        for (seller, name, category, price) in [
            (&alice, "Aurora sneakers", "Shoes", 129_000),
            (&alice, "Borealis boots", "shoes", 99_000),
            (&bob, "Aurora parka", "outerwear", 259_000),
            (&bob, "Wool scarf", "accessories", 39_000),
        ] {
            made.push(id_of(&create(&app, seller, product_body(name, category, price)).await));
            app.clock.advance(Duration::seconds(1));
        }
        let mut draft = product_body("Secret prototype", "shoes", 1_000);
        draft["status"] = json!("draft");
        let draft = id_of(&create(&app, &alice, draft).await);
        let [sneakers, boots, parka, scarf] = [0, 1, 2, 3].map(|i| made[i].as_str());
        let ids = |path: String| {
            let app = &app;
            async move {
                let response = get_as(app, &path, None).await;
                response.assert_status(StatusCode::OK);
                item_ids(&response.json())
            }
        };

        assert_eq!(ids("/api/v1/products".into()).await, [scarf, parka, boots, sneakers]);
        assert_eq!(
            ids("/api/v1/products?sort=price_asc".into()).await,
            [scarf, boots, sneakers, parka]
        );
        assert_eq!(
            ids("/api/v1/products?sort=price_desc&limit=2".into()).await,
            [parka, sneakers]
        );
        assert_eq!(
            ids("/api/v1/products?category=SHOES".into()).await,
            [boots, sneakers],
            "categories compare case-insensitively"
        );
        assert_eq!(ids(format!("/api/v1/products?seller_id={}", bob.id)).await, [scarf, parka]);
        assert_eq!(ids("/api/v1/products?q=aurora".into()).await, [parka, sneakers]);
        assert_eq!(
            ids("/api/v1/products?q=Aurora%20fine&category=shoes".into()).await,
            [sneakers],
            "description words count, and every word must match"
        );
        assert!(ids("/api/v1/products?q=prototype".into()).await.is_empty(), "drafts are private");

        let page = get_as(&app, "/api/v1/products?sort=price_asc", None).await.json();
        let first = &page["items"][0];
        assert_eq!(first["name"], "Wool scarf");
        assert_eq!(first["effective_price"], 39_000);
        assert_eq!(first["active_time_sale"], Value::Null);
        assert_eq!(page["next_cursor"], Value::Null, "one page holds them all");

        let mine = get_as(&app, "/api/v1/products?mine=true", Some(&alice)).await;
        mine.assert_status(StatusCode::OK);
        assert_eq!(item_ids(&mine.json()), [draft.as_str(), boots, sneakers]);
        let mine_searched = get_as(&app, "/api/v1/products?mine=true&q=prototype", Some(&alice)).await;
        assert_eq!(item_ids(&mine_searched.json()), [draft.as_str()]);
        get_as(&app, "/api/v1/products?mine=true", None)
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
        let buyer = app.user(Role::Buyer).await;
        get_as(&app, "/api/v1/products?mine=true", Some(&buyer))
            .await
            .assert_status(StatusCode::FORBIDDEN);
        let signed_in = get_as(&app, "/api/v1/products?mine=false", Some(&buyer)).await;
        assert_eq!(item_ids(&signed_in.json()).len(), 4);
    }
}

backend_test! {
    async fn listing_parameters_are_checked(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        for i in 0..3 {
            create(&app, &seller, product_body(&format!("Item {i}"), "misc", 1_000 + i)).await;
        }
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("sort=cheapest", "sort"),
            ("q=%3F%21", "q"),
            ("category=shoes%00", "category"),
        ] {
            let response = get_as(&app, &format!("/api/v1/products?{query}"), None).await;
            assert_eq!(invalid_fields(&response), [field], "{query}");
        }
        for query in ["limit=many", "seller_id=nobody", "mine=perhaps"] {
            let response = get_as(&app, &format!("/api/v1/products?{query}"), None).await;
            response.assert_status(StatusCode::BAD_REQUEST);
            assert_eq!(response.error_code(), "invalid_query", "{query}");
        }
        let first = get_as(&app, "/api/v1/products?limit=1", None).await.json();
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        get_as(&app, &format!("/api/v1/products?limit=1&cursor={cursor}"), None)
            .await
            .assert_status(StatusCode::OK);
        for query in [
            "cursor=garbage".to_owned(),
            format!("cursor={cursor}&sort=price_asc"),
            format!("cursor={}", &cursor[..cursor.len() - 2]),
            // Forged: a time chrono reads but no database stores.
            format!("cursor={}", forged_newest_cursor(i64::MAX / 2)),
            format!("cursor={}", forged_newest_cursor(i64::MIN / 2)),
        ] {
            let response = get_as(&app, &format!("/api/v1/products?{query}"), None).await;
            response.assert_status(StatusCode::BAD_REQUEST);
            assert_eq!(response.error_code(), "invalid_cursor", "{query}");
        }
    }
}

backend_test! {
    async fn cursor_pages_stay_stable_while_products_are_added(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        for i in 0..12 {
            create(&app, &seller, product_body(&format!("Item {i}"), "misc", 1_000 * (i % 5 + 1))).await;
            app.clock.advance(Duration::seconds(1));
        }
        for sort in ["newest", "price_asc", "price_desc"] {
            let all = get_as(&app, &format!("/api/v1/products?sort={sort}&limit=100"), None).await.json();
            let before: Vec<String> = item_ids(&all);

            // A reader pages through while a writer keeps adding products with newer times and
            // prices on both sides of the reader's position.
            let reader = async {
                let mut seen = Vec::new();
                let mut cursor: Option<String> = None;
                loop {
                    let path = match &cursor {
                        None => format!("/api/v1/products?sort={sort}&limit=5"),
                        Some(c) => format!("/api/v1/products?sort={sort}&limit=5&cursor={c}"),
                    };
                    let page = get_as(&app, &path, None).await;
                    page.assert_status(StatusCode::OK);
                    let page = page.json();
                    seen.extend(item_ids(&page));
                    match page["next_cursor"].as_str() {
                        Some(next) => cursor = Some(next.to_owned()),
                        None => return seen,
                    }
                    tokio::task::yield_now().await;
                }
            };
            let writer = async {
                for i in 0..8 {
                    let price = [500, 2_500, 3_000, 9_000][i % 4];
                    create(&app, &seller, product_body("Newcomer", "misc", price)).await;
                    tokio::task::yield_now().await;
                }
            };
            let (seen, ()) = tokio::join!(reader, writer);

            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "{sort}: a product was shown twice");
            let originals: HashSet<&String> = before.iter().collect();
            let seen_originals: Vec<&String> = seen.iter().filter(|id| originals.contains(id)).collect();
            let expected: Vec<&String> = before.iter().collect();
            assert_eq!(seen_originals, expected, "{sort}: every earlier product, once, in order");
        }
    }
}

/// A `newest` cursor after `micros` since 1970, as a client could forge it.
fn forged_newest_cursor(micros: i64) -> String {
    let created_at = chrono::DateTime::from_timestamp_micros(micros).unwrap();
    ProductCursor::after(
        ProductSort::Newest,
        created_at,
        Won::ZERO,
        uuid::Uuid::now_v7(),
    )
    .encode()
}
