//! The waiting room in front of drops, on both backend pairs: settings, the pre-queue shuffle,
//! admission by rate and by cap, passes on the purchase path, expiry, events, two nodes.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use rushline_domain::{Clock, Role};
use rushline_testkit::{TestApp, TestClient, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use uuid::Uuid;

use crate::drops::open;

/// A drop of 1,000 units (two per buyer, so that a pass is what stops a second purchase) with
/// `room` as its waiting room, opening in `opens_in` and closing a day later.
async fn room_drop(app: &TestApp, seller: &TestUser, room: Value, opens_in: Duration) -> Value {
    let product = app.product(seller, 129_000, 0).await;
    let now = app.clock.now();
    let response = app
        .send(
            Method::POST,
            "/api/v1/drops",
            Some(json!({
                "product_id": product.id,
                "quantity": 1_000,
                "price": 99_000,
                "opens_at": now + opens_in,
                "closes_at": now + opens_in + Duration::days(1),
                "per_user_limit": 2,
                "waiting_room": room,
            })),
            &[("authorization", &seller.bearer())],
        )
        .await;
    response.assert_status(StatusCode::CREATED);
    response.json()
}

fn path(drop: &Value, rest: &str) -> String {
    format!("/api/v1/drops/{}{rest}", drop["id"].as_str().unwrap())
}

async fn join(client: &TestClient, buyer: &TestUser, drop: &Value) -> TestResponse {
    client
        .send(
            Method::POST,
            &path(drop, "/queue"),
            None,
            &[("authorization", &buyer.bearer())],
        )
        .await
}

async fn me(client: &TestClient, buyer: &TestUser, drop: &Value) -> TestResponse {
    client
        .send(
            Method::GET,
            &path(drop, "/queue/me"),
            None,
            &[("authorization", &buyer.bearer())],
        )
        .await
}

async fn stats(app: &TestApp, user: &TestUser, drop: &Value) -> Value {
    let response = app
        .send(
            Method::GET,
            &path(drop, "/queue/stats"),
            None,
            &[("authorization", &user.bearer())],
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()
}

/// The buyer's pass, once `/queue/me` says they are admitted.
async fn pass_of(app: &TestApp, buyer: &TestUser, drop: &Value) -> String {
    let response = me(&app.client(), buyer, drop).await;
    response.assert_status(StatusCode::OK);
    let place = response.json();
    assert_eq!(place["state"], "admitted", "{place}");
    place["pass"].as_str().unwrap().to_owned()
}

async fn buy(
    client: &TestClient,
    buyer: &TestUser,
    drop: &Value,
    pass: Option<&str>,
    key: &str,
) -> TestResponse {
    let bearer = buyer.bearer();
    let mut headers = vec![("authorization", bearer.as_str()), ("idempotency-key", key)];
    if let Some(pass) = pass {
        headers.push(("x-queue-pass", pass));
    }
    client
        .send(
            Method::POST,
            &path(drop, "/purchase"),
            Some(json!({ "quantity": 1 })),
            &headers,
        )
        .await
}

/// Moves the clock a second at a time, running due jobs (the once-per-second admission) at
/// each step.
async fn tick(app: &TestApp, seconds: i64) {
    for _ in 0..seconds {
        app.advance(Duration::seconds(1)).await;
    }
}

/// The documented shuffle rule: `sha1_hex(seed + ":" + user_id)` ascending, ties by user id.
fn shuffled(seed: &str, users: &[Uuid]) -> Vec<Uuid> {
    let mut keyed: Vec<(String, Uuid)> = users
        .iter()
        .map(|user| {
            let digest = Sha1::digest(format!("{seed}:{user}").as_bytes());
            (hex::encode(digest), *user)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, user)| user).collect()
}

backend_test! {
    async fn drops_carry_their_waiting_room_with_defaults(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let drop = room_drop(&app, &seller, json!({ "admit_per_minute": 60 }), Duration::hours(1)).await;
        assert_eq!(
            drop["waiting_room"],
            json!({ "admit_per_minute": 60, "max_active": null, "session_minutes": 5, "prequeue_minutes": 30 })
        );
        assert_eq!(drop["queue_seed"], Value::Null);

        let bearer = seller.bearer();
        let auth = [("authorization", bearer.as_str())];
        let room = json!({ "admit_per_minute": 600, "max_active": 50, "session_minutes": 10, "prequeue_minutes": 0 });
        let changed = app
            .send(Method::PATCH, &path(&drop, ""), Some(json!({ "waiting_room": room })), &auth)
            .await;
        changed.assert_status(StatusCode::OK);
        assert_eq!(changed.json()["waiting_room"], room);
        let kept = app
            .send(Method::PATCH, &path(&drop, ""), Some(json!({ "price": 89_000 })), &auth)
            .await;
        assert_eq!(kept.json()["waiting_room"], room, "a PATCH without waiting_room keeps it");
        let removed = app
            .send(Method::PATCH, &path(&drop, ""), Some(json!({ "waiting_room": null })), &auth)
            .await;
        removed.assert_status(StatusCode::OK);
        assert_eq!(removed.json()["waiting_room"], Value::Null);
        assert_eq!(app.get(&path(&drop, "")).await.json()["waiting_room"], Value::Null);

        let bad = json!({ "admit_per_minute": 0, "max_active": 0, "session_minutes": 61, "prequeue_minutes": -1 });
        let refused = app
            .send(Method::PATCH, &path(&drop, ""), Some(json!({ "quantity": 0, "waiting_room": bad })), &auth)
            .await;
        refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let fields = &refused.json()["error"]["details"]["fields"];
        for field in ["quantity", "waiting_room.admit_per_minute", "waiting_room.max_active",
                      "waiting_room.session_minutes", "waiting_room.prequeue_minutes"] {
            assert!(fields[field].is_array(), "{field}: {fields}");
        }
        let unknown = app
            .send(Method::PATCH, &path(&drop, ""), Some(json!({ "waiting_room": { "admit_per_minute": 1, "speed": 2 } })), &auth)
            .await;
        unknown.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.error_code(), "invalid_body");
    }
}

backend_test! {
    async fn the_queue_opens_prequeue_minutes_early_with_one_place_per_buyer(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let drop = room_drop(&app, &seller, json!({ "admit_per_minute": 60 }), Duration::hours(1)).await;
        let client = app.client();

        let early = join(&client, &buyer, &drop).await;
        early.assert_status(StatusCode::CONFLICT);
        assert_eq!(early.error_code(), "not_open");
        let opens_at: DateTime<Utc> = drop["opens_at"].as_str().unwrap().parse().unwrap();
        let queue_opens_at: DateTime<Utc> =
            early.json()["error"]["details"]["queue_opens_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(queue_opens_at, opens_at - Duration::minutes(30));

        app.clock.set(queue_opens_at);
        let joined = join(&client, &buyer, &drop).await;
        joined.assert_status(StatusCode::CREATED);
        let place = joined.json();
        assert_eq!(place["state"], "waiting");
        assert_eq!(place["position"], Value::Null, "the pre-queue has no order before the opening");
        assert_eq!(place["estimated_wait_seconds"], Value::Null);
        assert!(place.get("pass").is_none());
        let again = join(&client, &buyer, &drop).await;
        again.assert_status(StatusCode::CREATED);
        assert_eq!(again.json()["ticket"], place["ticket"], "one place per buyer");
        assert_eq!(me(&client, &buyer, &drop).await.json()["ticket"], place["ticket"]);

        let seller_joins = join(&client, &seller, &drop).await;
        seller_joins.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(seller_joins.error_code(), "forbidden");
        let anonymous = app.send(Method::POST, &path(&drop, "/queue"), None, &[]).await;
        anonymous.assert_status(StatusCode::UNAUTHORIZED);
        let stranger = app.user(Role::Buyer).await;
        let nowhere = me(&client, &stranger, &drop).await;
        nowhere.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(nowhere.error_code(), "not_in_queue");
        let no_drop = app
            .send(Method::POST, &format!("/api/v1/drops/{}/queue", Uuid::now_v7()), None,
                  &[("authorization", &buyer.bearer())])
            .await;
        no_drop.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(no_drop.error_code(), "not_found");

        let closes_at: DateTime<Utc> = drop["closes_at"].as_str().unwrap().parse().unwrap();
        app.clock.set(closes_at);
        let closed = join(&client, &stranger, &drop).await;
        closed.assert_status(StatusCode::CONFLICT);
        assert_eq!(closed.error_code(), "closed");
    }
}

backend_test! {
    async fn the_prequeue_is_shuffled_by_the_published_seed_and_later_buyers_queue_behind(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 40).await;
        let drop = room_drop(&app, &seller, json!({ "admit_per_minute": 1 }), Duration::minutes(1)).await;
        let client = app.client();
        for buyer in &buyers {
            join(&client, buyer, &drop).await.assert_status(StatusCode::CREATED);
        }
        assert_eq!(app.get(&path(&drop, "")).await.json()["queue_seed"], Value::Null);

        open(&app, &drop);
        app.worker().run_due().await.unwrap();
        let seed = app.get(&path(&drop, "")).await.json()["queue_seed"].as_str().unwrap().to_owned();
        assert_eq!(seed.len(), 32, "{seed}");
        assert!(seed.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{seed}");
        let other_node = app.another_node().build().await;
        assert_eq!(
            other_node.get(&path(&drop, "")).await.json()["queue_seed"], seed,
            "every node publishes the seed recorded in the database"
        );

        // The opening admitted the head of the line (rank 0); the rest wait at positions 1…
        let mut ranked = Vec::new();
        for buyer in &buyers {
            let place = me(&client, buyer, &drop).await.json();
            let rank = match place["state"].as_str().unwrap() {
                "admitted" => 0,
                _ => place["position"].as_u64().unwrap(),
            };
            ranked.push((rank, buyer.id));
        }
        ranked.sort();
        let ranks: Vec<u64> = ranked.iter().map(|(rank, _)| *rank).collect();
        assert_eq!(ranks, (0..40).collect::<Vec<u64>>(), "a permutation of the pre-queue joiners");
        let order: Vec<Uuid> = ranked.into_iter().map(|(_, user)| user).collect();
        let ids: Vec<Uuid> = buyers.iter().map(|buyer| buyer.id).collect();
        assert_eq!(order, shuffled(&seed, &ids), "reproducible from the published seed");
        assert_ne!(order, ids, "shuffled, not in order of arrival");

        let late = app.user(Role::Buyer).await;
        app.clock.advance(Duration::seconds(1));
        let place = join(&client, &late, &drop).await.json();
        assert_eq!(place["position"], 40, "behind the whole pre-queue");
        assert_eq!(place["estimated_wait_seconds"], 40 * 60, "at the configured rate in the first minute");
    }
}

backend_test! {
    async fn admission_keeps_the_rate_evenly_over_ten_minutes(backend: Backend) {
        const RATE: u64 = 20;
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 220).await;
        let drop = room_drop(&app, &seller, json!({ "admit_per_minute": RATE }), Duration::minutes(1)).await;
        let client = app.client();
        for buyer in &buyers {
            join(&client, buyer, &drop).await.assert_status(StatusCode::CREATED);
        }
        open(&app, &drop);
        app.worker().run_due().await.unwrap();

        let mut waiting: Vec<&TestUser> = buyers.iter().collect();
        let mut admitted = stats(&app, &seller, &drop).await["admitted"].as_u64().unwrap();
        let mut minute_start = admitted;
        for second in 1..=600 {
            if second % 60 == 1 {
                // Everyone still waiting polls once a minute, well within the idle timeout.
                let mut still = Vec::new();
                for buyer in waiting {
                    if me(&client, buyer, &drop).await.json()["state"] == "waiting" {
                        still.push(buyer);
                    }
                }
                waiting = still;
            }
            tick(&app, 1).await;
            let now = stats(&app, &seller, &drop).await;
            let total = now["admitted"].as_u64().unwrap();
            assert!(total - admitted <= 1, "spread evenly: {} in one second at {second}s", total - admitted);
            admitted = total;
            if second % 60 == 0 {
                let in_minute = total - minute_start;
                assert!(in_minute.abs_diff(RATE) <= 1, "{in_minute} admitted in minute {}", second / 60);
                let observed = now["admissions_per_minute"].as_u64().unwrap();
                assert!(observed.abs_diff(RATE) <= 1, "observed {observed}/min");
                minute_start = total;
            }
        }
        let end = stats(&app, &seller, &drop).await;
        assert!(end["admitted"].as_u64().unwrap().abs_diff(10 * RATE) <= 1, "{end}");
        assert_eq!(end["abandoned"], 0, "{end}");
        assert_eq!(end["waiting"].as_u64().unwrap() + end["admitted"].as_u64().unwrap(), 220);
    }
}

backend_test! {
    async fn max_active_caps_the_passes_held_at_once(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 5).await;
        let drop = room_drop(
            &app, &seller, json!({ "admit_per_minute": 60, "max_active": 2 }), Duration::minutes(1),
        ).await;
        let client = app.client();
        for buyer in &buyers {
            join(&client, buyer, &drop).await.assert_status(StatusCode::CREATED);
        }
        open(&app, &drop);
        tick(&app, 10).await;
        let numbers = stats(&app, &seller, &drop).await;
        assert_eq!((numbers["admitted"].as_u64(), numbers["active"].as_u64()), (Some(2), Some(2)), "{numbers}");
        assert_eq!(numbers["waiting"], 3);

        let mut holders = Vec::new();
        for buyer in &buyers {
            if me(&client, buyer, &drop).await.json()["state"] == "admitted" {
                holders.push(buyer);
            }
        }
        assert_eq!(holders.len(), 2);
        let pass = pass_of(&app, holders[0], &drop).await;
        buy(&client, holders[0], &drop, Some(&pass), "k1").await.assert_status(StatusCode::CREATED);
        assert_eq!(stats(&app, &seller, &drop).await["active"], 1, "a purchase frees its place");
        tick(&app, 1).await;
        let numbers = stats(&app, &seller, &drop).await;
        assert_eq!((numbers["admitted"].as_u64(), numbers["active"].as_u64()), (Some(3), Some(2)), "{numbers}");

        // Unused passes end with their session (5 minutes), which lets the last buyers in.
        for _ in 0..6 {
            for buyer in &buyers {
                me(&client, buyer, &drop).await;
            }
            for _ in 0..60 {
                tick(&app, 1).await;
                let active = stats(&app, &seller, &drop).await["active"].as_u64().unwrap();
                assert!(active <= 2, "{active} passes active");
            }
        }
        let numbers = stats(&app, &seller, &drop).await;
        assert_eq!(numbers["admitted"], 5, "{numbers}");
        assert_eq!(numbers["waiting"], 0, "{numbers}");
    }
}

