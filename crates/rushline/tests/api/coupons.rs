//! Coupon campaigns, claims through the gate and the group commit, wallets and points, on both
//! backend pairs.

use std::collections::{HashMap, HashSet};

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use rushline_domain::{Clock, Role};
use rushline_testkit::{TestApp, TestClient, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};
use uuid::Uuid;

/// A campaign of `owner` with `scope`, claimable from a minute from now for an hour, its coupons
/// valid for a week from now.
pub(crate) async fn create_campaign(
    app: &TestApp,
    owner: &TestUser,
    total: i64,
    per_user_limit: i64,
    discount: Value,
    min_order_amount: i64,
    scope: Value,
) -> Value {
    let now = app.clock.now();
    let response = app
        .send(
            Method::POST,
            "/api/v1/coupon-campaigns",
            Some(json!({
                "name": "Spring sale",
                "total": total,
                "per_user_limit": per_user_limit,
                "claim_starts_at": now + Duration::minutes(1),
                "claim_ends_at": now + Duration::hours(1),
                "valid_from": now,
                "valid_until": now + Duration::days(7),
                "discount": discount,
                "min_order_amount": min_order_amount,
                "scope": scope,
            })),
            &[("authorization", &owner.bearer())],
        )
        .await;
    response.assert_status(StatusCode::CREATED);
    response.json()
}

/// A seller-wide campaign of 10 % (at most 5,000 won) off orders of at least 10,000 won.
async fn seller_campaign(app: &TestApp, seller: &TestUser, total: i64, limit: i64) -> Value {
    create_campaign(
        app,
        seller,
        total,
        limit,
        json!({"kind": "percent", "percent": 10, "max_amount": 5_000}),
        10_000,
        json!({"kind": "seller"}),
    )
    .await
}

