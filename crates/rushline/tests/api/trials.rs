//! Trial campaigns: creating and managing them, applying through the claim gate, cancelling,
//! overdue reviews and the bar, on both backend pairs.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use rushline_domain::{Clock, Role};
use rushline_store::ApplicationFilter;
use rushline_testkit::{TestApp, TestClient, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};
use uuid::Uuid;

/// A trial of a fresh product of `seller`, opening in a minute and closing a day later.
pub(crate) async fn create_trial(app: &TestApp, seller: &TestUser, slots: i64) -> Value {
    let product = app.product(seller, 129_000, 0).await;
    let now = app.clock.now();
    let response = app
        .send(
            Method::POST,
            "/api/v1/trials",
            Some(json!({
                "product_id": product.id,
                "title": "Try the Aurora",
                "description": "Wear them a week,\nthen tell us.",
                "slots": slots,
                "opens_at": now + Duration::minutes(1),
                "closes_at": now + Duration::days(1),
            })),
            &[("authorization", &seller.bearer())],
        )
        .await;
    response.assert_status(StatusCode::CREATED);
    response.json()
}

pub(crate) fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

pub(crate) fn time(value: &Value, field: &str) -> DateTime<Utc> {
    value[field].as_str().unwrap().parse().unwrap()
}

pub(crate) fn open(app: &TestApp, trial: &Value) {
    app.clock.set(time(trial, "opens_at"));
}

pub(crate) async fn apply(
    client: &TestClient,
    buyer: &TestUser,
    trial: &Value,
    key: &str,
) -> TestResponse {
    client
        .send(
            Method::POST,
            &format!("/api/v1/trials/{}/apply", id(trial)),
            Some(json!({ "motivation": "I run every day" })),
            &[("authorization", &buyer.bearer()), ("idempotency-key", key)],
        )
        .await
}

pub(crate) async fn act(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
) -> TestResponse {
    app.send(method, path, None, &[("authorization", &user.bearer())])
        .await
}

async fn view(app: &TestApp, trial: &Value) -> Value {
    let response = app.get(&format!("/api/v1/trials/{}", id(trial))).await;
    response.assert_status(StatusCode::OK);
    response.json()
}

pub(crate) async fn my_trials(app: &TestApp, buyer: &TestUser) -> Vec<Value> {
    let response = act(app, buyer, Method::GET, "/api/v1/me/trials").await;
    response.assert_status(StatusCode::OK);
    response.json()["items"].as_array().unwrap().clone()
}

/// Every application of `trial` in the database.
async fn recorded(app: &TestApp, trial: &Value) -> usize {
    app.state()
        .store
        .list_applications(&ApplicationFilter {
            trial_id: Some(id(trial).parse().unwrap()),
            limit: 100_000,
            ..ApplicationFilter::default()
        })
        .await
        .unwrap()
        .len()
}

/// One application per buyer (a key each), all at once; each 201's buyer and body, and the
/// count of each error code.
async fn storm(
    client: &TestClient,
    buyers: &[TestUser],
    trial: &Value,
) -> (Vec<(Uuid, Value)>, HashMap<String, usize>) {
    let tasks: Vec<_> = buyers
        .iter()
        .map(|buyer| {
            let (client, buyer, trial) = (client.clone(), buyer.clone(), trial.clone());
            tokio::spawn(async move {
                let response = apply(&client, &buyer, &trial, "storm").await;
                (buyer.id, response)
            })
        })
        .collect();
    let mut selected = Vec::new();
    let mut refused = HashMap::new();
    for task in tasks {
        let (buyer, response) = task.await.unwrap();
        if response.status == StatusCode::CREATED {
            selected.push((buyer, response.json()));
        } else {
            *refused.entry(response.error_code()).or_insert(0) += 1;
        }
    }
    (selected, refused)
}

