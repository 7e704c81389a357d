//! Drops and the purchase hot path, on both backend pairs.

use std::collections::{HashMap, HashSet};

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use rushline_domain::{Clock, Role};
use rushline_testkit::{TestApp, TestClient, TestResponse, TestUser, backend_test, orders_of_drop};
use serde_json::{Value, json};
use uuid::Uuid;

/// A drop of a fresh product of `seller`, opening in a minute and closing an hour later.
pub(crate) async fn create_drop(
    app: &TestApp,
    seller: &TestUser,
    quantity: i64,
    per_user_limit: i64,
) -> Value {
    let product = app.product(seller, 129_000, 0).await;
    let now = app.clock.now();
    let response = app
        .send(
            Method::POST,
            "/api/v1/drops",
            Some(json!({
                "product_id": product.id,
                "quantity": quantity,
                "price": 99_000,
                "opens_at": now + Duration::minutes(1),
                "closes_at": now + Duration::hours(1),
                "per_user_limit": per_user_limit,
            })),
            &[("authorization", &seller.bearer())],
        )
        .await;
    response.assert_status(StatusCode::CREATED);
    response.json()
}

/// Moves the clock to the drop's opening.
pub(crate) fn open(app: &TestApp, drop: &Value) {
    let opens_at: chrono::DateTime<Utc> = drop["opens_at"].as_str().unwrap().parse().unwrap();
    app.clock.set(opens_at);
}

pub(crate) async fn purchase(
    client: &TestClient,
    buyer: &TestUser,
    drop: &Value,
    quantity: i64,
    key: &str,
) -> TestResponse {
    let path = format!("/api/v1/drops/{}/purchase", drop["id"].as_str().unwrap());
    client
        .send(
            Method::POST,
            &path,
            Some(json!({ "quantity": quantity })),
            &[("authorization", &buyer.bearer()), ("idempotency-key", key)],
        )
        .await
}

async fn remaining(app: &TestApp, drop: &Value) -> u64 {
    let view = app
        .get(&format!("/api/v1/drops/{}", drop["id"].as_str().unwrap()))
        .await;
    view.assert_status(StatusCode::OK);
    view.json()["remaining"].as_u64().unwrap()
}

backend_test! {
    async fn sellers_create_drops_of_their_own_products_with_valid_terms(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let drop = create_drop(&app, &seller, 1_000, 2).await;
        assert_eq!(drop["quantity"], 1_000);
        assert_eq!(drop["remaining"], 1_000);
        assert_eq!(drop["per_user_limit"], 2);
        assert_eq!(drop["status"], "scheduled");
        assert_eq!(drop["seller_id"], seller.id.to_string());

        let product = app.product(&seller, 50_000, 0).await;
        let now = app.clock.now();
        let auth = seller.bearer();
        let bad = app
            .send(Method::POST, "/api/v1/drops", Some(json!({
                "product_id": product.id, "quantity": 0, "price": -1,
                "opens_at": now + Duration::hours(2), "closes_at": now + Duration::hours(1), "per_user_limit": 0,
            })), &[("authorization", &auth)])
            .await;
        bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.error_code(), "validation_failed");
        let fields = &bad.json()["error"]["details"]["fields"];
        for field in ["quantity", "price", "per_user_limit", "closes_at"] {
            assert!(fields[field].is_array(), "{field} not reported: {fields}");
        }
        let too_many = app
            .send(Method::POST, "/api/v1/drops", Some(json!({
                "product_id": product.id, "quantity": 10_000_001, "price": 1,
                "opens_at": now, "closes_at": now + Duration::hours(1),
            })), &[("authorization", &auth)])
            .await;
        too_many.assert_status(StatusCode::UNPROCESSABLE_ENTITY);

        let other_seller = app.user(Role::Seller).await;
        let not_theirs = app
            .send(Method::POST, "/api/v1/drops", Some(json!({
                "product_id": product.id, "quantity": 10, "price": 1,
                "opens_at": now, "closes_at": now + Duration::hours(1),
            })), &[("authorization", &other_seller.bearer())])
            .await;
        not_theirs.assert_status(StatusCode::NOT_FOUND);

        let buyer = app.user(Role::Buyer).await;
        let as_buyer = app
            .send(Method::POST, "/api/v1/drops", Some(json!({
                "product_id": product.id, "quantity": 10, "price": 1,
                "opens_at": now, "closes_at": now + Duration::hours(1),
            })), &[("authorization", &buyer.bearer())])
            .await;
        as_buyer.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(as_buyer.error_code(), "forbidden");
        let anonymous = app.post("/api/v1/drops", json!({})).await;
        anonymous.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.error_code(), "unauthorized");
    }
}