/// Moves the clock to the campaign's claim window.
pub(crate) fn open_claims(app: &TestApp, campaign: &Value) {
    app.clock.set(time(&campaign["claim_starts_at"]));
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

pub(crate) async fn claim(
    client: &TestClient,
    buyer: &TestUser,
    campaign: &Value,
    key: &str,
) -> TestResponse {
    let path = format!(
        "/api/v1/coupon-campaigns/{}/claim",
        campaign["id"].as_str().unwrap()
    );
    client
        .send(
            Method::POST,
            &path,
            None,
            &[("authorization", &buyer.bearer()), ("idempotency-key", key)],
        )
        .await
}

async fn remaining(app: &TestApp, campaign: &Value) -> u64 {
    let view = app
        .get(&format!(
            "/api/v1/coupon-campaigns/{}",
            campaign["id"].as_str().unwrap()
        ))
        .await;
    view.assert_status(StatusCode::OK);
    view.json()["remaining"].as_u64().unwrap()
}

pub(crate) async fn wallet(app: &TestApp, buyer: &TestUser, query: &str) -> Value {
    let response = app
        .send(
            Method::GET,
            &format!("/api/v1/me/coupons{query}"),
            None,
            &[("authorization", &buyer.bearer())],
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()
}

pub(crate) async fn points(app: &TestApp, buyer: &TestUser) -> Value {
    let response = app
        .send(
            Method::GET,
            "/api/v1/me/points?limit=100",
            None,
            &[("authorization", &buyer.bearer())],
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()
}

backend_test! {
    async fn sellers_and_admins_create_campaigns_within_their_scope(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let admin = app.user(Role::Admin).await;
        let product = app.product(&seller, 99_000, 0).await;

        let own = seller_campaign(&app, &seller, 1_000, 2).await;
        assert_eq!((own["total"].as_i64(), own["remaining"].as_u64()), (Some(1_000), Some(1_000)));
        assert_eq!(own["scope"], json!({"kind": "seller", "seller_id": seller.id}));
        assert_eq!(own["discount"], json!({"kind": "percent", "percent": 10, "max_amount": 5_000}));
        assert_eq!((own["status"].as_str(), own["owner_id"].as_str()), (Some("scheduled"), Some(seller.id.to_string().as_str())));
        let of_product = create_campaign(&app, &seller, 10, 1, json!({"kind": "fixed", "amount": 3_000}), 0, json!({"kind": "product", "product_id": product.id})).await;
        assert_eq!(of_product["scope"]["product_id"], product.id.to_string());
        let store_wide = create_campaign(&app, &admin, 10, 1, json!({"kind": "fixed", "amount": 1_000}), 0, json!({"kind": "store"})).await;
        assert_eq!(store_wide["scope"], json!({"kind": "store"}));
        create_campaign(&app, &admin, 10, 1, json!({"kind": "fixed", "amount": 1_000}), 0, json!({"kind": "product", "product_id": product.id})).await;

        let now = app.clock.now();
        let body = |scope: Value, discount: Value| json!({
            "name": "x", "total": 10, "claim_starts_at": now, "claim_ends_at": now + Duration::hours(1),
            "valid_from": now, "valid_until": now + Duration::days(1), "discount": discount, "scope": scope,
        });
        let fixed = json!({"kind": "fixed", "amount": 1_000});
        let post = |user: &TestUser, body: Value| {
            let auth = user.bearer();
            let app = &app;
            async move { app.send(Method::POST, "/api/v1/coupon-campaigns", Some(body), &[("authorization", &auth)]).await }
        };
        let not_admin = post(&seller, body(json!({"kind": "store"}), fixed.clone())).await;
        not_admin.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(not_admin.error_code(), "forbidden");
        let buyer = app.user(Role::Buyer).await;
        post(&buyer, body(json!({"kind": "seller"}), fixed.clone())).await.assert_status(StatusCode::FORBIDDEN);
        app.post("/api/v1/coupon-campaigns", body(json!({"kind": "seller"}), fixed.clone())).await.assert_status(StatusCode::UNAUTHORIZED);
        let stranger = app.user(Role::Seller).await;
        let not_theirs = post(&stranger, body(json!({"kind": "product", "product_id": product.id}), fixed.clone())).await;
        not_theirs.assert_status(StatusCode::NOT_FOUND);
        let admin_seller = post(&admin, body(json!({"kind": "seller"}), fixed.clone())).await;
        admin_seller.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(admin_seller.json()["error"]["details"]["fields"]["scope.kind"].is_array());

        let broken = post(&seller, json!({
            "name": "", "total": 0, "per_user_limit": 0, "claim_starts_at": now, "claim_ends_at": now - Duration::hours(1),
            "valid_from": now, "valid_until": now - Duration::days(1), "min_order_amount": -5,
            "discount": {"kind": "percent", "percent": 0, "max_amount": 0}, "scope": {"kind": "seller"},
        })).await;
        broken.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(broken.error_code(), "validation_failed");
        let fields = &broken.json()["error"]["details"]["fields"];
        for field in ["name", "total", "per_user_limit", "claim_ends_at", "valid_until", "discount.percent", "discount.max_amount", "min_order_amount"] {
            assert!(fields[field].is_array(), "{field} not reported: {fields}");
        }
        let zero = post(&seller, body(json!({"kind": "seller"}), json!({"kind": "fixed", "amount": 0}))).await;
        assert!(zero.json()["error"]["details"]["fields"]["discount.amount"].is_array());
        for (scope, discount) in [
            (json!({"kind": "galaxy"}), fixed.clone()),
            (json!({"kind": "seller"}), json!({"kind": "bogo"})),
            (json!({"kind": "seller"}), json!({"kind": "fixed", "amount": 1, "percent": 5})),
        ] {
            let bad = post(&seller, body(scope, discount)).await;
            bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(bad.error_code(), "invalid_body");
        }
    }
}

backend_test! {
    async fn campaigns_list_by_status_with_remaining_from_the_gate(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let tiny = seller_campaign(&app, &seller, 1, 1).await;
        let big = seller_campaign(&app, &seller, 10, 1).await;
        let ids = |response: TestResponse| -> HashSet<String> {
            response.assert_status(StatusCode::OK);
            response.json()["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(ids(app.get("/api/v1/coupon-campaigns?status=scheduled").await).len(), 2);
        assert!(ids(app.get("/api/v1/coupon-campaigns?status=open").await).is_empty());

        open_claims(&app, &tiny);
        let buyer = app.user(Role::Buyer).await;
        claim(&app.client(), &buyer, &tiny, "k").await.assert_status(StatusCode::CREATED);
        let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
        assert_eq!(ids(app.get("/api/v1/coupon-campaigns?status=sold_out").await), HashSet::from([id(&tiny)]));
        assert_eq!(ids(app.get("/api/v1/coupon-campaigns?status=open").await), HashSet::from([id(&big)]));
        assert_eq!(ids(app.get(&format!("/api/v1/coupon-campaigns?owner_id={}", seller.id)).await).len(), 2);
        assert!(ids(app.get(&format!("/api/v1/coupon-campaigns?owner_id={}", buyer.id)).await).is_empty());
        assert_eq!(remaining(&app, &tiny).await, 0);
        assert_eq!(remaining(&app, &big).await, 10);
        app.get("/api/v1/coupon-campaigns?status=nonsense").await.assert_status(StatusCode::BAD_REQUEST);
        app.get("/api/v1/coupon-campaigns?limit=101").await.assert_status(StatusCode::BAD_REQUEST);
        app.get(&format!("/api/v1/coupon-campaigns/{}", Uuid::now_v7())).await.assert_status(StatusCode::NOT_FOUND);

        app.clock.advance(Duration::hours(2));
        assert_eq!(ids(app.get("/api/v1/coupon-campaigns?status=closed").await).len(), 2);
    }
}

backend_test! {
    async fn claims_are_refused_with_stable_codes(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let (alice, bob, carol) = (app.user(Role::Buyer).await, app.user(Role::Buyer).await, app.user(Role::Buyer).await);
        let campaign = seller_campaign(&app, &seller, 3, 2).await;
        let client = app.client();
        let starts = time(&campaign["claim_starts_at"]);

        app.clock.set(starts - Duration::microseconds(1));
        let early = claim(&client, &alice, &campaign, "early").await;
        early.assert_status(StatusCode::CONFLICT);
        assert_eq!(early.error_code(), "not_open");

        app.clock.set(starts);
        let first = claim(&client, &alice, &campaign, "a1").await;
        first.assert_status(StatusCode::CREATED);
        let body = first.json();
        assert_eq!((body["status"].as_str(), body["campaign_id"].as_str()), (Some("available"), campaign["id"].as_str()));
        assert_eq!(body["valid_until"], campaign["valid_until"]);
        claim(&client, &alice, &campaign, "a2").await.assert_status(StatusCode::CREATED);
        let third = claim(&client, &alice, &campaign, "a3").await;
        third.assert_status(StatusCode::CONFLICT);
        assert_eq!(third.error_code(), "limit_reached");
        claim(&client, &bob, &campaign, "b1").await.assert_status(StatusCode::CREATED);
        let none_left = claim(&client, &carol, &campaign, "c1").await;
        none_left.assert_status(StatusCode::CONFLICT);
        assert_eq!(none_left.error_code(), "sold_out");

        let path = format!("/api/v1/coupon-campaigns/{}/claim", campaign["id"].as_str().unwrap());
        let no_key = app.send(Method::POST, &path, None, &[("authorization", &carol.bearer())]).await;
        no_key.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(no_key.error_code(), "idempotency_key_required");
        claim(&client, &seller, &campaign, "s").await.assert_status(StatusCode::FORBIDDEN);
        app.send(Method::POST, &path, None, &[("idempotency-key", "anon")]).await.assert_status(StatusCode::UNAUTHORIZED);
        let unknown = json!({"id": Uuid::now_v7().to_string()});
        claim(&client, &carol, &unknown, "u").await.assert_status(StatusCode::NOT_FOUND);

        let other = seller_campaign(&app, &seller, 5, 1).await;
        app.clock.set(time(&other["claim_ends_at"]));
        let late = claim(&client, &carol, &other, "late").await;
        late.assert_status(StatusCode::CONFLICT);
        assert_eq!(late.error_code(), "closed");
    }
}

backend_test! {
    async fn a_retried_claim_returns_the_first_answer_and_claims_nothing_more(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let campaign = seller_campaign(&app, &seller, 10, 3).await;
        open_claims(&app, &campaign);
        let client = app.client();

        let first = claim(&client, &buyer, &campaign, "retry-me").await;
        first.assert_status(StatusCode::CREATED);
        app.clock.advance(Duration::seconds(5));
        let again = claim(&client, &buyer, &campaign, "retry-me").await;
        again.assert_status(StatusCode::CREATED);
        assert_eq!(again.json(), first.json());
        assert_eq!(remaining(&app, &campaign).await, 9);

        // The same key on another campaign is another request.
        let other = seller_campaign(&app, &seller, 10, 3).await;
        open_claims(&app, &other);
        let mismatch = claim(&client, &buyer, &other, "retry-me").await;
        mismatch.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(mismatch.error_code(), "idempotency_mismatch");
        // A purchase's key and a claim's key live apart.
        let drop = crate::drops::create_drop(&app, &seller, 5, 1).await;
        crate::drops::open(&app, &drop);
        crate::drops::purchase(&client, &buyer, &drop, 1, "retry-me").await.assert_status(StatusCode::CREATED);
        open_claims(&app, &campaign);

        let copies = (0..50).map(|_| {
            let (client, buyer, campaign) = (client.clone(), buyer.clone(), campaign.clone());
            tokio::spawn(async move { claim(&client, &buyer, &campaign, "burst").await })
        });
        let mut bodies = HashSet::new();
        for copy in copies {
            let response = copy.await.unwrap();
            response.assert_status(StatusCode::CREATED);
            bodies.insert(response.json().to_string());
        }
        assert_eq!(bodies.len(), 1, "every copy got the same answer");
        assert_eq!(remaining(&app, &campaign).await, 8);
        assert_eq!(wallet(&app, &buyer, "").await["items"].as_array().unwrap().len(), 2);
    }
}

backend_test! {
    async fn wallets_show_coupons_by_status_and_page(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let campaign = seller_campaign(&app, &seller, 10, 5).await;
        open_claims(&app, &campaign);
        let mut ids = Vec::new();
        for key in ["w1", "w2", "w3"] {
            let response = claim(&app.client(), &buyer, &campaign, key).await;
            response.assert_status(StatusCode::CREATED);
            ids.push(response.json()["id"].as_str().unwrap().to_owned());
            app.clock.advance(Duration::seconds(1));
        }
        let listed = |body: &Value| -> Vec<String> {
            body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
        };
        let all = wallet(&app, &buyer, "").await;
        assert_eq!(listed(&all), [ids[2].clone(), ids[1].clone(), ids[0].clone()]);
        let shown = &all["items"][0];
        assert_eq!((shown["status"].as_str(), shown["name"].as_str()), (Some("available"), Some("Spring sale")));
        assert_eq!((shown["min_order_amount"].as_i64(), shown["discount"]["percent"].as_i64()), (Some(10_000), Some(10)));
        assert_eq!(shown["scope"]["seller_id"], seller.id.to_string());
        assert_eq!(listed(&wallet(&app, &buyer, "?status=available").await).len(), 3);
        assert!(listed(&wallet(&app, &buyer, "?status=used").await).is_empty());

        let page = wallet(&app, &buyer, "?limit=2").await;
        assert_eq!(listed(&page).len(), 2);
        let next = wallet(&app, &buyer, &format!("?limit=2&cursor={}", page["next_cursor"].as_str().unwrap())).await;
        assert_eq!(listed(&next), [ids[0].clone()]);
        assert!(next["next_cursor"].is_null());

        let other = app.user(Role::Buyer).await;
        assert!(listed(&wallet(&app, &other, "").await).is_empty(), "wallets are private");
        app.get("/api/v1/me/coupons").await.assert_status(StatusCode::UNAUTHORIZED);
        let auth = buyer.bearer();
        for bad in ["?status=lost", "?limit=0", "?cursor=garbage"] {
            let response = app.send(Method::GET, &format!("/api/v1/me/coupons{bad}"), None, &[("authorization", &auth)]).await;
            response.assert_status(StatusCode::BAD_REQUEST);
        }

        app.clock.set(time(&campaign["valid_until"]));
        assert!(listed(&wallet(&app, &buyer, "?status=available").await).is_empty());
        let expired = wallet(&app, &buyer, "?status=expired").await;
        assert_eq!(listed(&expired).len(), 3);
        assert_eq!(expired["items"][0]["status"], "expired");
    }
}

backend_test! {
    async fn a_buyer_starts_without_points(backend: Backend) {
        let app = TestApp::new(backend).await;
        let buyer = app.user(Role::Buyer).await;
        assert_eq!(points(&app, &buyer).await, json!({"balance": 0, "entries": []}));
        app.get("/api/v1/me/points").await.assert_status(StatusCode::UNAUTHORIZED);
        let auth = buyer.bearer();
        for bad in ["?cursor=x", "?limit=101"] {
            let response = app.send(Method::GET, &format!("/api/v1/me/points{bad}"), None, &[("authorization", &auth)]).await;
            response.assert_status(StatusCode::BAD_REQUEST);
        }
    }
}

backend_test! {
    async fn twenty_thousand_claims_from_ten_thousand_buyers_for_a_thousand_coupons(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 10_000).await;
        let campaign = seller_campaign(&app, &seller, 1_000, 1).await;
        open_claims(&app, &campaign);

        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for buyer in &buyers {
            for attempt in 0..2 {
                let (client, buyer, campaign) = (app.client(), buyer.clone(), campaign.clone());
                tasks.push(tokio::spawn(async move {
                    let response = claim(&client, &buyer, &campaign, &format!("storm-{attempt}")).await;
                    (buyer.id, response)
                }));
            }
        }
        let mut granted: Vec<(Uuid, Value)> = Vec::new();
        let mut refused: HashMap<String, usize> = HashMap::new();
        for task in tasks {
            let (buyer, response) = task.await.unwrap();
            if response.status == StatusCode::CREATED {
                granted.push((buyer, response.json()));
            } else {
                *refused.entry(response.error_code()).or_insert(0) += 1;
            }
        }
        eprintln!(
            "claim storm on {backend:?}: 20,000 claims, {} issued, {refused:?}, in {:?}",
            granted.len(),
            started.elapsed()
        );

        assert_eq!(granted.len(), 1_000, "exactly the campaign's total was issued");
        assert_eq!(refused.values().sum::<usize>(), 19_000);
        assert!(refused.keys().all(|code| code == "sold_out" || code == "limit_reached"), "{refused:?}");
        let mut holders = HashSet::new();
        assert!(granted.iter().all(|(buyer, _)| holders.insert(*buyer)), "a buyer holds two coupons");

        let store = &app.state().store;
        let pool = format!("coupon:{}", campaign["id"].as_str().unwrap());
        let (pool, claims) = store.pool_snapshot(&pool).await.unwrap();
        assert_eq!((pool.held, claims.len()), (1_000, 1_000), "the database holds every 201 and nothing else");
        let claimed: HashSet<Uuid> = claims.iter().map(|c| c.id).collect();
        for (buyer, body) in &granted {
            let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
            assert!(claimed.contains(&id));
            let coupon = store.coupon(id).await.unwrap();
            assert_eq!(coupon.user_id, *buyer);
        }
        assert_eq!(remaining(&app, &campaign).await, 0, "the gate agrees with the database");
    }
}

#[tokio::test]
async fn openapi_documents_the_coupon_and_points_endpoints_with_their_error_codes() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await.json();
    let operations = [
        (
            "/api/v1/coupon-campaigns",
            "post",
            vec!["validation_failed", "forbidden", "not_found"],
        ),
        ("/api/v1/coupon-campaigns", "get", vec!["invalid_query"]),
        ("/api/v1/coupon-campaigns/{id}", "get", vec!["not_found"]),
        (
            "/api/v1/coupon-campaigns/{id}/claim",
            "post",
            vec![
                "sold_out",
                "limit_reached",
                "not_open",
                "closed",
                "idempotency_mismatch",
            ],
        ),
        (
            "/api/v1/me/coupons",
            "get",
            vec!["invalid_cursor", "unauthorized"],
        ),
        (
            "/api/v1/me/points",
            "get",
            vec!["invalid_cursor", "unauthorized"],
        ),
        (
            "/api/v1/drops/{id}/purchase",
            "post",
            vec![
                "coupon_not_found",
                "coupon_unavailable",
                "coupon_expired",
                "coupon_not_yet_valid",
                "coupon_not_applicable",
                "coupon_minimum_not_met",
                "insufficient_points",
                "points_exceed_total",
            ],
        ),
    ];
    for (path, method, codes) in operations {
        let responses = doc["paths"][path][method]["responses"].to_string();
        for code in codes {
            assert!(
                responses.contains(code),
                "{method} {path} does not document {code}"
            );
        }
    }
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "CampaignView",
        "ClaimedCoupon",
        "CouponView",
        "Points",
        "Discount",
        "CouponScope",
    ] {
        assert!(schemas[schema].is_object(), "no {schema} schema");
    }
}

backend_test! {
    async fn one_key_for_a_coupon_and_a_purchase_names_two_things(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let campaign = seller_campaign(&app, &seller, 10, 5).await;
        let drop = crate::drops::create_drop(&app, &seller, 10, 5).await;
        crate::drops::open(&app, &drop);
        let client = app.client();

        claim(&client, &buyer, &campaign, "k").await.assert_status(StatusCode::CREATED);
        // Spelled like the coupon's namespaced key: still a purchase of its own.
        crate::drops::purchase(&client, &buyer, &drop, 1, "coupon:k").await.assert_status(StatusCode::CREATED);
        crate::drops::purchase(&client, &buyer, &drop, 1, "order:k").await.assert_status(StatusCode::CREATED);
        claim(&client, &buyer, &campaign, "order:k").await.assert_status(StatusCode::CREATED);
        assert_eq!(wallet(&app, &buyer, "").await["items"].as_array().unwrap().len(), 2);
    }
}

backend_test! {
    async fn a_claim_retried_after_the_window_closed_gets_its_coupon(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let campaign = seller_campaign(&app, &seller, 10, 5).await;
        open_claims(&app, &campaign);
        let client = app.client();
        let first = claim(&client, &buyer, &campaign, "k").await;
        first.assert_status(StatusCode::CREATED);

        app.clock.set(time(&campaign["claim_ends_at"]));
        let retry = claim(&client, &buyer, &campaign, "k").await;
        retry.assert_status(StatusCode::CREATED);
        assert_eq!(retry.json()["id"], first.json()["id"]);
        let late = claim(&client, &buyer, &campaign, "new").await;
        late.assert_status(StatusCode::CONFLICT);
        assert_eq!(late.error_code(), "closed");
    }
}

backend_test! {
    async fn a_campaign_created_again_with_its_key_is_the_same_campaign(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let now = app.clock.now();
        let terms = |total: i64| json!({
            "name": "Spring sale",
            "total": total,
            "per_user_limit": 1,
            "claim_starts_at": now + Duration::minutes(1),
            "claim_ends_at": now + Duration::hours(1),
            "valid_from": now,
            "valid_until": now + Duration::days(7),
            "discount": {"kind": "fixed", "amount": 3_000},
            "min_order_amount": 0,
            "scope": {"kind": "seller"},
        });
        let create = |body: Value| {
            let app = &app;
            let bearer = seller.bearer();
            async move {
                app.send(Method::POST, "/api/v1/coupon-campaigns", Some(body), &[("authorization", &bearer), ("idempotency-key", "spring")]).await
            }
        };
        let first = create(terms(100)).await;
        first.assert_status(StatusCode::CREATED);
        let again = create(terms(100)).await;
        again.assert_status(StatusCode::CREATED);
        assert_eq!(again.json()["id"], first.json()["id"]);
        let other = create(terms(200)).await;
        other.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(other.error_code(), "idempotency_mismatch");
    }
}