backend_test! {
    async fn sellers_create_and_change_their_trials_and_nobody_else_does(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (seller, other) = (app.user(Role::Seller).await, app.user(Role::Seller).await);
        let buyer = app.user(Role::Buyer).await;
        let trial = create_trial(&app, &seller, 100).await;
        assert_eq!(trial["status"], "scheduled");
        assert_eq!(trial["allocation"], "fcfs");
        assert_eq!(trial["review_due_days"], 14);
        assert_eq!((trial["remaining"].as_u64(), trial["applicants"].as_i64()), (Some(100), Some(0)));
        assert_eq!(view(&app, &trial).await["id"], trial["id"]);

        let product = app.product(&seller, 1_000, 0).await;
        let now = app.clock.now();
        let body = |product_id: Uuid, slots: i64| json!({
            "product_id": product_id, "title": "T", "slots": slots,
            "opens_at": now + Duration::hours(1), "closes_at": now + Duration::hours(2),
        });
        let create = |user: &TestUser, body: Value, key: &'static str| {
            let bearer = user.bearer();
            let app = &app;
            async move {
                app.send(Method::POST, "/api/v1/trials", Some(body),
                    &[("authorization", &bearer), ("idempotency-key", key)]).await
            }
        };
        assert_eq!(create(&buyer, body(product.id, 5), "b").await.error_code(), "forbidden");
        assert_eq!(create(&other, body(product.id, 5), "o").await.error_code(), "not_found");
        let invalid = create(&seller, body(product.id, 100_001), "v").await;
        invalid.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(invalid.json()["error"]["details"]["fields"]["slots"].is_array());
        let first = create(&seller, body(product.id, 5), "k").await;
        first.assert_status(StatusCode::CREATED);
        let again = create(&seller, body(product.id, 5), "k").await;
        again.assert_status(StatusCode::CREATED);
        assert_eq!(first.json()["id"], again.json()["id"]);
        assert_eq!(create(&seller, body(product.id, 6), "k").await.error_code(), "idempotency_mismatch");

        let path = format!("/api/v1/trials/{}", id(&trial));
        let patch = |user: &TestUser, body: Value| {
            let (bearer, path, app) = (user.bearer(), path.clone(), &app);
            async move { app.send(Method::PATCH, &path, Some(body), &[("authorization", &bearer)]).await }
        };
        assert_eq!(patch(&other, json!({ "slots": 3 })).await.error_code(), "not_found");
        let changed = patch(&seller, json!({ "slots": 3, "review_due_days": 7 })).await;
        changed.assert_status(StatusCode::OK);
        assert_eq!((changed.json()["remaining"].as_u64(), changed.json()["review_due_days"].as_i64()), (Some(3), Some(7)));
        assert_eq!(act(&app, &other, Method::DELETE, &path).await.error_code(), "not_found");

        let listed = app.get(&format!("/api/v1/trials?seller_id={}&limit=1", seller.id)).await.json();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        let cursor = listed["next_cursor"].as_str().unwrap();
        let next = app.get(&format!("/api/v1/trials?seller_id={}&limit=1&cursor={cursor}", seller.id)).await.json();
        assert_ne!(next["items"][0]["id"], listed["items"][0]["id"]);
        assert_eq!(app.get("/api/v1/trials?cursor=nonsense").await.error_code(), "invalid_cursor");

        open(&app, &trial);
        assert_eq!(patch(&seller, json!({ "slots": 4 })).await.error_code(), "not_scheduled");
        assert_eq!(act(&app, &seller, Method::DELETE, &path).await.error_code(), "not_scheduled");
        assert_eq!(view(&app, &trial).await["status"], "open");
        let open_ones = app.get(&format!("/api/v1/trials?status=open&product_id={}", trial["product_id"].as_str().unwrap())).await.json();
        assert_eq!(open_ones["items"].as_array().unwrap().len(), 1);
        let scheduled = create_trial(&app, &seller, 1).await;
        let deleted = act(&app, &seller, Method::DELETE, &format!("/api/v1/trials/{}", id(&scheduled))).await;
        deleted.assert_status(StatusCode::NO_CONTENT);
        assert_eq!(app.get(&format!("/api/v1/trials/{}", id(&scheduled))).await.error_code(), "not_found");
    }
}