backend_test! {
    async fn purchases_on_a_drop_with_a_room_need_the_buyers_own_valid_pass(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let (alice, bob) = (app.user(Role::Buyer).await, app.user(Role::Buyer).await);
        let first = room_drop(&app, &seller, json!({ "admit_per_minute": 60 }), Duration::minutes(1)).await;
        let second = room_drop(&app, &seller, json!({ "admit_per_minute": 60 }), Duration::minutes(1)).await;
        let client = app.client();
        for (buyer, drop) in [(&alice, &first), (&bob, &first), (&alice, &second)] {
            join(&client, buyer, drop).await.assert_status(StatusCode::CREATED);
        }
        open(&app, &first);
        tick(&app, 3).await;
        let (alices, bobs) = (pass_of(&app, &alice, &first).await, pass_of(&app, &bob, &first).await);
        let alices_other = pass_of(&app, &alice, &second).await;
        assert_eq!(pass_of(&app, &alice, &first).await, alices, "every poll returns the same pass");

        let refused = |response: TestResponse, code: &str| {
            response.assert_status(StatusCode::FORBIDDEN);
            assert_eq!(response.error_code(), code);
        };
        refused(buy(&client, &alice, &first, None, "a1").await, "queue_pass_required");
        refused(buy(&client, &alice, &first, Some("not-a-pass"), "a1").await, "queue_pass_invalid");
        refused(buy(&client, &alice, &first, Some(&bobs), "a1").await, "queue_pass_invalid");
        refused(buy(&client, &alice, &first, Some(&alices_other), "a1").await, "queue_pass_invalid");
        let forged = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &json!({
                "aud": "rushline:queue-pass",
                "drop": first["id"],
                "user": alice.id,
                "exp": (app.clock.now() + Duration::minutes(5)).timestamp(),
                "jti": Uuid::new_v4(),
            }),
            &jsonwebtoken::EncodingKey::from_secret(b"not the deployment's secret at all"),
        )
        .unwrap();
        refused(buy(&client, &alice, &first, Some(&forged), "a1").await, "queue_pass_invalid");
        refused(buy(&client, &alice, &first, Some(&alice.token), "a1").await, "queue_pass_invalid");
        let pass_as_bearer = app
            .send(Method::GET, &path(&first, "/queue/me"), None, &[("authorization", &format!("Bearer {alices}"))])
            .await;
        pass_as_bearer.assert_status(StatusCode::UNAUTHORIZED);

        let bought = buy(&client, &alice, &first, Some(&alices), "a1").await;
        bought.assert_status(StatusCode::CREATED);
        let replay = buy(&client, &alice, &first, Some(&alices), "a1").await;
        replay.assert_status(StatusCode::CREATED);
        assert_eq!(replay.json()["order_id"], bought.json()["order_id"], "a retry answers the first order");
        refused(buy(&client, &alice, &first, Some(&alices), "a2").await, "queue_pass_invalid");
        let gone = me(&client, &alice, &first).await;
        gone.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(gone.error_code(), "not_in_queue", "a used pass ends the place");

        app.clock.advance(Duration::minutes(5));
        refused(buy(&client, &bob, &first, Some(&bobs), "b1").await, "queue_pass_invalid");
        let late_retry = buy(&client, &alice, &first, Some(&alices), "a1").await;
        late_retry.assert_status(StatusCode::CREATED);
        assert_eq!(late_retry.json()["order_id"], bought.json()["order_id"], "a retry after the pass expired still answers the first order");
        let stock = app.get(&path(&first, "")).await.json();
        assert_eq!(stock["remaining"], 999, "refused purchases hold nothing");
    }
}

