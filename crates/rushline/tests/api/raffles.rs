//! Raffle drops end to end, on both backend pairs: entries, the draw and its publication, winners
//! who buy in turn, and places rolling down the draw order.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use rushline_domain::raffle::{draw_order, seed_commitment};
use rushline_domain::{Clock, Role};
use rushline_testkit::{TestApp, TestResponse, TestUser, backend_test, orders_of_drop};
use serde_json::{Value, json};
use uuid::Uuid;

use rushline::raffle_verify::Subject;

use crate::drops::purchase;
use crate::notifications::inbox;

/// A raffle drop of `quantity` units: opens in a minute, entries for ten minutes, a claim window
/// of five minutes, closes an hour after opening.
async fn raffle_drop(app: &TestApp, seller: &TestUser, quantity: i64, limit: i64) -> Value {
    let product = app.product(seller, 129_000, 0).await;
    let opens_at = app.clock.now() + Duration::minutes(1);
    let response = app
        .send(
            Method::POST,
            "/api/v1/drops",
            Some(json!({
                "product_id": product.id,
                "quantity": quantity,
                "price": 99_000,
                "opens_at": opens_at,
                "closes_at": opens_at + Duration::hours(1),
                "per_user_limit": limit,
                "allocation": "raffle",
                "raffle": {
                    "entries_close_at": opens_at + Duration::minutes(10),
                    "claim_window_minutes": 5,
                },
            })),
            &[("authorization", &seller.bearer())],
        )
        .await;
    response.assert_status(StatusCode::CREATED);
    response.json()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

fn id(drop: &Value) -> &str {
    drop["id"].as_str().unwrap()
}

async fn enter(app: &TestApp, buyer: &TestUser, drop: &Value, key: &str) -> TestResponse {
    app.send(
        Method::POST,
        &format!("/api/v1/drops/{}/entries", id(drop)),
        None,
        &[("authorization", &buyer.bearer()), ("idempotency-key", key)],
    )
    .await
}

async fn standing(app: &TestApp, buyer: &TestUser, drop: &Value) -> Value {
    let response = app
        .send(
            Method::GET,
            &format!("/api/v1/drops/{}/entries/me", id(drop)),
            None,
            &[("authorization", &buyer.bearer())],
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()
}

async fn view(app: &TestApp, drop: &Value) -> Value {
    let response = app.get(&format!("/api/v1/drops/{}", id(drop))).await;
    response.assert_status(StatusCode::OK);
    response.json()
}

/// Runs the raffle jobs' work at the current clock: the draw when due, then a sweep.
async fn sweep(app: &TestApp) {
    rushline_app::raffles::advance(app.state(), app.clock.now())
        .await
        .unwrap();
}

/// The whole published draw, page by page.
async fn published_draw(app: &TestApp, drop: &Value, limit: u32) -> (Value, Vec<Uuid>, Vec<Uuid>) {
    let (mut entrants, mut order) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/api/v1/drops/{}/draw?limit={limit}", id(drop)),
            Some(c) => format!("/api/v1/drops/{}/draw?limit={limit}&cursor={c}", id(drop)),
        };
        let page = app.get(&path).await;
        page.assert_status(StatusCode::OK);
        let page = page.json();
        let ids = |key: &str| -> Vec<Uuid> {
            page[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().parse().unwrap())
                .collect()
        };
        entrants.extend(ids("entrants"));
        order.extend(ids("order"));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (page, entrants, order),
        }
    }
}