backend_test! {
    async fn applications_are_refused_with_stable_codes_and_retries_get_the_first_answer(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 3).await;
        let trial = create_trial(&app, &seller, 1).await;
        let client = app.client();
        assert_eq!(apply(&client, &buyers[0], &trial, "a").await.error_code(), "not_open");
        open(&app, &trial);

        let control = app.send(Method::POST, &format!("/api/v1/trials/{}/apply", id(&trial)),
            Some(json!({ "motivation": "bell\u{7}" })),
            &[("authorization", &buyers[0].bearer()), ("idempotency-key", "c")]).await;
        assert_eq!(control.error_code(), "validation_failed");
        let long = app.send(Method::POST, &format!("/api/v1/trials/{}/apply", id(&trial)),
            Some(json!({ "motivation": "a".repeat(1_001) })),
            &[("authorization", &buyers[0].bearer()), ("idempotency-key", "c")]).await;
        assert_eq!(long.error_code(), "validation_failed");
        let no_key = app.send(Method::POST, &format!("/api/v1/trials/{}/apply", id(&trial)),
            None, &[("authorization", &buyers[0].bearer())]).await;
        assert_eq!(no_key.error_code(), "idempotency_key_required");
        assert_eq!(apply(&client, &seller, &trial, "s").await.error_code(), "forbidden");

        let first = apply(&client, &buyers[0], &trial, "a").await;
        first.assert_status(StatusCode::CREATED);
        let body = first.json();
        assert_eq!((body["status"].as_str(), body["seq"].as_u64()), (Some("selected"), Some(1)));
        assert_eq!(time(&body, "review_due_at"), time(&trial, "opens_at") + Duration::days(14));
        let replay = apply(&client, &buyers[0], &trial, "a").await;
        replay.assert_status(StatusCode::CREATED);
        assert_eq!(replay.json(), body);
        assert_eq!(apply(&client, &buyers[0], &trial, "b").await.error_code(), "already_applied");
        assert_eq!(apply(&client, &buyers[1], &trial, "a").await.error_code(), "trial_full");
        assert_eq!(view(&app, &trial).await["status"], "full");
        assert_eq!(recorded(&app, &trial).await, 1, "a refusal records nothing");

        app.clock.set(time(&trial, "closes_at"));
        assert_eq!(apply(&client, &buyers[2], &trial, "a").await.error_code(), "closed");
        let late_replay = apply(&client, &buyers[0], &trial, "a").await;
        late_replay.assert_status(StatusCode::CREATED);
        assert_eq!(late_replay.json(), body);
        assert_eq!(view(&app, &trial).await["status"], "closed");
    }
}

backend_test! {
    async fn ten_thousand_buyers_apply_at_once_for_a_thousand_slots(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 10_000).await;
        let trial = create_trial(&app, &seller, 1_000).await;
        open(&app, &trial);
        let started = Instant::now();
        let (selected, refused) = storm(&app.client(), &buyers, &trial).await;
        eprintln!("{backend:?}: 10,000 applications in {:?}", started.elapsed());
        assert_eq!(selected.len(), 1_000, "{refused:?}");
        assert_eq!(refused.get("trial_full"), Some(&9_000), "{refused:?}");
        let distinct: HashSet<Uuid> = selected.iter().map(|(buyer, _)| *buyer).collect();
        assert_eq!(distinct.len(), 1_000, "each buyer at most once");
        let mut seqs: Vec<u64> = selected.iter().map(|(_, body)| body["seq"].as_u64().unwrap()).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=1_000).collect::<Vec<_>>(), "seq is unique and gapless");

        assert_eq!(recorded(&app, &trial).await, 1_000, "the database holds every 201 and nothing else");
        // The stored selections are the acknowledged ones: same buyers, same seqs.
        let stored: HashSet<(Uuid, i64)> = app
            .state()
            .store
            .list_applications(&ApplicationFilter {
                trial_id: Some(id(&trial).parse().unwrap()),
                limit: 100_000,
                ..ApplicationFilter::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|application| (application.buyer_id, application.seq.unwrap()))
            .collect();
        let acknowledged: HashSet<(Uuid, i64)> =
            selected.iter().map(|(buyer, body)| (*buyer, body["seq"].as_i64().unwrap())).collect();
        assert_eq!(stored, acknowledged);
        let (pool, claims) = app.state().store.pool_snapshot(&format!("trial:{}", id(&trial))).await.unwrap();
        assert_eq!((pool.held, claims.len()), (1_000, 1_000));
        let shown = view(&app, &trial).await;
        assert_eq!((shown["remaining"].as_u64(), shown["status"].as_str()), (Some(0), Some("full")), "the gate agrees");
        assert_eq!(shown["applicants"], 1_000);
        let stats = act(&app, &seller, Method::GET, &format!("/api/v1/trials/{}/stats", id(&trial))).await.json();
        assert_eq!((stats["selected"].as_i64(), stats["time_to_fill_seconds"].as_f64()), (Some(1_000), Some(0.0)));
    }
}