backend_test! {
    async fn a_buyer_at_the_cap_on_unpaid_orders_keeps_their_pass(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let plain = crate::drops::create_drop(&app, &seller, 100, 10).await;
        let roomed = room_drop(&app, &seller, json!({ "admit_per_minute": 60 }), Duration::minutes(1)).await;
        let client = app.client();
        join(&client, &buyer, &roomed).await.assert_status(StatusCode::CREATED);
        open(&app, &roomed);
        let mut unpaid = Vec::new();
        for key in ["p0", "p1", "p2"] {
            let bought = crate::drops::purchase(&client, &buyer, &plain, 1, key).await;
            bought.assert_status(StatusCode::CREATED);
            unpaid.push(bought.json());
        }
        tick(&app, 3).await;
        let pass = pass_of(&app, &buyer, &roomed).await;

        // Refused for the cap before the pass is spent: the buyer keeps their place.
        let capped = buy(&client, &buyer, &roomed, Some(&pass), "r1").await;
        capped.assert_status(StatusCode::CONFLICT);
        assert_eq!(capped.error_code(), "too_many_pending_orders", "{}", capped.text());
        assert_eq!(pass_of(&app, &buyer, &roomed).await, pass, "the pass is still the buyer's");

        let order = unpaid[0]["order_id"].as_str().unwrap();
        app.send(Method::POST, &format!("/api/v1/orders/{order}/cancel"), None, &[("authorization", &buyer.bearer())])
            .await
            .assert_status(StatusCode::OK);
        buy(&client, &buyer, &roomed, Some(&pass), "r1").await.assert_status(StatusCode::CREATED);
        let stock = app.get(&path(&roomed, "")).await.json();
        assert_eq!(stock["remaining"], 999, "the refused purchase held nothing");
    }
}