backend_test! {
    async fn a_raffle_takes_entries_draws_verifiably_and_rolls_places_down_the_order(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 10).await;
        let drop = raffle_drop(&app, &seller, 3, 1).await;
        assert_eq!(drop["allocation"], "raffle");
        assert_eq!(drop["status"], "scheduled");
        let commitment = drop["raffle"]["seed_commitment"].as_str().unwrap().to_owned();
        assert_eq!(commitment.len(), 64);
        assert!(drop["raffle"].get("seed").is_none() && drop.get("seed").is_none());

        let early = enter(&app, &buyers[0], &drop, "e-0").await;
        early.assert_status(StatusCode::CONFLICT);
        assert_eq!(early.error_code(), "not_open");
        crate::drops::open(&app, &drop);
        let mut entry_ids = Vec::new();
        for (i, buyer) in buyers.iter().enumerate() {
            let entered = enter(&app, buyer, &drop, &format!("e-{i}")).await;
            entered.assert_status(StatusCode::CREATED);
            assert_eq!(entered.json()["status"], "entered");
            entry_ids.push(entered.json()["entry_id"].as_str().unwrap().to_owned());
        }
        let again = enter(&app, &buyers[0], &drop, "e-0").await;
        again.assert_status(StatusCode::CREATED);
        assert_eq!(again.json()["entry_id"], entry_ids[0], "a replay answers the first entry");
        let twice = enter(&app, &buyers[0], &drop, "another-key").await;
        twice.assert_status(StatusCode::CONFLICT);
        assert_eq!(twice.error_code(), "already_entered");
        let no_key = app
            .send(
                Method::POST,
                &format!("/api/v1/drops/{}/entries", id(&drop)),
                None,
                &[("authorization", &buyers[0].bearer())],
            )
            .await;
        no_key.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(standing(&app, &buyers[3], &drop).await["status"], "entered");
        let before = purchase(&app.client(), &buyers[0], &drop, 1, "p-early").await;
        before.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(before.error_code(), "not_a_winner");
        let secret = app.get(&format!("/api/v1/drops/{}/draw", id(&drop))).await;
        secret.assert_status(StatusCode::CONFLICT);
        assert_eq!(secret.error_code(), "not_drawn");

        // The draw at the close of entries.
        app.clock.set(time(&drop["raffle"]["entries_close_at"]));
        let late = enter(&app, &app.user(Role::Buyer).await, &drop, "late").await;
        late.assert_status(StatusCode::CONFLICT);
        assert_eq!(late.error_code(), "closed");
        assert_eq!(view(&app, &drop).await["status"], "drawing");
        sweep(&app).await;
        let drawn = view(&app, &drop).await;
        assert_eq!(drawn["status"], "claiming");
        assert_eq!(drawn["raffle"]["entrants"], 10);
        assert_eq!(drawn["raffle"]["seed_commitment"], commitment);

        // Anyone can recompute it: the seed matches the commitment, and the order follows.
        let (page, entrants, order) = published_draw(&app, &drop, 3).await;
        let seed: [u8; 32] = hex::decode(page["seed"].as_str().unwrap()).unwrap().try_into().unwrap();
        assert_eq!(seed_commitment(&seed), commitment);
        assert_eq!(page["algorithm"], "chacha20-fisher-yates-v1");
        let mut canonical: Vec<Uuid> = entry_ids.iter().map(|id| id.parse().unwrap()).collect();
        canonical.sort();
        assert_eq!(entrants, canonical);
        assert_eq!(order, draw_order(&seed, &entrants));

        // The first three in draw order won; the rest wait.
        let by_entry = |entry: &Uuid| {
            let i = entry_ids.iter().position(|id| id == &entry.to_string()).unwrap();
            &buyers[i]
        };
        let winners: Vec<&TestUser> = order[..3].iter().map(by_entry).collect();
        for (i, entry) in order.iter().enumerate() {
            let standing = standing(&app, by_entry(entry), &drop).await;
            assert_eq!(standing["position"], i);
            let expected = if i < 3 { "won" } else { "waitlisted" };
            assert_eq!(standing["status"], expected, "{i}");
        }
        // The winners are told, once each; the others are not.
        app.worker().run_due().await.unwrap();
        for winner in &winners {
            let mail = app.deliver_mail_to(&winner.email).await;
            assert_eq!(mail.len(), 1, "{}", winner.email);
            assert!(mail[0].contains("You won the raffle"), "{}", mail[0]);
        }
        assert!(app.deliver_mail_to(&by_entry(&order[3]).email).await.is_empty());
        let loser = purchase(&app.client(), by_entry(&order[5]), &drop, 1, "p-loser").await;
        loser.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(loser.error_code(), "not_a_winner");

        // The first winner buys; the second lets the window pass; the third buys and cancels.
        purchase(&app.client(), winners[0], &drop, 1, "p-0").await.assert_status(StatusCode::CREATED);
        let over = purchase(&app.client(), winners[0], &drop, 1, "p-0b").await;
        over.assert_status(StatusCode::CONFLICT);
        assert_eq!(over.error_code(), "limit_reached");
        let third = purchase(&app.client(), winners[2], &drop, 1, "p-2").await;
        third.assert_status(StatusCode::CREATED);
        let order_id = third.json()["order_id"].as_str().unwrap().to_owned();
        app.send(
            Method::POST,
            &format!("/api/v1/orders/{order_id}/cancel"),
            None,
            &[("authorization", &winners[2].bearer())],
        )
        .await
        .assert_status(StatusCode::OK);
        // Sweeps run a second apart, each offering at its own time.
        app.clock.advance(Duration::seconds(1));
        sweep(&app).await;
        assert_eq!(standing(&app, winners[0], &drop).await["status"], "purchased");
        assert_eq!(standing(&app, winners[2], &drop).await["status"], "expired");
        assert_eq!(
            standing(&app, by_entry(&order[3]), &drop).await["status"],
            "won",
            "the cancelled place rolled to the next entrant"
        );
        app.worker().run_due().await.unwrap();
        assert_eq!(app.deliver_mail_to(&by_entry(&order[3]).email).await.len(), 1, "told too");
        assert_eq!(inbox(&app, by_entry(&order[3])).await, ["raffle_waitlist_promoted"]);
        assert_eq!(inbox(&app, winners[1]).await, ["raffle_won"]);
        assert_eq!(standing(&app, by_entry(&order[4]), &drop).await["status"], "waitlisted");
        let again = purchase(&app.client(), winners[2], &drop, 1, "p-2b").await;
        again.assert_status(StatusCode::FORBIDDEN);
        // A retry of the cancelled purchase still gets its first answer.
        purchase(&app.client(), winners[2], &drop, 1, "p-2")
            .await
            .assert_status(StatusCode::CREATED);

        purchase(&app.client(), by_entry(&order[3]), &drop, 1, "p-3")
            .await
            .assert_status(StatusCode::CREATED);

        // The second winner's window passes: their place rolls too.
        app.clock.advance(Duration::minutes(5));
        sweep(&app).await;
        assert_eq!(standing(&app, winners[1], &drop).await["status"], "expired");
        assert_eq!(standing(&app, by_entry(&order[3]), &drop).await["status"], "purchased");
        assert_eq!(standing(&app, by_entry(&order[4]), &drop).await["status"], "won");
        purchase(&app.client(), by_entry(&order[4]), &drop, 1, "p-4")
            .await
            .assert_status(StatusCode::CREATED);
        assert_eq!(view(&app, &drop).await["status"], "sold_out");
        let sixth = by_entry(&order[5]);
        assert_eq!(standing(&app, sixth, &drop).await["status"], "waitlisted");

        // Never more units than the stock, each to a different winner, none to anyone else.
        let orders = orders_of_drop(&app.state().store, id(&drop).parse().unwrap()).await;
        let live: Vec<_> = orders
            .iter()
            .filter(|order| order.status.as_str() == "pending_payment")
            .collect();
        assert_eq!(live.len(), 3);
        let allowed: HashSet<Uuid> = order[..5].iter().map(|e| by_entry(e).id).collect();
        let holders: HashSet<Uuid> = live.iter().map(|order| order.buyer_id).collect();
        assert_eq!(holders.len(), 3);
        assert!(holders.is_subset(&allowed));

        // At the close the waiting entrants have lost.
        app.clock.set(time(&drop["closes_at"]));
        sweep(&app).await;
        assert_eq!(standing(&app, sixth, &drop).await["status"], "lost");
        assert_eq!(view(&app, &drop).await["status"], "closed");
        app.worker().run_due().await.unwrap();
        assert_eq!(inbox(&app, sixth).await, ["raffle_lost"], "told once the raffle is over");
        assert!(!inbox(&app, winners[0]).await.contains(&"raffle_lost".to_owned()));
    }
}