backend_test! {
    async fn a_pause_during_a_storm_stops_every_later_selection(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 3_000).await;
        let trial = create_trial(&app, &seller, 2_500).await;
        open(&app, &trial);
        let (client, storm_buyers, storm_trial) = (app.client(), buyers[..2_999].to_vec(), trial.clone());
        let rush = tokio::spawn(async move { storm(&client, &storm_buyers, &storm_trial).await });
        while recorded(&app, &trial).await < 100 {
            tokio::task::yield_now().await;
        }
        let path = format!("/api/v1/trials/{}", id(&trial));
        let paused = act(&app, &seller, Method::POST, &format!("{path}/pause")).await;
        paused.assert_status(StatusCode::OK);
        assert_eq!(paused.json()["status"], "paused");
        let at_pause = recorded(&app, &trial).await;
        let (selected, refused) = rush.await.unwrap();
        assert_eq!(recorded(&app, &trial).await, at_pause, "no selection after the pause took effect");
        assert_eq!(selected.len(), at_pause);
        assert!(at_pause < 2_500, "the pause came before the trial filled: {at_pause}");
        // Grants the group commit refused for the pause held slots for a moment, so some
        // applicants heard the trial was full meanwhile: undersold for a moment, never oversold.
        assert!(refused.keys().all(|code| code == "paused" || code == "trial_full"), "{refused:?}");
        assert!(refused.contains_key("paused"), "{refused:?}");
        assert_eq!(apply(&app.client(), &buyers[2_999], &trial, "late").await.error_code(), "paused");
        let shown = view(&app, &trial).await;
        assert_eq!(shown["remaining"].as_u64(), Some(2_500 - at_pause as u64), "the gate gave back what was refused");

        let resumed = act(&app, &seller, Method::POST, &format!("{path}/resume")).await;
        assert_eq!(resumed.json()["status"], "open");
        apply(&app.client(), &buyers[2_999], &trial, "late").await.assert_status(StatusCode::CREATED);
    }
}