backend_test! {
    async fn a_place_not_polled_for_two_minutes_expires_and_its_holder_may_rejoin_at_the_back(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let [holder, alice, bob] = <[TestUser; 3]>::try_from(app.users(Role::Buyer, 3).await).unwrap();
        let drop = room_drop(
            &app, &seller, json!({ "admit_per_minute": 60, "max_active": 1 }), Duration::minutes(1),
        ).await;
        open(&app, &drop);
        let client = app.client();
        join(&client, &holder, &drop).await.assert_status(StatusCode::CREATED);
        tick(&app, 1).await;
        pass_of(&app, &holder, &drop).await;
        let alices = join(&client, &alice, &drop).await.json();
        assert_eq!(alices["position"], 1);
        join(&client, &bob, &drop).await.assert_status(StatusCode::CREATED);

        app.clock.advance(Duration::seconds(60));
        assert_eq!(me(&client, &bob, &drop).await.json()["position"], 2);
        app.clock.advance(Duration::seconds(60));
        let expired = me(&client, &alice, &drop).await;
        expired.assert_status(StatusCode::GONE);
        assert_eq!(expired.error_code(), "queue_expired");
        assert_eq!(expired.json()["error"]["details"]["reason"], "abandoned");
        let after = me(&client, &alice, &drop).await;
        after.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(after.error_code(), "not_in_queue", "expiry is said once");

        let rejoined = join(&client, &alice, &drop).await;
        rejoined.assert_status(StatusCode::CREATED);
        let rejoined = rejoined.json();
        assert!(rejoined["ticket"].as_u64() > alices["ticket"].as_u64(), "a new place");
        assert_eq!(rejoined["position"], 2, "at the back, behind bob");
        assert_eq!(me(&client, &bob, &drop).await.json()["position"], 1);
        assert_eq!(stats(&app, &seller, &drop).await["abandoned"], 1);

        // The holder never used the pass: it ends with the session, said once as well.
        app.clock.advance(Duration::minutes(3));
        let unused = me(&client, &holder, &drop).await;
        unused.assert_status(StatusCode::GONE);
        assert_eq!(unused.json()["error"]["details"]["reason"], "pass_expired");
    }
}