backend_test! {
    async fn raffles_refuse_what_does_not_belong_to_them(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let plain = crate::drops::create_drop(&app, &seller, 5, 1).await;
        let entry = enter(&app, &buyer, &plain, "k").await;
        entry.assert_status(StatusCode::CONFLICT);
        assert_eq!(entry.error_code(), "not_a_raffle");
        let draw = app.get(&format!("/api/v1/drops/{}/draw", id(&plain))).await;
        assert_eq!(draw.error_code(), "not_a_raffle");

        let product = app.product(&seller, 10_000, 0).await;
        let opens_at = app.clock.now() + Duration::minutes(1);
        let body = |extra: Value| {
            let mut body = json!({
                "product_id": product.id,
                "quantity": 5,
                "price": 9_000,
                "opens_at": opens_at,
                "closes_at": opens_at + Duration::minutes(30),
            });
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            body
        };
        for (extra, field) in [
            (json!({"allocation": "raffle"}), "raffle.entries_close_at"),
            (json!({"raffle": {}}), "raffle"),
            (
                json!({"allocation": "raffle", "raffle": {"entries_close_at": opens_at + Duration::minutes(5), "claim_window_minutes": 0}}),
                "raffle.claim_window_minutes",
            ),
            (
                json!({"allocation": "raffle", "raffle": {"entries_close_at": opens_at + Duration::minutes(5)}, "waiting_room": {"admit_per_minute": 10}}),
                "waiting_room",
            ),
        ] {
            let response = app
                .send(Method::POST, "/api/v1/drops", Some(body(extra)), &[("authorization", &seller.bearer())])
                .await;
            response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                response.json()["error"]["details"]["fields"].get(field).is_some(),
                "{field}: {}",
                response.text()
            );
        }
        let drop = raffle_drop(&app, &seller, 2, 1).await;
        let response = app
            .send(
                Method::GET,
                &format!("/api/v1/drops/{}/entries/me", id(&drop)),
                None,
                &[("authorization", &buyer.bearer())],
            )
            .await;
        response.assert_status(StatusCode::NOT_FOUND);
        let seller_entry = enter(&app, &seller, &drop, "k").await;
        seller_entry.assert_status(StatusCode::FORBIDDEN);
    }
}