backend_test! {
    async fn a_cancelled_slot_goes_to_a_later_applicant(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let (alice, bob) = (app.user(Role::Buyer).await, app.user(Role::Buyer).await);
        let trial = create_trial(&app, &seller, 1).await;
        open(&app, &trial);
        let client = app.client();
        let selected = apply(&client, &alice, &trial, "a").await.json();
        assert_eq!(apply(&client, &bob, &trial, "b").await.error_code(), "trial_full");

        let cancel = format!("/api/v1/me/trials/{}/cancel", selected["application_id"].as_str().unwrap());
        assert_eq!(act(&app, &bob, Method::POST, &cancel).await.error_code(), "not_found");
        let cancelled = act(&app, &alice, Method::POST, &cancel).await;
        cancelled.assert_status(StatusCode::OK);
        assert_eq!(cancelled.json()["status"], "cancelled");
        assert_eq!(act(&app, &alice, Method::POST, &cancel).await.error_code(), "invalid_transition");
        assert_eq!(view(&app, &trial).await["remaining"], 1);

        // A retry of the first application still answers it, and takes no slot.
        let retry = apply(&client, &alice, &trial, "a").await;
        retry.assert_status(StatusCode::CREATED);
        assert_eq!(retry.json(), selected);
        assert_eq!(view(&app, &trial).await["remaining"], 1);
        // One application per buyer, cancelled or not: the database refuses a second one, and
        // its grant is undone.
        assert_eq!(apply(&client, &alice, &trial, "a2").await.error_code(), "already_applied");
        assert_eq!(view(&app, &trial).await["remaining"], 1);
        let later = apply(&client, &bob, &trial, "b2").await;
        later.assert_status(StatusCode::CREATED);
        assert!(later.json()["seq"].as_u64().unwrap() > 1);
        assert_eq!(view(&app, &trial).await["status"], "full");
        let mine = my_trials(&app, &alice).await;
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0]["status"].as_str(), mine[0]["trial"]["id"].as_str()), (Some("cancelled"), Some(id(&trial))));
        assert!(mine[0]["review_id"].is_null());

        app.worker().run_due().await.unwrap();
        let mails = app.deliver_mail_to(&alice.email).await;
        assert_eq!(mails.len(), 2, "{mails:?}");
        assert!(mails.iter().any(|m| m.contains("selected")) && mails.iter().any(|m| m.contains("cancelled")));

        let stats = act(&app, &seller, Method::GET, &format!("/api/v1/trials/{}/stats", id(&trial))).await.json();
        assert_eq!((stats["applicants"].as_i64(), stats["selected"].as_i64()), (Some(2), Some(1)));
        app.clock.set(time(&trial, "closes_at"));
        let bobs = my_trials(&app, &bob).await;
        let bobs_cancel = format!("/api/v1/me/trials/{}/cancel", bobs[0]["application_id"].as_str().unwrap());
        assert_eq!(act(&app, &bob, Method::POST, &bobs_cancel).await.error_code(), "closed");
    }
}

backend_test! {
    async fn an_overdue_review_bars_the_tester_for_a_while(backend: Backend) {
        let app = TestApp::builder(backend)
            .config(|config| config.trials.overdue_bar_days = 5)
            .build()
            .await;
        let seller = app.user(Role::Seller).await;
        let alice = app.user(Role::Buyer).await;
        let first = create_trial(&app, &seller, 10).await;
        open(&app, &first);
        let selected = apply(&app.client(), &alice, &first, "a").await.json();
        let due = time(&selected, "review_due_at");

        app.clock.set(due - Duration::minutes(2));
        app.advance(Duration::minutes(1)).await;
        assert_eq!(my_trials(&app, &alice).await[0]["status"], "selected");
        app.advance(Duration::minutes(2)).await;
        let mine = my_trials(&app, &alice).await;
        assert_eq!(mine[0]["status"], "review_overdue");
        app.worker().run_due().await.unwrap();
        let mails = app.deliver_mail_to(&alice.email).await;
        assert!(mails.iter().any(|m| m.contains("overdue")), "{mails:?}");

        let second = create_trial(&app, &seller, 10).await;
        open(&app, &second);
        let barred = apply(&app.client(), &alice, &second, "b").await;
        barred.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(barred.error_code(), "trial_barred");
        assert_eq!(view(&app, &second).await["remaining"], 10, "the refused grant is undone");
        app.clock.set(due + Duration::days(4));
        let fourth = create_trial(&app, &seller, 10).await;
        open(&app, &fourth);
        assert_eq!(apply(&app.client(), &alice, &fourth, "d").await.error_code(), "trial_barred");
        app.clock.set(due + Duration::days(5) + Duration::minutes(2));
        let third = create_trial(&app, &seller, 10).await;
        open(&app, &third);
        apply(&app.client(), &alice, &third, "c").await.assert_status(StatusCode::CREATED);
    }
}