backend_test! {
    async fn queue_routes_answer_no_waiting_room_and_stats_only_to_the_seller_or_an_admin(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let plain = crate::drops::create_drop(&app, &seller, 10, 1).await;
        assert_eq!(plain["waiting_room"], Value::Null);
        let client = app.client();
        for response in [
            join(&client, &buyer, &plain).await,
            me(&client, &buyer, &plain).await,
            app.send(Method::GET, &path(&plain, "/queue/stats"), None, &[("authorization", &seller.bearer())]).await,
        ] {
            response.assert_status(StatusCode::NOT_FOUND);
            assert_eq!(response.error_code(), "no_waiting_room");
        }
        let events = client.stream(&path(&plain, "/queue/events"), &[("authorization", &buyer.bearer())]).await;
        assert_eq!(events.status, StatusCode::NOT_FOUND);
        assert!(events.text().await.contains("no_waiting_room"));
        open(&app, &plain);
        buy(&client, &buyer, &plain, None, "k").await.assert_status(StatusCode::CREATED);

        let drop = room_drop(&app, &seller, json!({ "admit_per_minute": 60 }), Duration::hours(1)).await;
        let other_seller = app.user(Role::Seller).await;
        for stranger in [&other_seller, &buyer] {
            let response = app
                .send(Method::GET, &path(&drop, "/queue/stats"), None, &[("authorization", &stranger.bearer())])
                .await;
            response.assert_status(StatusCode::NOT_FOUND);
            assert_eq!(response.error_code(), "not_found");
        }
        let admin = app.user(Role::Admin).await;
        assert_eq!(
            stats(&app, &admin, &drop).await,
            json!({
                "waiting": 0, "admitted": 0, "active": 0, "admissions_per_minute": 0, "abandoned": 0,
                "peak_waiting": 0, "bought": 0, "median_wait_seconds": null,
            })
        );
    }
}