backend_test! {
    async fn rushline_raffle_verify_recomputes_a_published_draw_from_outside(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 2_500).await;
        let drop = raffle_drop(&app, &seller, 100, 1).await;
        crate::drops::open(&app, &drop);
        let client = app.client();
        let entered = futures::future::join_all(buyers.iter().enumerate().map(|(i, buyer)| {
            let (client, path) = (client.clone(), format!("/api/v1/drops/{}/entries", id(&drop)));
            async move {
                let key = format!("e-{i}");
                client
                    .send(Method::POST, &path, None, &[("authorization", &buyer.bearer()), ("idempotency-key", &key)])
                    .await
            }
        }))
        .await;
        for response in &entered {
            response.assert_status(StatusCode::CREATED);
        }
        app.clock.set(time(&drop["raffle"]["entries_close_at"]));
        sweep(&app).await;

        let (url, stop) = app.spawn().await;
        let drop_id: Uuid = id(&drop).parse().unwrap();
        let draw = rushline::raffle_verify::download(&url, Subject::Drop(drop_id), 1_000)
            .await
            .unwrap();
        assert_eq!(draw.entrants.len(), 2_500);
        let verified = rushline::raffle_verify::check(&draw).unwrap();
        assert_eq!(verified.entrants, 2_500);
        // The first hundred in that order are the ones offered a place.
        let won: HashSet<Uuid> = draw.order[..100].iter().copied().collect();
        for (i, buyer) in buyers.iter().enumerate().step_by(97) {
            let standing = standing(&app, buyer, &drop).await;
            let entry: Uuid = standing["entry_id"].as_str().unwrap().parse().unwrap();
            let expected = if won.contains(&entry) { "won" } else { "waitlisted" };
            assert_eq!(standing["status"], expected, "{i}");
        }
        stop.cancel();
    }
}