backend_test! {
    async fn only_the_seller_and_admins_see_applications_and_stats(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (seller, other) = (app.user(Role::Seller).await, app.user(Role::Seller).await);
        let (admin, buyer) = (app.user(Role::Admin).await, app.user(Role::Buyer).await);
        let trial = create_trial(&app, &seller, 5).await;
        open(&app, &trial);
        apply(&app.client(), &buyer, &trial, "a").await.assert_status(StatusCode::CREATED);
        let applications = format!("/api/v1/trials/{}/applications", id(&trial));
        let stats = format!("/api/v1/trials/{}/stats", id(&trial));
        for path in [&applications, &stats] {
            assert_eq!(act(&app, &other, Method::GET, path).await.error_code(), "not_found");
            assert_eq!(act(&app, &buyer, Method::GET, path).await.error_code(), "not_found");
            act(&app, &admin, Method::GET, path).await.assert_status(StatusCode::OK);
            assert_eq!(app.get(path).await.error_code(), "unauthorized");
        }
        assert_eq!(act(&app, &other, Method::POST, &format!("/api/v1/trials/{}/pause", id(&trial))).await.error_code(), "not_found");
        let listed = act(&app, &seller, Method::GET, &format!("{applications}?status=selected")).await;
        listed.assert_status(StatusCode::OK);
        let item = &listed.json()["items"][0];
        assert_eq!(item["buyer_id"], buyer.id.to_string());
        assert_eq!(item["motivation"], "I run every day");
        assert!(!listed.text().contains(&buyer.email), "no e-mail addresses");
        let none = act(&app, &seller, Method::GET, &format!("{applications}?status=cancelled")).await.json();
        assert!(none["items"].as_array().unwrap().is_empty());
        let numbers = act(&app, &seller, Method::GET, &stats).await.json();
        assert_eq!(numbers, json!({ "applicants": 1, "selected": 1, "time_to_fill_seconds": null, "review_rate": 0.0, "average_rating": null }));
    }
}

/// Every page of `path` (which has a query already) as `user`, following `next_cursor`; each
/// page at most `limit` items.
async fn all_pages(app: &TestApp, user: &TestUser, path: &str, limit: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = act(
            app,
            user,
            Method::GET,
            &format!("{path}&limit={limit}{cursor}"),
        )
        .await;
        page.assert_status(StatusCode::OK);
        let page = page.json();
        let found = page["items"].as_array().unwrap();
        assert!(found.len() <= limit, "{page}");
        items.extend(found.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return items,
        }
    }
}

backend_test! {
    async fn applications_and_my_trials_page_newest_first_through_ties(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 5).await;
        let trials = [
            create_trial(&app, &seller, 5).await,
            create_trial(&app, &seller, 5).await,
            create_trial(&app, &seller, 5).await,
        ];
        open(&app, &trials[0]);
        // Applied in pairs at the same microsecond, so pages also break ties.
        for (i, buyer) in buyers.iter().enumerate() {
            if i % 2 == 0 {
                app.clock.advance(Duration::seconds(1));
            }
            apply(&app.client(), buyer, &trials[0], &format!("k{i}")).await.assert_status(StatusCode::CREATED);
        }
        let path = format!("/api/v1/trials/{}/applications?status=selected", id(&trials[0]));
        let listed = all_pages(&app, &seller, &path, 2).await;
        let seen: Vec<(DateTime<Utc>, &str)> =
            listed.iter().map(|a| (time(a, "applied_at"), a["buyer_id"].as_str().unwrap())).collect();
        assert_eq!(seen.len(), 5, "{listed:?}");
        assert_eq!(seen.iter().map(|(_, buyer)| *buyer).collect::<HashSet<_>>().len(), 5, "no buyer twice");
        assert!(seen.windows(2).all(|pair| pair[0].0 >= pair[1].0), "newest first: {seen:?}");
        assert_eq!(seen[0].1, buyers[4].id.to_string());

        // One buyer's applications over three trials, a page each.
        for (i, trial) in trials[1..].iter().enumerate() {
            app.clock.advance(Duration::seconds(1));
            apply(&app.client(), &buyers[0], trial, &format!("m{i}")).await.assert_status(StatusCode::CREATED);
        }
        let mine = all_pages(&app, &buyers[0], "/api/v1/me/trials?status=selected", 1).await;
        let order: Vec<&str> = mine.iter().map(|a| a["trial"]["id"].as_str().unwrap()).collect();
        assert_eq!(order, [id(&trials[2]), id(&trials[1]), id(&trials[0])]);
    }
}