backend_test! {
    async fn queue_events_push_the_place_until_the_pass_is_used_and_stop_when_the_client_leaves(backend: Backend) {
        let app = TestApp::builder(backend)
            .config(|c| c.waiting_room.events_every = std::time::Duration::from_millis(20))
            .build()
            .await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let drop = room_drop(&app, &seller, json!({ "admit_per_minute": 60 }), Duration::minutes(1)).await;
        let client = app.client();
        let bearer = buyer.bearer();
        let auth = [("authorization", bearer.as_str())];

        let not_joined = client.stream(&path(&drop, "/queue/events"), &auth).await;
        assert_eq!(not_joined.status, StatusCode::NOT_FOUND);
        assert!(not_joined.text().await.contains("not_in_queue"));

        join(&client, &buyer, &drop).await.assert_status(StatusCode::CREATED);
        let mut events = client.stream(&path(&drop, "/queue/events"), &auth).await;
        assert_eq!(events.status, StatusCode::OK);
        assert_eq!(events.headers["content-type"], "text/event-stream");
        let (name, place) = events.next_event().await.unwrap();
        assert_eq!((name.as_str(), &place["state"]), ("status", &json!("waiting")));
        assert_eq!(app.state().rooms.open_event_streams(), 1);

        open(&app, &drop);
        app.worker().run_due().await.unwrap();
        let (name, place) = events.next_event().await.unwrap();
        assert_eq!((name.as_str(), &place["state"]), ("status", &json!("admitted")), "{place}");
        let pass = place["pass"].as_str().unwrap();
        buy(&client, &buyer, &drop, Some(pass), "k").await.assert_status(StatusCode::CREATED);
        let (name, error) = events.next_event().await.unwrap();
        assert_eq!(name, "error");
        assert_eq!(error["error"]["code"], "not_in_queue");
        assert!(events.next_event().await.is_none(), "the stream ends after an error");
        assert_eq!(app.state().rooms.open_event_streams(), 0);

        let other = app.user(Role::Buyer).await;
        join(&client, &other, &drop).await.assert_status(StatusCode::CREATED);
        let mut watching = client
            .stream(&path(&drop, "/queue/events"), &[("authorization", &other.bearer())])
            .await;
        assert_eq!(watching.next_event().await.unwrap().0, "status");
        assert_eq!(app.state().rooms.open_event_streams(), 1);
        std::mem::drop(watching);
        assert_eq!(app.state().rooms.open_event_streams(), 0, "a client that leaves ends its stream");

        // A buyer holds at most four streams at once; closing one makes room for another.
        let auth = [("authorization", other.bearer())];
        let auth = [(auth[0].0, auth[0].1.as_str())];
        let mut streams = Vec::new();
        for _ in 0..4 {
            let mut stream = client.stream(&path(&drop, "/queue/events"), &auth).await;
            assert_eq!(stream.next_event().await.unwrap().0, "status");
            streams.push(stream);
        }
        let fifth = client.stream(&path(&drop, "/queue/events"), &auth).await;
        assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(fifth.text().await.contains("too_many_streams"));
        let third = app.user(Role::Buyer).await;
        join(&client, &third, &drop).await.assert_status(StatusCode::CREATED);
        let mut elsewhere = client
            .stream(&path(&drop, "/queue/events"), &[("authorization", &third.bearer())])
            .await;
        assert_eq!(elsewhere.status, StatusCode::OK, "another buyer is not held to it");
        std::mem::drop(elsewhere.next_event().await);
        streams.pop();
        let again = client.stream(&path(&drop, "/queue/events"), &auth).await;
        assert_eq!(again.status, StatusCode::OK);
    }
}