backend_test! {
    async fn a_raffle_trial_selects_its_testers_by_the_draw_and_passes_a_given_back_slot_on(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 12).await;
        let product = app.product(&seller, 59_000, 0).await;
        let opens_at = app.clock.now() + Duration::minutes(1);
        let created = app
            .send(
                Method::POST,
                "/api/v1/trials",
                Some(json!({
                    "product_id": product.id,
                    "title": "Draw for the Aurora",
                    "slots": 4,
                    "opens_at": opens_at,
                    "closes_at": opens_at + Duration::days(1),
                    "review_due_days": 7,
                    "allocation": "raffle",
                })),
                &[("authorization", &seller.bearer())],
            )
            .await;
        created.assert_status(StatusCode::CREATED);
        let trial = created.json();
        assert_eq!(trial["allocation"], "raffle");
        assert_eq!(trial["raffle"]["entries_close_at"], trial["closes_at"]);
        assert!(trial["raffle"].get("claim_window_minutes").is_none());
        let path = |suffix: &str| format!("/api/v1/trials/{}/{suffix}", id(&trial));

        app.clock.set(opens_at);
        let apply = app
            .send(Method::POST, &path("apply"), None, &[("authorization", &buyers[0].bearer()), ("idempotency-key", "a")])
            .await;
        apply.assert_status(StatusCode::CONFLICT);
        assert_eq!(apply.error_code(), "raffle_only");
        let mut entries = Vec::new();
        for (i, buyer) in buyers.iter().enumerate() {
            let entered = app
                .send(
                    Method::POST,
                    &path("entries"),
                    Some(json!({"motivation": format!("tester {i}")})),
                    &[("authorization", &buyer.bearer()), ("idempotency-key", "t")],
                )
                .await;
            entered.assert_status(StatusCode::CREATED);
            entries.push(entered.json()["entry_id"].as_str().unwrap().to_owned());
        }
        // Paused, the trial takes no entries; a retry of one still gets its answer.
        act_on(&app, &seller, &path("pause")).await.assert_status(StatusCode::OK);
        let latecomer = app.user(Role::Buyer).await;
        let paused = app
            .send(Method::POST, &path("entries"), None, &[("authorization", &latecomer.bearer()), ("idempotency-key", "t")])
            .await;
        assert_eq!(paused.error_code(), "paused");
        act_on(&app, &seller, &path("resume")).await.assert_status(StatusCode::OK);

        // The draw at the close selects four, in draw order, as first-come selections.
        let closes_at = time(&trial["closes_at"]);
        app.clock.set(closes_at);
        sweep(&app).await;
        sweep(&app).await;
        let (url, stop) = app.spawn().await;
        let draw = rushline::raffle_verify::download(&url, Subject::Trial(id(&trial).parse().unwrap()), 5)
            .await
            .unwrap();
        rushline::raffle_verify::check(&draw).unwrap();
        stop.cancel();
        let by_entry = |entry: &Uuid| {
            &buyers[entries.iter().position(|id| id == &entry.to_string()).unwrap()]
        };
        let selected: Vec<&TestUser> = draw.order[..4].iter().map(by_entry).collect();
        for (i, tester) in selected.iter().enumerate() {
            let mine = crate::trials::my_trials(&app, tester).await;
            assert_eq!(mine.len(), 1, "{i}");
            assert_eq!(mine[0]["status"], "selected");
            assert_eq!(mine[0]["application_id"], draw.order[i].to_string(), "the entry is the application");
            let standing = trial_standing(&app, tester, &trial).await;
            assert_eq!(standing["status"], "won");
        }
        let fifth = by_entry(&draw.order[4]);
        assert!(crate::trials::my_trials(&app, fifth).await.is_empty());
        assert_eq!(trial_standing(&app, fifth, &trial).await["status"], "waitlisted");
        let view = app.get(&format!("/api/v1/trials/{}", id(&trial))).await.json();
        assert_eq!(view["remaining"], 0);
        assert_eq!(view["raffle"]["entrants"], 12);

        // The second selected gives the slot back: the fifth in draw order gets it.
        let cancel = format!("/api/v1/me/trials/{}/cancel", draw.order[1]);
        act_on(&app, selected[1], &cancel).await.assert_status(StatusCode::OK);
        sweep(&app).await;
        assert_eq!(trial_standing(&app, selected[1], &trial).await["status"], "expired");
        assert_eq!(trial_standing(&app, fifth, &trial).await["status"], "won");
        assert_eq!(crate::trials::my_trials(&app, fifth).await[0]["status"], "selected");
        let sixth = by_entry(&draw.order[5]);
        assert_eq!(trial_standing(&app, sixth, &trial).await["status"], "waitlisted");

        // After the first review deadline nothing rolls any more, and the rest have lost.
        app.clock.set(closes_at + Duration::days(7));
        sweep(&app).await;
        assert_eq!(trial_standing(&app, sixth, &trial).await["status"], "lost");
        app.worker().run_due().await.unwrap();
        assert_eq!(inbox(&app, sixth).await, ["trial_not_selected"]);
        assert!(inbox(&app, fifth).await.contains(&"trial_selected".to_owned()));
        let testers = app
            .state()
            .store
            .list_applications(&rushline_store::ApplicationFilter {
                trial_id: Some(id(&trial).parse().unwrap()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let count = |status: &str| testers.iter().filter(|a| a.status.as_str() == status).count();
        assert_eq!(testers.len(), 12, "every entrant has an application once the raffle is exhausted");
        // The four testers' reviews are overdue by now: they hold their slots all the same.
        assert_eq!((count("review_overdue"), count("cancelled"), count("not_selected")), (4, 1, 7), "never more testers than slots");

        // The rest are not selected: in their own list, and in the seller's, with no slot or review.
        let mine = crate::trials::my_trials(&app, sixth).await;
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0]["status"].as_str(), &mine[0]["review_due_at"]), (Some("not_selected"), &Value::Null));
        assert_eq!(mine[0]["application_id"], draw.order[5].to_string(), "the entry is the application");
        let listed = app
            .send(
                Method::GET,
                &format!("/api/v1/trials/{}/applications?status=not_selected", id(&trial)),
                None,
                &[("authorization", &seller.bearer())],
            )
            .await;
        listed.assert_status(StatusCode::OK);
        let listed = listed.json();
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 7);
        assert!(items.iter().all(|a| a["seq"].is_null() && a["review_due_at"].is_null()), "{listed}");
        let view = app.get(&format!("/api/v1/trials/{}", id(&trial))).await.json();
        assert_eq!(view["applicants"], 12);
        sweep(&app).await;
        assert_eq!(crate::trials::my_trials(&app, sixth).await.len(), 1, "exhausted once");
    }
}

async fn act_on(app: &TestApp, user: &TestUser, path: &str) -> TestResponse {
    app.send(
        Method::POST,
        path,
        None,
        &[("authorization", &user.bearer())],
    )
    .await
}

async fn trial_standing(app: &TestApp, buyer: &TestUser, trial: &Value) -> Value {
    let response = app
        .send(
            Method::GET,
            &format!("/api/v1/trials/{}/entries/me", id(trial)),
            None,
            &[("authorization", &buyer.bearer())],
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()
}