backend_test! {
    async fn drops_change_only_while_scheduled_and_only_by_their_seller(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let drop = create_drop(&app, &seller, 100, 1).await;
        let path = format!("/api/v1/drops/{}", drop["id"].as_str().unwrap());
        let auth = seller.bearer();

        let changed = app.send(Method::PATCH, &path, Some(json!({"quantity": 40, "per_user_limit": 2})), &[("authorization", &auth)]).await;
        changed.assert_status(StatusCode::OK);
        assert_eq!((changed.json()["quantity"].as_i64(), changed.json()["remaining"].as_u64()), (Some(40), Some(40)));
        assert_eq!(remaining(&app, &drop).await, 40, "the gate forgot the old total");

        let stranger = app.user(Role::Seller).await;
        app.send(Method::PATCH, &path, Some(json!({"quantity": 1})), &[("authorization", &stranger.bearer())]).await.assert_status(StatusCode::NOT_FOUND);
        app.send(Method::DELETE, &path, None, &[("authorization", &stranger.bearer())]).await.assert_status(StatusCode::NOT_FOUND);
        let invalid = app.send(Method::PATCH, &path, Some(json!({"price": 0})), &[("authorization", &auth)]).await;
        invalid.assert_status(StatusCode::UNPROCESSABLE_ENTITY);

        open(&app, &drop);
        let late = app.send(Method::PATCH, &path, Some(json!({"quantity": 1})), &[("authorization", &auth)]).await;
        late.assert_status(StatusCode::CONFLICT);
        assert_eq!(late.error_code(), "not_scheduled");
        let late = app.send(Method::DELETE, &path, None, &[("authorization", &auth)]).await;
        late.assert_status(StatusCode::CONFLICT);

        let other = create_drop(&app, &seller, 5, 1).await;
        let other_path = format!("/api/v1/drops/{}", other["id"].as_str().unwrap());
        app.send(Method::DELETE, &other_path, None, &[("authorization", &auth)]).await.assert_status(StatusCode::NO_CONTENT);
        app.get(&other_path).await.assert_status(StatusCode::NOT_FOUND);
    }
}