backend_test! {
    async fn an_event_stream_outlives_the_request_timeout(backend: Backend) {
        let app = TestApp::builder(backend)
            .config(|c| {
                c.waiting_room.events_every = std::time::Duration::from_millis(20);
                c.http.request_timeout = std::time::Duration::from_millis(200);
            })
            .build()
            .await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let drop = room_drop(&app, &seller, json!({ "admit_per_minute": 60 }), Duration::minutes(1)).await;
        let client = app.client();
        join(&client, &buyer, &drop).await.assert_status(StatusCode::CREATED);
        let bearer = buyer.bearer();
        let mut events = client.stream(&path(&drop, "/queue/events"), &[("authorization", bearer.as_str())]).await;
        assert_eq!(events.status, StatusCode::OK);
        assert_eq!(events.next_event().await.unwrap().0, "status");
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        // Three request timeouts later the stream still pushes the place.
        open(&app, &drop);
        app.worker().run_due().await.unwrap();
        let (name, place) = loop {
            let (name, place) = events.next_event().await.expect("the stream ended at the request timeout");
            if place["state"] != "waiting" {
                break (name, place);
            }
        };
        assert_eq!((name.as_str(), &place["state"]), ("status", &json!("admitted")), "{place}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_from_one_node_buys_on_another_sharing_postgres_and_redis() {
    if !rushline_testkit::Backend::Postgres.available() {
        return;
    }
    let a = TestApp::new(rushline_testkit::Backend::Postgres).await;
    let b = a.another_node().build().await;
    let seller = a.user(Role::Seller).await;
    let buyers = a.users(Role::Buyer, 2).await;
    let drop = room_drop(
        &a,
        &seller,
        json!({ "admit_per_minute": 60, "max_active": 1 }),
        Duration::minutes(1),
    )
    .await;
    let (on_a, on_b) = (a.client(), b.client());
    join(&on_a, &buyers[0], &drop)
        .await
        .assert_status(StatusCode::CREATED);
    join(&on_b, &buyers[1], &drop)
        .await
        .assert_status(StatusCode::CREATED);
    let place = join(&on_b, &buyers[0], &drop).await.json();
    assert_eq!(place["ticket"], 1, "one room across nodes: the same place");

    open(&a, &drop);
    tick(&a, 2).await;
    let seed = b.get(&path(&drop, "")).await.json()["queue_seed"].clone();
    assert_eq!(a.get(&path(&drop, "")).await.json()["queue_seed"], seed);
    let mut admitted = Vec::new();
    let mut waiting = HashSet::new();
    for buyer in &buyers {
        let place = me(&on_b, buyer, &drop).await.json();
        match place["state"].as_str().unwrap() {
            "admitted" => admitted.push((buyer, place["pass"].as_str().unwrap().to_owned())),
            _ => {
                waiting.insert(buyer.id);
            }
        }
    }
    assert_eq!(
        (admitted.len(), waiting.len()),
        (1, 1),
        "max_active holds across nodes"
    );
    let (holder, pass) = &admitted[0];
    buy(&on_b, holder, &drop, Some(pass), "k1")
        .await
        .assert_status(StatusCode::CREATED);
    let again = buy(&on_a, holder, &drop, Some(pass), "k2").await;
    again.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        again.error_code(),
        "queue_pass_invalid",
        "used up on every node"
    );

    tick(&a, 1).await;
    let next = buyers
        .iter()
        .find(|buyer| waiting.contains(&buyer.id))
        .unwrap();
    let pass = pass_of(&b, next, &drop).await;
    buy(&on_a, next, &drop, Some(&pass), "k3")
        .await
        .assert_status(StatusCode::CREATED);
}

backend_test! {
    async fn the_rooms_figures_reach_the_sellers_statistics_and_outlive_the_drop(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 4).await;
        let drop = room_drop(&app, &seller, json!({ "admit_per_minute": 60 }), Duration::minutes(1)).await;
        let client = app.client();
        for buyer in &buyers {
            join(&client, buyer, &drop).await.assert_status(StatusCode::CREATED);
        }
        open(&app, &drop);
        tick(&app, 4).await;
        // Two of the four admitted buy.
        for (i, buyer) in buyers[..2].iter().enumerate() {
            let pass = pass_of(&app, buyer, &drop).await;
            buy(&client, buyer, &drop, Some(&pass), &format!("k{i}")).await.assert_status(StatusCode::CREATED);
        }
        let room = stats(&app, &seller, &drop).await;
        assert_eq!(
            (room["peak_waiting"].as_u64(), room["admitted"].as_u64(), room["bought"].as_u64(), room["waiting"].as_u64()),
            (Some(4), Some(4), Some(2), Some(0)),
            "{room}"
        );
        // Admitted in the four seconds after the opening, a second apart at most.
        let median = room["median_wait_seconds"].as_i64().unwrap();
        assert!((0..=4).contains(&median), "{room}");
        let figures = json!({
            "peak_waiting": 4, "median_wait_seconds": median, "admitted": 4, "bought": 2, "conversion": 0.5,
        });

        let opens_at: DateTime<Utc> = drop["opens_at"].as_str().unwrap().parse().unwrap();
        let day = rushline_domain::settlement::business_day_of(opens_at, chrono_tz::Asia::Seoul);
        let stats_path = format!("/api/v1/seller/stats?from={day}&to={day}");
        assert_eq!(seller_room(&app, &seller, &stats_path).await, figures, "live from the room while the drop is open");

        // Rolled up a minute after the close: the row keeps them.
        let closes_at: DateTime<Utc> = drop["closes_at"].as_str().unwrap().parse().unwrap();
        app.clock.set(closes_at + Duration::seconds(1));
        app.worker().run_due().await.unwrap();
        app.advance(Duration::minutes(1)).await;
        let id: Uuid = drop["id"].as_str().unwrap().parse().unwrap();
        let rolled = app.state().store.drop_sales(&[id]).await.unwrap();
        assert_eq!(
            rolled[0].room,
            Some(rushline_store::RoomFigures { peak_waiting: 4, admitted: 4, used: 2, median_wait_seconds: Some(median) })
        );
        assert_eq!(seller_room(&app, &seller, &stats_path).await, figures, "from the roll-up once the drop is over");
    }
}

/// The waiting room figures of the first drop in the seller's statistics at `path`.
async fn seller_room(app: &TestApp, seller: &TestUser, path: &str) -> Value {
    let response = app
        .send(
            Method::GET,
            path,
            None,
            &[("authorization", &seller.bearer())],
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()["drops"][0]["waiting_room"].clone()
}
