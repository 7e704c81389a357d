//! Coupons and points at checkout: priced, reserved and spent with the order, used at payment,
//! given back exactly once by every way an order fails or is undone, and points earned on
//! completion; on both backend pairs.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use rushline_domain::{Clock, Role};
use rushline_testkit::{Backend, TestApp, TestClient, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::coupons::{claim, create_campaign, open_claims, points, wallet};
use crate::drops::{create_drop, open};

/// An app whose buyers earn their whole paid amount in points, so that one completed order
/// gives a buyer plenty to spend.
async fn generous(backend: Backend) -> TestApp {
    TestApp::builder(backend)
        .config(|c| {
            c.points.earn_rate = 1.0;
            // A buyer here holds many unpaid orders at once.
            c.orders.max_pending_per_buyer = 50;
        })
        .build()
        .await
}

async fn buy(
    client: &TestClient,
    buyer: &TestUser,
    drop: &Value,
    key: &str,
    extra: Value,
) -> TestResponse {
    let mut body = json!({"quantity": 1});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    client
        .send(
            Method::POST,
            &format!("/api/v1/drops/{}/purchase", drop["id"].as_str().unwrap()),
            Some(body),
            &[("authorization", &buyer.bearer()), ("idempotency-key", key)],
        )
        .await
}

async fn act(app: &TestApp, buyer: &TestUser, order_id: &str, action: &str) -> TestResponse {
    let body = match action {
        "pay" => Some(json!({"method": "card", "card_number": "4111111111111111"})),
        "return" => Some(json!({"reason": "defective"})),
        _ => None,
    };
    app.send(
        Method::POST,
        &format!("/api/v1/orders/{order_id}/{action}"),
        body,
        &[
            ("authorization", &buyer.bearer()),
            ("idempotency-key", &format!("{action}-{order_id}")),
        ],
    )
    .await
}

async fn order(app: &TestApp, buyer: &TestUser, order_id: &str) -> Value {
    let response = app
        .send(
            Method::GET,
            &format!("/api/v1/orders/{order_id}"),
            None,
            &[("authorization", &buyer.bearer())],
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()
}

/// A fresh drop of `seller` (99,000 won a unit, 10 units, 5 per buyer), open now.
async fn open_drop(app: &TestApp, seller: &TestUser) -> Value {
    let drop = create_drop(app, seller, 10, 5).await;
    open(app, &drop);
    drop
}

/// Buys a unit of a fresh drop, pays and lets the order complete: the buyer earns points on
/// 99,000 won at the app's rate. Three days pass.
async fn complete_an_order(app: &TestApp, seller: &TestUser, buyer: &TestUser) -> String {
    let drop = open_drop(app, seller).await;
    let bought = buy(&app.client(), buyer, &drop, "earn", json!({})).await;
    bought.assert_status(StatusCode::CREATED);
    let id = bought.json()["order_id"].as_str().unwrap().to_owned();
    act(app, buyer, &id, "pay")
        .await
        .assert_status(StatusCode::OK);
    for _ in 0..3 {
        app.advance(Duration::days(1)).await;
    }
    assert_eq!(order(app, buyer, &id).await["status"], "completed");
    id
}

/// A seller-wide campaign of 10 % (at most 5,000 won) off 10,000 won or more, and one of its
/// coupons claimed by `buyer`.
async fn coupon(app: &TestApp, seller: &TestUser, buyer: &TestUser) -> String {
    let campaign = create_campaign(
        app,
        seller,
        100,
        5,
        json!({"kind": "percent", "percent": 10, "max_amount": 5_000}),
        10_000,
        json!({"kind": "seller"}),
    )
    .await;
    open_claims(app, &campaign);
    let claimed = claim(&app.client(), buyer, &campaign, &Uuid::now_v7().to_string()).await;
    claimed.assert_status(StatusCode::CREATED);
    claimed.json()["id"].as_str().unwrap().to_owned()
}

async fn coupon_status(app: &TestApp, buyer: &TestUser, coupon: &str) -> (String, Value) {
    let wallet = wallet(app, buyer, "?limit=100").await;
    let found = wallet["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == coupon)
        .expect("the coupon is in the wallet")
        .clone();
    (
        found["status"].as_str().unwrap().to_owned(),
        found["order_id"].clone(),
    )
}

/// The buyer's entries of `kind` for `order`.
fn entries(points: &Value, kind: &str, order: &str) -> Vec<i64> {
    points["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind && e["order_id"] == order)
        .map(|e| e["amount"].as_i64().unwrap())
        .collect()
}

fn assert_balance_is_the_sum(points: &Value) {
    let sum: i64 = points["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(points["balance"].as_i64().unwrap(), sum, "{points}");
    assert!(points["balance"].as_i64().unwrap() >= 0);
}

backend_test! {
    async fn a_coupon_and_points_come_off_the_total_and_the_charge(backend: Backend) {
        let app = generous(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        complete_an_order(&app, &seller, &buyer).await;
        assert_eq!(points(&app, &buyer).await["balance"], 99_000);
        let coupon = coupon(&app, &seller, &buyer).await;
        let drop = open_drop(&app, &seller).await;
        let client = app.client();

        let redeem = json!({"coupon_id": coupon, "points": 4_000});
        let bought = buy(&client, &buyer, &drop, "with-coupon", redeem.clone()).await;
        bought.assert_status(StatusCode::CREATED);
        let body = bought.json();
        assert_eq!(
            (body["subtotal"].as_i64(), body["discount"].as_i64(), body["points"].as_i64(), body["total"].as_i64()),
            (Some(99_000), Some(5_000), Some(4_000), Some(90_000))
        );
        assert_eq!(body["coupon_id"], coupon);
        let order_id = body["order_id"].as_str().unwrap().to_owned();
        assert_eq!(coupon_status(&app, &buyer, &coupon).await, ("reserved".to_owned(), json!(order_id)));
        let ledger = points(&app, &buyer).await;
        assert_eq!(ledger["balance"], 95_000);
        assert_eq!(entries(&ledger, "spend", &order_id), [-4_000]);

        // A retry answers the first order although its coupon and points are taken now.
        app.clock.advance(Duration::seconds(3));
        let again = buy(&client, &buyer, &drop, "with-coupon", redeem).await;
        again.assert_status(StatusCode::CREATED);
        assert_eq!(again.json(), body);
        for other in [json!({"coupon_id": coupon, "points": 3_000}), json!({"points": 4_000}), json!({})] {
            let mismatch = buy(&client, &buyer, &drop, "with-coupon", other).await;
            mismatch.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(mismatch.error_code(), "idempotency_mismatch");
        }
        assert_eq!(points(&app, &buyer).await["balance"], 95_000, "retries spent nothing");

        let shown = order(&app, &buyer, &order_id).await;
        assert_eq!((shown["subtotal"].as_i64(), shown["discount"].as_i64(), shown["points_spent"].as_i64()), (Some(99_000), Some(5_000), Some(4_000)));
        let paid = act(&app, &buyer, &order_id, "pay").await;
        paid.assert_status(StatusCode::OK);
        assert_eq!(paid.json()["payment"]["amount"], 90_000, "the charge is the total after coupon and points");
        assert_eq!(coupon_status(&app, &buyer, &coupon).await, ("used".to_owned(), json!(order_id)));
        assert_eq!(wallet(&app, &buyer, "?status=used").await["items"].as_array().unwrap().len(), 1);

        for _ in 0..3 {
            app.advance(Duration::days(1)).await;
        }
        let ledger = points(&app, &buyer).await;
        assert_eq!(entries(&ledger, "earn", &order_id), [90_000], "earned on what was paid");
        assert_eq!(ledger["balance"], 185_000);
        assert_balance_is_the_sum(&ledger);
    }
}

backend_test! {
    async fn buyers_earn_one_percent_of_the_paid_amount_once_on_completion(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let first = complete_an_order(&app, &seller, &buyer).await;
        let ledger = points(&app, &buyer).await;
        assert_eq!(entries(&ledger, "earn", &first), [990]);
        assert_eq!(ledger["balance"], 990);

        // With a coupon: 1 % of 94,000, and points spent earn nothing.
        let coupon = coupon(&app, &seller, &buyer).await;
        let drop = open_drop(&app, &seller).await;
        let bought = buy(&app.client(), &buyer, &drop, "second", json!({"coupon_id": coupon, "points": 990})).await;
        bought.assert_status(StatusCode::CREATED);
        assert_eq!(bought.json()["total"], 93_010);
        let second = bought.json()["order_id"].as_str().unwrap().to_owned();
        act(&app, &buyer, &second, "pay").await.assert_status(StatusCode::OK);
        for _ in 0..4 {
            app.advance(Duration::days(1)).await;
        }
        app.worker().run_due().await.unwrap();
        let ledger = points(&app, &buyer).await;
        assert_eq!(entries(&ledger, "earn", &second), [930], "1 % of 93,010, rounded down, once");
        assert_eq!(ledger["balance"], 930);
        assert_balance_is_the_sum(&ledger);
    }
}

backend_test! {
    async fn checkout_refuses_coupons_and_points_it_cannot_honour(backend: Backend) {
        let app = generous(backend).await;
        let seller = app.user(Role::Seller).await;
        let (buyer, other) = (app.user(Role::Buyer).await, app.user(Role::Buyer).await);
        complete_an_order(&app, &seller, &buyer).await;
        let mine = coupon(&app, &seller, &buyer).await;
        let theirs = coupon(&app, &seller, &other).await;
        let now = app.clock.now();
        let raw_campaign = |minimum: i64, scope: Value, valid_from: DateTime<Utc>| json!({
            "name": "special", "total": 10, "per_user_limit": 1, "claim_starts_at": now, "claim_ends_at": now + Duration::hours(2),
            "valid_from": valid_from, "valid_until": now + Duration::days(7),
            "discount": {"kind": "fixed", "amount": 1_000}, "min_order_amount": minimum, "scope": scope,
        });
        let mut coupons = Vec::new();
        let other_product = app.product(&seller, 1_000, 0).await;
        for (i, body) in [
            raw_campaign(200_000, json!({"kind": "seller"}), now),
            raw_campaign(0, json!({"kind": "product", "product_id": other_product.id}), now),
            raw_campaign(0, json!({"kind": "seller"}), now + Duration::days(1)),
        ]
        .into_iter()
        .enumerate()
        {
            let created = app.send(Method::POST, "/api/v1/coupon-campaigns", Some(body), &[("authorization", &seller.bearer())]).await;
            created.assert_status(StatusCode::CREATED);
            let claimed = claim(&app.client(), &buyer, &created.json(), &format!("c{i}")).await;
            claimed.assert_status(StatusCode::CREATED);
            coupons.push(claimed.json()["id"].as_str().unwrap().to_owned());
        }
        let (big_minimum, other_product_only, not_yet) = (&coupons[0], &coupons[1], &coupons[2]);
        let drop = open_drop(&app, &seller).await;
        let client = app.client();

        let cases = [
            (json!({"coupon_id": Uuid::now_v7()}), StatusCode::UNPROCESSABLE_ENTITY, "coupon_not_found"),
            (json!({"coupon_id": theirs}), StatusCode::UNPROCESSABLE_ENTITY, "coupon_not_found"),
            (json!({"coupon_id": big_minimum}), StatusCode::UNPROCESSABLE_ENTITY, "coupon_minimum_not_met"),
            (json!({"coupon_id": other_product_only}), StatusCode::UNPROCESSABLE_ENTITY, "coupon_not_applicable"),
            (json!({"coupon_id": not_yet}), StatusCode::CONFLICT, "coupon_not_yet_valid"),
            (json!({"points": 99_001}), StatusCode::CONFLICT, "insufficient_points"),
            (json!({"coupon_id": mine, "points": 94_001}), StatusCode::UNPROCESSABLE_ENTITY, "points_exceed_total"),
            (json!({"points": -1}), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            (json!({"coupon_id": "not-a-uuid"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        ];
        for (i, (redeem, status, code)) in cases.into_iter().enumerate() {
            let refused = buy(&client, &buyer, &drop, &format!("bad-{i}"), redeem.clone()).await;
            refused.assert_status(status);
            assert_eq!(refused.error_code(), code, "{redeem}");
        }
        let short = buy(&client, &buyer, &drop, "short", json!({"points": 99_001})).await;
        assert_eq!(short.json()["error"]["details"]["balance"], 99_000);
        let minimum = buy(&client, &buyer, &drop, "minimum", json!({"coupon_id": big_minimum})).await;
        assert_eq!(minimum.json()["error"]["details"]["min_order_amount"], 200_000);

        // A coupon on one order is unavailable to the next.
        buy(&client, &buyer, &drop, "first", json!({"coupon_id": mine})).await.assert_status(StatusCode::CREATED);
        let taken = buy(&client, &buyer, &drop, "second", json!({"coupon_id": mine})).await;
        taken.assert_status(StatusCode::CONFLICT);
        assert_eq!(taken.error_code(), "coupon_unavailable");
        let view = app.get(&format!("/api/v1/drops/{}", drop["id"].as_str().unwrap())).await.json();
        assert_eq!(view["remaining"], 9, "refused checkouts hold no stock");
        assert_eq!(points(&app, &buyer).await["balance"], 99_000, "refused checkouts spend nothing");

        // Expired: the validity ends while the coupon sits in the wallet.
        let expiring = coupon(&app, &seller, &buyer).await;
        app.clock.advance(Duration::days(8));
        let later = open_drop(&app, &seller).await;
        let expired = buy(&client, &buyer, &later, "expired", json!({"coupon_id": expiring})).await;
        expired.assert_status(StatusCode::CONFLICT);
        assert_eq!(expired.error_code(), "coupon_expired");
    }
}

backend_test! {
    async fn every_way_an_order_is_undone_gives_the_coupon_and_points_back_once(backend: Backend) {
        let app = generous(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        complete_an_order(&app, &seller, &buyer).await;
        let coupon = coupon(&app, &seller, &buyer).await;

        for way in ["cancel pending", "cancel paid", "hold expiry", "return"] {
            let drop = open_drop(&app, &seller).await;
            let key = way.replace(' ', "-");
            let bought = buy(&app.client(), &buyer, &drop, &key, json!({"coupon_id": coupon, "points": 1_000})).await;
            bought.assert_status(StatusCode::CREATED);
            let order_id = bought.json()["order_id"].as_str().unwrap().to_owned();
            assert_eq!(points(&app, &buyer).await["balance"], 98_000, "{way}");
            let undone = match way {
                "cancel pending" => {
                    act(&app, &buyer, &order_id, "cancel").await.assert_status(StatusCode::OK);
                    let twice = act(&app, &buyer, &order_id, "cancel").await;
                    assert_eq!(twice.error_code(), "invalid_transition");
                    "cancelled"
                }
                "cancel paid" => {
                    act(&app, &buyer, &order_id, "pay").await.assert_status(StatusCode::OK);
                    assert_eq!(coupon_status(&app, &buyer, &coupon).await.0, "used");
                    act(&app, &buyer, &order_id, "cancel").await.assert_status(StatusCode::OK);
                    act(&app, &buyer, &order_id, "cancel").await.assert_status(StatusCode::CONFLICT);
                    "cancelled"
                }
                "hold expiry" => {
                    app.advance(Duration::minutes(10)).await;
                    // The job again, and later again: still expired once.
                    app.worker().run_due().await.unwrap();
                    app.advance(Duration::seconds(5)).await;
                    "expired"
                }
                _ => {
                    act(&app, &buyer, &order_id, "pay").await.assert_status(StatusCode::OK);
                    app.advance(Duration::days(2)).await;
                    act(&app, &buyer, &order_id, "return").await.assert_status(StatusCode::OK);
                    app.advance(Duration::days(1)).await;
                    app.advance(Duration::days(1)).await;
                    "returned"
                }
            };
            assert_eq!(order(&app, &buyer, &order_id).await["status"], undone, "{way}");
            assert_eq!(coupon_status(&app, &buyer, &coupon).await, ("available".to_owned(), Value::Null), "{way}");
            let ledger = points(&app, &buyer).await;
            assert_eq!(entries(&ledger, "spend", &order_id), [-1_000], "{way}");
            assert_eq!(entries(&ledger, "refund", &order_id), [1_000], "{way}: refunded exactly once");
            assert_eq!(ledger["balance"], 99_000, "{way}");
            assert_balance_is_the_sum(&ledger);
        }
    }
}

backend_test! {
    async fn a_coupon_whose_validity_ended_comes_back_expired(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let now = app.clock.now();
        let campaign = app.send(Method::POST, "/api/v1/coupon-campaigns", Some(json!({
            "name": "short", "total": 5, "claim_starts_at": now, "claim_ends_at": now + Duration::minutes(1),
            "valid_from": now, "valid_until": now + Duration::minutes(5),
            "discount": {"kind": "fixed", "amount": 1_000}, "scope": {"kind": "seller"},
        })), &[("authorization", &seller.bearer())]).await;
        campaign.assert_status(StatusCode::CREATED);
        let coupon = claim(&app.client(), &buyer, &campaign.json(), "k").await.json()["id"].as_str().unwrap().to_owned();
        let drop = open_drop(&app, &seller).await;
        let bought = buy(&app.client(), &buyer, &drop, "late", json!({"coupon_id": coupon})).await;
        bought.assert_status(StatusCode::CREATED);
        // The hold outlives the coupon's validity.
        app.advance(Duration::minutes(10)).await;
        let order_id = bought.json()["order_id"].as_str().unwrap().to_owned();
        assert_eq!(order(&app, &buyer, &order_id).await["status"], "expired");
        assert_eq!(coupon_status(&app, &buyer, &coupon).await, ("expired".to_owned(), Value::Null));
    }
}

backend_test! {
    async fn concurrent_checkouts_by_one_buyer_never_drive_the_balance_negative(backend: Backend) {
        let app = generous(backend).await;
        let other_node = app.another_node().build().await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        complete_an_order(&app, &seller, &buyer).await;
        assert_eq!(points(&app, &buyer).await["balance"], 99_000);
        let product = app.product(&seller, 129_000, 0).await;
        let now = app.clock.now();
        let created = app.send(Method::POST, "/api/v1/drops", Some(json!({
            "product_id": product.id, "quantity": 100, "price": 50_000, "per_user_limit": 100,
            "opens_at": now, "closes_at": now + Duration::hours(1),
        })), &[("authorization", &seller.bearer())]).await;
        created.assert_status(StatusCode::CREATED);
        let drop = created.json();

        // 40 checkouts at once, each spending 10,000 of 99,000 points, over two nodes.
        let nodes = [app.client(), other_node.client()];
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let (client, buyer, drop) = (nodes[i % 2].clone(), buyer.clone(), drop.clone());
                tokio::spawn(async move {
                    buy(&client, &buyer, &drop, &format!("spend-{i}"), json!({"points": 10_000})).await
                })
            })
            .collect();
        let (mut granted, mut short) = (0, 0);
        for task in tasks {
            let response = task.await.unwrap();
            match response.status {
                StatusCode::CREATED => granted += 1,
                _ => {
                    assert_eq!(response.error_code(), "insufficient_points", "{}", response.text());
                    short += 1;
                }
            }
        }
        assert_eq!((granted, short), (9, 31), "exactly what 99,000 points pay for");
        let ledger = points(&app, &buyer).await;
        assert_eq!(ledger["balance"], 9_000);
        assert_balance_is_the_sum(&ledger);
        let pool = format!("drop:{}", drop["id"].as_str().unwrap());
        let (pool, claims) = app.state().store.pool_snapshot(&pool).await.unwrap();
        assert_eq!((pool.held, claims.len()), (9, 9), "refused checkouts hold no units");
    }
}