backend_test! {
    async fn listing_filters_by_status_at_the_current_time(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let tiny = create_drop(&app, &seller, 1, 1).await;
        let big = create_drop(&app, &seller, 10, 1).await;
        let ids = |response: TestResponse| -> HashSet<String> {
            response.assert_status(StatusCode::OK);
            response.json()["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(ids(app.get("/api/v1/drops?status=scheduled").await).len(), 2);
        assert!(ids(app.get("/api/v1/drops?status=open").await).is_empty());

        open(&app, &tiny);
        let buyer = app.user(Role::Buyer).await;
        purchase(&app.client(), &buyer, &tiny, 1, "k1").await.assert_status(StatusCode::CREATED);
        let sold_out = ids(app.get("/api/v1/drops?status=sold_out").await);
        assert_eq!(sold_out, HashSet::from([tiny["id"].as_str().unwrap().to_owned()]));
        let open_now = ids(app.get("/api/v1/drops?status=open").await);
        assert_eq!(open_now, HashSet::from([big["id"].as_str().unwrap().to_owned()]));
        let of_seller = ids(app.get(&format!("/api/v1/drops?seller_id={}", seller.id)).await);
        assert_eq!(of_seller.len(), 2);
        app.get("/api/v1/drops?status=nonsense").await.assert_status(StatusCode::BAD_REQUEST);
        app.get("/api/v1/drops?limit=0").await.assert_status(StatusCode::BAD_REQUEST);

        app.clock.advance(Duration::hours(2));
        assert_eq!(ids(app.get("/api/v1/drops?status=closed").await).len(), 2);
    }
}

backend_test! {
    async fn purchases_respect_the_window_to_the_microsecond(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let drop = create_drop(&app, &seller, 10, 5).await;
        let opens_at: chrono::DateTime<Utc> = drop["opens_at"].as_str().unwrap().parse().unwrap();
        let closes_at: chrono::DateTime<Utc> = drop["closes_at"].as_str().unwrap().parse().unwrap();
        let client = app.client();

        app.clock.set(opens_at - Duration::microseconds(1));
        let early = purchase(&client, &buyer, &drop, 1, "early").await;
        early.assert_status(StatusCode::CONFLICT);
        assert_eq!(early.error_code(), "not_open");

        app.clock.set(opens_at);
        let first = purchase(&client, &buyer, &drop, 1, "first").await;
        first.assert_status(StatusCode::CREATED);
        let body = first.json();
        assert_eq!(body["status"], "pending_payment");
        assert_eq!((body["quantity"].as_u64(), body["unit_price"].as_i64(), body["total"].as_i64()), (Some(1), Some(99_000), Some(99_000)));
        assert_eq!(body["seq"], 1);
        let hold: chrono::DateTime<Utc> = body["hold_expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(hold, opens_at + Duration::minutes(10));

        app.clock.set(closes_at - Duration::microseconds(1));
        let last = purchase(&client, &buyer, &drop, 1, "last").await;
        last.assert_status(StatusCode::CREATED);
        app.clock.set(closes_at);
        let late = purchase(&client, &buyer, &drop, 1, "late").await;
        late.assert_status(StatusCode::CONFLICT);
        assert_eq!(late.error_code(), "closed");
        // The retry of a purchase that went through still gets the first answer.
        let retry = purchase(&client, &buyer, &drop, 1, "last").await;
        retry.assert_status(StatusCode::CREATED);
        assert_eq!(retry.json()["order_id"], last.json()["order_id"]);
        assert_eq!(remaining(&app, &drop).await, 8);
    }
}

backend_test! {
    async fn purchases_are_refused_with_stable_codes(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let (alice, bob) = (app.user(Role::Buyer).await, app.user(Role::Buyer).await);
        let drop = create_drop(&app, &seller, 3, 2).await;
        open(&app, &drop);
        let client = app.client();
        let path = format!("/api/v1/drops/{}/purchase", drop["id"].as_str().unwrap());

        let no_key = app.send(Method::POST, &path, Some(json!({"quantity": 1})), &[("authorization", &alice.bearer())]).await;
        no_key.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(no_key.error_code(), "idempotency_key_required");
        for bad in [json!({"quantity": 0}), json!({"quantity": -2}), json!({"quantity": 1001})] {
            let response = app.send(Method::POST, &path, Some(bad), &[("authorization", &alice.bearer()), ("idempotency-key", "q")]).await;
            response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(response.error_code(), "validation_failed");
        }
        let malformed = app.send(Method::POST, &path, Some(json!("not an object")), &[("authorization", &alice.bearer()), ("idempotency-key", "m")]).await;
        malformed.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let as_seller = purchase(&client, &seller, &drop, 1, "s").await;
        as_seller.assert_status(StatusCode::FORBIDDEN);
        let unknown = app.send(Method::POST, &format!("/api/v1/drops/{}/purchase", Uuid::now_v7()), Some(json!({"quantity": 1})), &[("authorization", &alice.bearer()), ("idempotency-key", "u")]).await;
        unknown.assert_status(StatusCode::NOT_FOUND);

        let over_limit = purchase(&client, &alice, &drop, 3, "a0").await;
        over_limit.assert_status(StatusCode::CONFLICT);
        assert_eq!(over_limit.error_code(), "limit_reached");
        purchase(&client, &alice, &drop, 2, "a1").await.assert_status(StatusCode::CREATED);
        let third = purchase(&client, &alice, &drop, 1, "a2").await;
        assert_eq!(third.error_code(), "limit_reached");
        // One unit remains; asking for two is sold out, not a partial sale.
        let short = purchase(&client, &bob, &drop, 2, "b1").await;
        short.assert_status(StatusCode::CONFLICT);
        assert_eq!(short.error_code(), "sold_out");
        purchase(&client, &bob, &drop, 1, "b2").await.assert_status(StatusCode::CREATED);
        assert_eq!(purchase(&client, &bob, &drop, 1, "b3").await.error_code(), "sold_out");
        let view = app.get(&format!("/api/v1/drops/{}", drop["id"].as_str().unwrap())).await.json();
        assert_eq!((view["remaining"].as_u64(), view["status"].as_str()), (Some(0), Some("sold_out")));
    }
}

backend_test! {
    async fn a_retried_purchase_returns_the_first_answer_and_claims_nothing_more(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let drop = create_drop(&app, &seller, 10, 3).await;
        open(&app, &drop);
        let client = app.client();

        let first = purchase(&client, &buyer, &drop, 2, "retry-me").await;
        first.assert_status(StatusCode::CREATED);
        app.clock.advance(Duration::seconds(5));
        let again = purchase(&client, &buyer, &drop, 2, "retry-me").await;
        again.assert_status(StatusCode::CREATED);
        assert_eq!(again.json(), first.json());
        assert_eq!(remaining(&app, &drop).await, 8);

        let mismatch = purchase(&client, &buyer, &drop, 1, "retry-me").await;
        mismatch.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(mismatch.error_code(), "idempotency_mismatch");

        // Another buyer's identical key is another request.
        let other = app.user(Role::Buyer).await;
        purchase(&client, &other, &drop, 2, "retry-me").await.assert_status(StatusCode::CREATED);
        assert_eq!(remaining(&app, &drop).await, 6);

        // Many concurrent copies of one new request: one claim, one answer.
        let copies = (0..50).map(|_| {
            let (client, buyer, drop) = (client.clone(), other.clone(), drop.clone());
            tokio::spawn(async move { purchase(&client, &buyer, &drop, 1, "burst").await })
        });
        let mut bodies = HashSet::new();
        for copy in copies {
            let response = copy.await.unwrap();
            response.assert_status(StatusCode::CREATED);
            bodies.insert(response.json().to_string());
        }
        assert_eq!(bodies.len(), 1, "every copy got the same answer");
        assert_eq!(remaining(&app, &drop).await, 5);
        let orders = orders_of_drop(&app.state().store, drop["id"].as_str().unwrap().parse().unwrap()).await;
        assert_eq!(orders.len(), 3);
    }
}

/// Fires `attempts` purchases per buyer (distinct keys), spread over `nodes`, all at once.
/// Returns each 201's buyer and body, and the count of each error code.
pub(crate) async fn storm(
    nodes: &[TestClient],
    buyers: &[TestUser],
    drop: &Value,
    attempts: usize,
    quantity: i64,
) -> (Vec<(Uuid, Value)>, HashMap<String, usize>) {
    let mut tasks = Vec::new();
    for (i, buyer) in buyers.iter().enumerate() {
        for attempt in 0..attempts {
            let client = nodes[(i + attempt) % nodes.len()].clone();
            let (buyer, drop) = (buyer.clone(), drop.clone());
            tasks.push(tokio::spawn(async move {
                let key = format!("storm-{}-{attempt}", drop["id"].as_str().unwrap());
                let response = purchase(&client, &buyer, &drop, quantity, &key).await;
                (buyer.id, response)
            }));
        }
    }
    let mut granted = Vec::new();
    let mut refused = HashMap::new();
    for task in tasks {
        let (buyer, response) = task.await.unwrap();
        if response.status == StatusCode::CREATED {
            granted.push((buyer, response.json()));
        } else {
            *refused.entry(response.error_code()).or_insert(0) += 1;
        }
    }
    (granted, refused)
}

/// The invariants of DESIGN.md §3 after a storm: exactly `quantity` granted, nobody over the
/// limit, the database agreeing with the gate, and `seq` unique and gapless over the grants.
pub(crate) async fn assert_invariants(
    app: &TestApp,
    drop: &Value,
    granted: &[(Uuid, Value)],
    per_user_limit: u64,
) {
    let quantity = drop["quantity"].as_u64().unwrap();
    let units: u64 = granted
        .iter()
        .map(|(_, body)| body["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!(units, quantity, "every unit granted, none twice");
    let mut per_buyer: HashMap<Uuid, u64> = HashMap::new();
    for (buyer, body) in granted {
        *per_buyer.entry(*buyer).or_default() += body["quantity"].as_u64().unwrap();
    }
    assert!(
        per_buyer.values().all(|&n| n <= per_user_limit),
        "a buyer is over the limit"
    );
    let mut seqs: Vec<u64> = granted
        .iter()
        .map(|(_, body)| body["seq"].as_u64().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=granted.len() as u64).collect::<Vec<_>>(),
        "seq is unique and gapless"
    );

    let drop_id: Uuid = drop["id"].as_str().unwrap().parse().unwrap();
    let orders = orders_of_drop(&app.state().store, drop_id).await;
    assert_eq!(
        orders.len(),
        granted.len(),
        "the database holds every 201 and nothing else"
    );
    let (pool, claims) = app
        .state()
        .store
        .pool_snapshot(&format!("drop:{drop_id}"))
        .await
        .unwrap();
    assert_eq!((pool.held as u64, claims.len()), (quantity, granted.len()));
    assert_eq!(
        remaining(app, drop).await,
        0,
        "the gate agrees with the database"
    );
}

backend_test! {
    async fn ten_thousand_claims_from_five_thousand_buyers_for_a_thousand_units(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 5_000).await;
        for limit in [1, 3] {
            let drop = create_drop(&app, &seller, 1_000, limit).await;
            open(&app, &drop);
            let (granted, refused) = storm(&[app.client()], &buyers, &drop, 2, 1).await;
            assert_eq!(refused.values().sum::<usize>() + granted.len(), 10_000);
            assert!(refused.keys().all(|code| code == "sold_out" || code == "limit_reached"), "{refused:?}");
            assert_invariants(&app, &drop, &granted, limit as u64).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_sharing_postgres_and_redis_never_oversell() {
    if !rushline_testkit::Backend::Postgres.available() {
        return;
    }
    let a = TestApp::new(rushline_testkit::Backend::Postgres).await;
    let b = a.another_node().build().await;
    let seller = a.user(Role::Seller).await;
    let buyers = a.users(Role::Buyer, 5_000).await;
    for limit in [1, 3] {
        let drop = create_drop(&a, &seller, 1_000, limit).await;
        open(&a, &drop);
        let (granted, refused) = storm(&[a.client(), b.client()], &buyers, &drop, 2, 1).await;
        assert!(
            refused
                .keys()
                .all(|code| code == "sold_out" || code == "limit_reached"),
            "{refused:?}"
        );
        assert_invariants(&a, &drop, &granted, limit as u64).await;
        assert_eq!(remaining(&b, &drop).await, 0, "node B's gate agrees too");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_redis_mid_sale_rebuilds_the_gate_and_never_oversells() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    if !rushline_testkit::Backend::Postgres.available() {
        return;
    }
    let Some(redis) = rushline_testkit::PrivateRedis::start().await else {
        return;
    };
    let app = TestApp::builder(rushline_testkit::Backend::Postgres)
        .config(|c| c.gate.url = rushline::config::ServiceUrl::from(redis.url.as_str()))
        .build()
        .await;
    let seller = app.user(Role::Seller).await;
    let buyers = app.users(Role::Buyer, 3_000).await;
    let drop = create_drop(&app, &seller, 1_000, 1).await;
    open(&app, &drop);

    let granted_so_far = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for buyer in buyers.iter().take(2_000) {
        for attempt in 0..2 {
            let (client, buyer, drop, granted) = (
                app.client(),
                buyer.clone(),
                drop.clone(),
                granted_so_far.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let response =
                    purchase(&client, &buyer, &drop, 1, &format!("flush-{attempt}")).await;
                if response.status == StatusCode::CREATED {
                    granted.fetch_add(1, Ordering::SeqCst);
                }
                (buyer.id, response)
            }));
        }
    }
    // Flush while claims are in flight: some grants of the lost state are still in the group
    // commit when the gate rebuilds from the database.
    while granted_so_far.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    redis.flushall().await;

    let mut granted = Vec::new();
    for task in tasks {
        let (buyer, response) = task.await.unwrap();
        if response.status == StatusCode::CREATED {
            granted.push((buyer, response.json()));
        } else {
            let code = response.error_code();
            // While nodes rebuild the lost pool, a claim may find it gone again and again and be
            // told to retry (503); what matters is what was granted.
            assert!(
                matches!(
                    code.as_str(),
                    "sold_out" | "limit_reached" | "gate_unavailable"
                ),
                "unexpected refusal {code}"
            );
        }
    }
    // Whatever the rebuilt gate left unsold goes to the buyers who have not tried yet.
    let (late, _) = storm(&[app.client()], &buyers[2_000..], &drop, 1, 1).await;
    granted.extend(late);

    let units: u64 = granted.len() as u64;
    assert_eq!(units, 1_000, "sold out exactly, no oversell");
    let mut buyers_seen = HashSet::new();
    assert!(
        granted.iter().all(|(buyer, _)| buyers_seen.insert(*buyer)),
        "a buyer is over the limit"
    );
    let drop_id: Uuid = drop["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        orders_of_drop(&app.state().store, drop_id).await.len(),
        1_000
    );
    let (pool, claims) = app
        .state()
        .store
        .pool_snapshot(&format!("drop:{drop_id}"))
        .await
        .unwrap();
    assert_eq!((pool.held, claims.len()), (1_000, 1_000));

    redis.flushall().await;
    assert_eq!(
        remaining(&app, &drop).await,
        0,
        "a rebuilt gate agrees with the database"
    );
}

backend_test! {
    async fn reconciliation_undoes_lost_grants_and_restores_lost_claims(backend: Backend) {
        use rushline_gate::{Claim, PoolKey};

        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let drop = create_drop(&app, &seller, 10, 5).await;
        open(&app, &drop);
        let pool = PoolKey(format!("drop:{}", drop["id"].as_str().unwrap()));
        let gate = &app.state().claims.gate;

        // A grant whose node died before its write: the gate holds it, the database never will.
        let lost = Claim { user: buyer.id, qty: 3, request_id: Uuid::now_v7(), fingerprint: 1, at: app.clock.now().timestamp_micros() };
        gate.claim(&pool, &lost).await.unwrap();
        // A durable order whose grant the gate lost.
        let kept = purchase(&app.client(), &buyer, &drop, 2, "kept").await;
        kept.assert_status(StatusCode::CREATED);
        let kept_id: Uuid = kept.json()["order_id"].as_str().unwrap().parse().unwrap();
        gate.abort(&pool, kept_id).await.unwrap();
        assert_eq!(remaining(&app, &drop).await, 7, "3 lost, 2 forgotten");

        // Young grants may still be in flight: left alone.
        app.advance(Duration::seconds(10)).await;
        assert_eq!(remaining(&app, &drop).await, 7);
        // Reconciliation runs every 10 s and undoes what is older than 30 s at its due time.
        app.advance(Duration::seconds(40)).await;
        assert_eq!(remaining(&app, &drop).await, 8, "the database's view: only the kept order holds stock");
        let refused = purchase(&app.client(), &buyer, &drop, 4, "over").await;
        assert_eq!(refused.error_code(), "limit_reached", "the rebuilt gate counts the buyer's kept units");
    }
}

backend_test! {
    async fn a_drop_created_again_with_its_key_is_the_same_drop(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let product = app.product(&seller, 129_000, 0).await;
        let now = app.clock.now();
        let terms = |quantity: i64| json!({
            "product_id": product.id,
            "quantity": quantity,
            "price": 99_000,
            "opens_at": now + Duration::minutes(1),
            "closes_at": now + Duration::hours(1),
        });
        let create = |body: Value, key: &'static str| {
            let app = &app;
            let bearer = seller.bearer();
            async move {
                app.send(Method::POST, "/api/v1/drops", Some(body), &[("authorization", &bearer), ("idempotency-key", key)]).await
            }
        };
        let first = create(terms(100), "drop-1").await;
        first.assert_status(StatusCode::CREATED);
        let again = create(terms(100), "drop-1").await;
        again.assert_status(StatusCode::CREATED);
        assert_eq!(again.json()["id"], first.json()["id"]);
        let other = create(terms(200), "drop-1").await;
        other.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(other.error_code(), "idempotency_mismatch");
        let mine = app.get(&format!("/api/v1/drops?seller_id={}", seller.id)).await;
        assert_eq!(mine.json()["items"].as_array().unwrap().len(), 1);
    }
}
