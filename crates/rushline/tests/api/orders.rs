//! Orders through time: payment, shipping, delivery, completion, cancel, return, hold expiry;
//! the payment providers behind timeouts, retries and a circuit breaker.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use rushline_domain::{Role, Won};
use rushline_testkit::{FakeToss, TOSS_SECRET, TestApp, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};

use crate::drops::{create_drop, open, purchase};

/// A buyer's fresh order of `qty` units of an open drop of 10 (limit 5).
pub(crate) async fn ordered(app: &TestApp, qty: i64) -> (TestUser, Value, Value) {
    let seller = app.user(Role::Seller).await;
    let buyer = app.user(Role::Buyer).await;
    let drop = create_drop(app, &seller, 10, 5).await;
    open(app, &drop);
    let order = purchase(&app.client(), &buyer, &drop, qty, "order").await;
    order.assert_status(StatusCode::CREATED);
    (buyer, drop, order.json())
}

fn order_path(order: &Value, action: &str) -> String {
    format!(
        "/api/v1/orders/{}{action}",
        order["order_id"].as_str().unwrap()
    )
}

pub(crate) async fn pay_card(
    app: &TestApp,
    buyer: &TestUser,
    order: &Value,
    card: &str,
    key: &str,
) -> TestResponse {
    app.send(
        Method::POST,
        &order_path(order, "/pay"),
        Some(json!({"method": "card", "card_number": card})),
        &[("authorization", &buyer.bearer()), ("idempotency-key", key)],
    )
    .await
}

async fn act(
    app: &TestApp,
    user: &TestUser,
    order: &Value,
    action: &str,
    body: Option<Value>,
) -> TestResponse {
    app.send(
        Method::POST,
        &order_path(order, action),
        body,
        &[("authorization", &user.bearer())],
    )
    .await
}

async fn show(app: &TestApp, user: &TestUser, order: &Value) -> Value {
    let response = app
        .send(
            Method::GET,
            &order_path(order, ""),
            None,
            &[("authorization", &user.bearer())],
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()
}

async fn remaining(app: &TestApp, drop: &Value) -> u64 {
    app.get(&format!("/api/v1/drops/{}", drop["id"].as_str().unwrap()))
        .await
        .json()["remaining"]
        .as_u64()
        .unwrap()
}

fn history(order: &Value) -> Vec<(String, String)> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap().to_owned(),
                e["cause"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

backend_test! {
    async fn a_paid_order_ships_arrives_and_completes_on_time(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (buyer, _, order) = ordered(&app, 2).await;
        let paid = pay_card(&app, &buyer, &order, "4111111111111111", "pay-1").await;
        paid.assert_status(StatusCode::OK);
        assert_eq!(paid.json()["order"]["status"], "paid");
        assert_eq!(paid.json()["payment"]["status"], "approved");
        assert_eq!(paid.json()["payment"]["amount"], 198_000);

        app.advance(Duration::hours(23)).await;
        assert_eq!(show(&app, &buyer, &order).await["status"], "paid");
        app.advance(Duration::hours(1)).await;
        assert_eq!(show(&app, &buyer, &order).await["status"], "shipping");
        app.advance(Duration::days(1)).await;
        assert_eq!(show(&app, &buyer, &order).await["status"], "delivered");
        app.advance(Duration::days(1)).await;
        let done = show(&app, &buyer, &order).await;
        assert_eq!(done["status"], "completed");
        let causes: Vec<_> = history(&done).into_iter().map(|(status, cause)| format!("{status}:{cause}")).collect();
        assert_eq!(
            causes,
            ["pending_payment:purchase", "paid:payment", "shipping:shipped", "delivered:delivered", "completed:return_window_closed"]
        );
        assert_eq!(done["payments"][0]["status"], "approved");
        let late = act(&app, &buyer, &order, "/return", Some(json!({"reason": "changed_mind"}))).await;
        assert_eq!(late.error_code(), "invalid_transition");
    }
}

backend_test! {
    async fn cancelling_before_shipping_puts_stock_back_and_refunds(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (buyer, drop, order) = ordered(&app, 3).await;
        assert_eq!(remaining(&app, &drop).await, 7);
        let cancelled = act(&app, &buyer, &order, "/cancel", None).await;
        cancelled.assert_status(StatusCode::OK);
        assert_eq!(cancelled.json()["status"], "cancelled");
        assert_eq!(remaining(&app, &drop).await, 10, "stock back in the gate");
        assert_eq!(act(&app, &buyer, &order, "/cancel", None).await.error_code(), "invalid_transition");

        let (buyer, drop, order) = ordered(&app, 1).await;
        pay_card(&app, &buyer, &order, "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        act(&app, &buyer, &order, "/cancel", None).await.assert_status(StatusCode::OK);
        assert_eq!(remaining(&app, &drop).await, 10);
        app.worker().run_due().await.unwrap();
        let refunded = show(&app, &buyer, &order).await;
        assert_eq!(refunded["payments"][0]["status"], "refunded", "{refunded}");

        let (buyer, _, order) = ordered(&app, 1).await;
        pay_card(&app, &buyer, &order, "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        app.advance(Duration::days(1)).await;
        let shipped = act(&app, &buyer, &order, "/cancel", None).await;
        shipped.assert_status(StatusCode::CONFLICT);
        assert_eq!(shipped.error_code(), "invalid_transition");

        let stranger = app.user(Role::Buyer).await;
        act(&app, &stranger, &order, "/cancel", None).await.assert_status(StatusCode::NOT_FOUND);
        let seller = app.user(Role::Seller).await;
        act(&app, &seller, &order, "/cancel", None).await.assert_status(StatusCode::FORBIDDEN);
    }
}

backend_test! {
    async fn returns_inside_the_window_come_back_and_are_refunded(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (buyer, drop, order) = ordered(&app, 2).await;
        pay_card(&app, &buyer, &order, "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        app.advance(Duration::days(2)).await;
        assert_eq!(show(&app, &buyer, &order).await["status"], "delivered");
        let early = act(&app, &buyer, &order, "/return", Some(json!({"reason": "teleported"}))).await;
        early.assert_status(StatusCode::UNPROCESSABLE_ENTITY);

        app.clock.advance(Duration::hours(23));
        let requested = act(&app, &buyer, &order, "/return", Some(json!({"reason": "defective", "note": "left shoe squeaks"}))).await;
        requested.assert_status(StatusCode::OK);
        let body = requested.json();
        assert_eq!((body["status"].as_str(), body["return_reason"].as_str()), (Some("return_requested"), Some("defective")));
        assert_eq!(body["return_note"], "left shoe squeaks");
        assert_eq!(remaining(&app, &drop).await, 8, "a requested return still holds its stock");

        app.advance(Duration::days(1)).await;
        let returned = show(&app, &buyer, &order).await;
        assert_eq!(returned["status"], "returned");
        assert_eq!(returned["payments"][0]["status"], "refunded");
        assert_eq!(remaining(&app, &drop).await, 10);
        assert_eq!(history(&returned)[4], ("return_requested".to_owned(), "buyer: defective".to_owned()));

        // After the window the request is refused, even before the job completes the order.
        let (buyer, _, order) = ordered(&app, 1).await;
        pay_card(&app, &buyer, &order, "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        app.advance(Duration::days(2)).await;
        app.clock.advance(Duration::days(1));
        let closed = act(&app, &buyer, &order, "/return", Some(json!({"reason": "changed_mind"}))).await;
        closed.assert_status(StatusCode::CONFLICT);
        assert_eq!(closed.error_code(), "return_window_closed");
    }
}

async fn checkout(app: &TestApp, buyer: &TestUser) -> TestResponse {
    app.send(
        Method::POST,
        "/api/v1/cart/checkout",
        Some(json!({})),
        &[
            ("authorization", &buyer.bearer()),
            ("idempotency-key", "cart"),
        ],
    )
    .await
}

backend_test! {
    async fn a_buyer_holds_at_most_three_unpaid_orders(backend: Backend) {
        let app = TestApp::new(backend).await;
        let other_node = app.another_node().build().await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let drop = create_drop(&app, &seller, 100, 50).await;
        open(&app, &drop);

        // Twenty purchases at once over two nodes: the cap holds whichever node and batch each
        // lands in, and a refused one holds no stock.
        let nodes = [app.client(), other_node.client()];
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let (client, buyer, drop) = (nodes[i % 2].clone(), buyer.clone(), drop.clone());
                tokio::spawn(async move { purchase(&client, &buyer, &drop, 1, &format!("k{i}")).await })
            })
            .collect();
        let mut bought = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let response = task.await.unwrap();
            match response.status {
                StatusCode::CREATED => bought.push((i, response.json())),
                _ => {
                    response.assert_status(StatusCode::CONFLICT);
                    assert_eq!(response.error_code(), "too_many_pending_orders", "{}", response.text());
                    assert_eq!(response.json()["error"]["details"]["max_pending"], 3);
                }
            }
        }
        assert_eq!(bought.len(), 3, "exactly the cap");
        let pool = format!("drop:{}", drop["id"].as_str().unwrap());
        let (pool, _) = app.state().store.pool_snapshot(&pool).await.unwrap();
        assert_eq!(pool.held, 3, "refused purchases hold nothing");

        // A retry of one that went through is answered with its order, at the cap or not.
        let (i, first) = &bought[0];
        let replay = purchase(&app.client(), &buyer, &drop, 1, &format!("k{i}")).await;
        replay.assert_status(StatusCode::CREATED);
        assert_eq!(replay.json()["order_id"], first["order_id"]);

        // The cart is refused the same way, before it claims anything.
        let product = app.product(&seller, 1_000, 5).await;
        app.send(
            Method::POST,
            "/api/v1/cart/items",
            Some(json!({"product_id": product.id, "quantity": 1})),
            &[("authorization", &buyer.bearer())],
        )
        .await
        .assert_status(StatusCode::CREATED);
        assert_eq!(checkout(&app, &buyer).await.error_code(), "too_many_pending_orders");

        // Paying one, and cancelling another, make room for as many new orders.
        pay_card(&app, &buyer, first, "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        act(&app, &buyer, &bought[1].1, "/cancel", None).await.assert_status(StatusCode::OK);
        checkout(&app, &buyer).await.assert_status(StatusCode::CREATED);
        purchase(&app.client(), &buyer, &drop, 1, "after").await.assert_status(StatusCode::CREATED);
        let full = purchase(&app.client(), &buyer, &drop, 1, "one-more").await;
        assert_eq!(full.error_code(), "too_many_pending_orders");
    }
}

backend_test! {
    async fn an_expired_hold_puts_the_stock_back_for_the_next_buyer(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let (first, second) = (app.user(Role::Buyer).await, app.user(Role::Buyer).await);
        let drop = create_drop(&app, &seller, 1, 1).await;
        open(&app, &drop);
        let order = purchase(&app.client(), &first, &drop, 1, "mine").await.json();
        assert_eq!(purchase(&app.client(), &second, &drop, 1, "theirs").await.error_code(), "sold_out");

        // The lifecycle job runs once a second: an order is expired within a second of its hold.
        app.advance(Duration::minutes(10) - Duration::seconds(1)).await;
        assert_eq!(show(&app, &first, &order).await["status"], "pending_payment");
        app.advance(Duration::seconds(1)).await;
        let expired = show(&app, &first, &order).await;
        assert_eq!(expired["status"], "expired");
        assert_eq!(history(&expired)[1], ("expired".to_owned(), "hold_expired".to_owned()));
        assert_eq!(remaining(&app, &drop).await, 1);
        purchase(&app.client(), &second, &drop, 1, "theirs-again").await.assert_status(StatusCode::CREATED);
        let late = pay_card(&app, &first, &order, "4111111111111111", "late").await;
        assert_eq!(late.error_code(), "hold_expired");
    }
}

backend_test! {
    async fn declined_cards_charge_nothing_and_the_buyer_may_try_again(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        let declined = pay_card(&app, &buyer, &order, "4000000000000002", "try-1").await;
        declined.assert_status(StatusCode::PAYMENT_REQUIRED);
        assert_eq!(declined.error_code(), "card_declined");
        let again = pay_card(&app, &buyer, &order, "4000000000000002", "try-1").await;
        assert_eq!((again.status, again.error_code()), (StatusCode::PAYMENT_REQUIRED, "card_declined".to_owned()), "a replay answers the same");
        let poor = pay_card(&app, &buyer, &order, "4000000000000003", "try-2").await;
        assert_eq!(poor.error_code(), "insufficient_funds");

        let paid = pay_card(&app, &buyer, &order, "4111111111111111", "try-3").await;
        paid.assert_status(StatusCode::OK);
        let replay = pay_card(&app, &buyer, &order, "4111111111111111", "try-3").await;
        assert_eq!(replay.json(), paid.json(), "a replay returns the first answer");
        let twice = pay_card(&app, &buyer, &order, "4111111111111111", "try-4").await;
        twice.assert_status(StatusCode::CONFLICT);
        assert_eq!(twice.error_code(), "already_paid");
        let mut statuses: Vec<_> = show(&app, &buyer, &order).await["payments"].as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap().to_owned()).collect();
        statuses.sort();
        assert_eq!(statuses, ["approved", "declined", "declined"]);

        let no_key = act(&app, &buyer, &order, "/pay", Some(json!({"method": "card", "card_number": "1"}))).await;
        assert_eq!(no_key.error_code(), "idempotency_key_required");
        let stranger = app.user(Role::Buyer).await;
        pay_card(&app, &stranger, &order, "4111111111111111", "x").await.assert_status(StatusCode::NOT_FOUND);
        let nonsense = app
            .send(Method::POST, &order_path(&order, "/pay"), Some(json!({"method": "cash"})), &[("authorization", &buyer.bearer()), ("idempotency-key", "y")])
            .await;
        nonsense.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

backend_test! {
    async fn timeouts_open_the_breaker_which_answers_at_once_then_recovers(backend: Backend) {
        let app = TestApp::builder(backend)
            .config(|c| {
                c.payments.timeout = std::time::Duration::from_millis(50);
                c.payments.retries = 1;
                c.payments.backoff = std::time::Duration::from_millis(1);
                c.payments.breaker_window = 4;
                c.orders.hold_for = std::time::Duration::from_secs(86_400);
            })
            .build()
            .await;
        // Orders first: making one moves the clock, and the breaker's pause runs on it.
        let mut orders = Vec::new();
        for _ in 0..4 {
            orders.push(ordered(&app, 1).await);
        }
        // A payment that times out, tried twice: two failed calls. Its charge is cancelled to be
        // sure (a successful call).
        let (buyer, _, order) = &orders[0];
        let timed_out = pay_card(&app, buyer, order, "4000000000000004", "slow-0").await;
        timed_out.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(timed_out.error_code(), "payment_unavailable");
        assert!(timed_out.headers.contains_key("retry-after"));
        app.worker().run_due().await.unwrap();
        let order_now = show(&app, buyer, order).await;
        assert_eq!(order_now["status"], "pending_payment");
        assert_eq!(order_now["payments"][0]["status"], "refunded");
        // Another timeout fills the window of four at half failures: the breaker opens before
        // the retry, whose outcome is then unknown, so this charge is cancelled too, later.
        let (slow, _, slow_order) = &orders[1];
        let timed_out = pay_card(&app, slow, slow_order, "4000000000000004", "slow-1").await;
        assert_eq!(timed_out.error_code(), "payment_unavailable");
        assert_eq!(show(&app, slow, slow_order).await["payments"][0]["status"], "refunding");

        // Open: even a good card is refused at once, without calling the provider.
        let (buyer, _, order) = &orders[2];
        let refused = pay_card(&app, buyer, order, "4111111111111111", "while-open").await;
        assert_eq!(refused.error_code(), "payment_unavailable");
        assert!(show(&app, buyer, order).await.get("payments").is_none(), "nothing was recorded or charged");
        app.worker().run_due().await.unwrap();
        assert_eq!(show(&app, slow, slow_order).await["payments"][0]["status"], "refunding", "the refund waits too");

        // After the pause one trial call goes through (the waiting refund); it closes the breaker.
        app.advance(Duration::seconds(30)).await;
        assert_eq!(show(&app, slow, slow_order).await["payments"][0]["status"], "refunded");
        let recovered = pay_card(&app, buyer, order, "4111111111111111", "half-open").await;
        recovered.assert_status(StatusCode::OK);
        let (buyer, _, order) = &orders[3];
        pay_card(&app, buyer, order, "4111111111111111", "closed").await.assert_status(StatusCode::OK);
    }
}

async fn toss_app(backend: rushline_testkit::Backend) -> (TestApp, FakeToss) {
    let clock = rushline_domain::ManualClock::starting_now();
    let toss = FakeToss::start(clock.clone()).await;
    let url = toss.url.clone();
    let app = TestApp::builder(backend)
        .clock(clock)
        .config(move |c| {
            c.payments.provider = rushline::config::PaymentProvider::Toss;
            c.payments.toss.secret_key = Some(TOSS_SECRET.into());
            c.payments.toss.base_url = url;
            // Orders are made ahead of the payments: their holds must outlast that.
            c.orders.hold_for = std::time::Duration::from_secs(86_400);
            c.payments.retries = 1;
            c.payments.backoff = std::time::Duration::from_millis(1);
            // A confirm whose answer is lost costs a timeout.
            c.payments.timeout = std::time::Duration::from_secs(1);
        })
        .build()
        .await;
    (app, toss)
}

async fn pay_toss(
    app: &TestApp,
    buyer: &TestUser,
    order: &Value,
    payment_key: &str,
    amount: i64,
) -> TestResponse {
    app.send(
        Method::POST,
        &order_path(order, "/pay"),
        Some(json!({"provider": "toss", "payment_key": payment_key, "amount": amount})),
        &[
            ("authorization", &buyer.bearer()),
            ("idempotency-key", payment_key),
        ],
    )
    .await
}

backend_test! {
    async fn toss_payments_are_confirmed_declined_and_cancelled_through_its_api(backend: Backend) {
        let (app, toss) = toss_app(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        let total = order["total"].as_i64().unwrap();
        let wrong = pay_toss(&app, &buyer, &order, "ok-wrong-amount", total + 1).await;
        assert_eq!(wrong.error_code(), "amount_mismatch");
        let declined = pay_toss(&app, &buyer, &order, "decline-1", total).await;
        declined.assert_status(StatusCode::PAYMENT_REQUIRED);
        assert_eq!(declined.error_code(), "payment_declined");
        assert_eq!(declined.json()["error"]["details"]["provider_code"], "REJECT_CARD_PAYMENT");

        let paid = pay_toss(&app, &buyer, &order, "ok-1", total).await;
        paid.assert_status(StatusCode::OK);
        assert_eq!(paid.json()["payment"]["provider"], "toss");
        let confirm = toss.calls().into_iter().find(|c| c.payment_key == "ok-1").unwrap();
        assert_eq!(confirm.body, json!({"paymentKey": "ok-1", "orderId": order["order_id"], "amount": total}));
        assert!(confirm.idempotency_key.is_some(), "confirm is retried safely");

        act(&app, &buyer, &order, "/cancel", None).await.assert_status(StatusCode::OK);
        app.worker().run_due().await.unwrap();
        let cancels: Vec<_> = toss.calls().into_iter().filter(|c| c.endpoint == "cancel").collect();
        assert_eq!(cancels.len(), 1);
        assert_eq!((cancels[0].payment_key.as_str(), &cancels[0].body["cancelAmount"]), ("ok-1", &json!(total)));
        let mut statuses: Vec<_> = show(&app, &buyer, &order).await["payments"].as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap().to_owned()).collect();
        statuses.sort();
        assert_eq!(statuses, ["declined", "refunded"]);
    }
}

backend_test! {
    async fn a_toss_payment_key_that_could_reshape_its_calls_is_refused(backend: Backend) {
        let (app, toss) = toss_app(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        let total = order["total"].as_i64().unwrap();
        let long = "a".repeat(201);
        for key in ["", "../../v1/payments/x", "ok-1/cancel", "ok 1", "ok-1\r\nx: y", "키", long.as_str()] {
            let refused = app
                .send(
                    Method::POST,
                    &order_path(&order, "/pay"),
                    Some(json!({"provider": "toss", "payment_key": key, "amount": total})),
                    &[("authorization", &buyer.bearer()), ("idempotency-key", "refused")],
                )
                .await;
            refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(refused.error_code(), "validation_failed", "{key:?}");
            assert!(refused.json()["error"]["details"]["fields"]["payment_key"].is_array(), "{key:?}");
        }
        assert!(toss.calls().is_empty(), "nothing reached Toss");
        pay_toss(&app, &buyer, &order, &"A_z-9".repeat(40), total).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn a_deployment_takes_only_its_own_provider(backend: Backend) {
        // With Toss, sandbox cards would be free orders.
        let (app, toss) = toss_app(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        let card = pay_card(&app, &buyer, &order, "4111111111111111", "card").await;
        card.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(card.error_code(), "payment_method_unavailable");
        assert!(show(&app, &buyer, &order).await.get("payments").is_none(), "nothing was recorded or charged");
        assert!(toss.calls().is_empty());

        let app = TestApp::new(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        let toss = pay_toss(&app, &buyer, &order, "ok-1", order["total"].as_i64().unwrap()).await;
        toss.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(toss.error_code(), "provider_not_configured");
    }
}

backend_test! {
    async fn a_toss_429_is_neither_retried_nor_counted_by_the_breaker(backend: Backend) {
        let (app, toss) = toss_app(backend).await;
        // Counted and retried once each, ten of them would fill the window of 20 with failures.
        let mut orders = Vec::new();
        for _ in 0..11 {
            orders.push(ordered(&app, 1).await);
        }
        for (i, (buyer, _, order)) in orders[..10].iter().enumerate() {
            let key = format!("busy-{i}");
            let busy = pay_toss(&app, buyer, order, &key, order["total"].as_i64().unwrap()).await;
            busy.assert_status(StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(busy.error_code(), "payment_unavailable");
            assert!(busy.headers.contains_key("retry-after"));
            assert_eq!(toss.calls().iter().filter(|c| c.payment_key == key).count(), 1, "not retried");
            assert_eq!(show(&app, buyer, order).await["payments"][0]["status"], "failed", "nothing to refund");
        }
        let (buyer, _, order) = &orders[10];
        pay_toss(&app, buyer, order, "ok-1", order["total"].as_i64().unwrap()).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn a_refusal_after_a_lost_answer_is_refunded_not_declined(backend: Backend) {
        let (app, toss) = toss_app(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        let total = order["total"].as_i64().unwrap();
        // The first confirm charges but its answer is lost; the retry is refused as a second
        // charge. The buyer was charged once, and the charge goes back.
        let lost = pay_toss(&app, &buyer, &order, "lost-1", total).await;
        lost.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(lost.error_code(), "payment_unavailable");
        assert_eq!(toss.calls().iter().filter(|c| c.payment_key == "lost-1").count(), 2);
        assert_eq!(show(&app, &buyer, &order).await["payments"][0]["status"], "refunding");
        app.worker().run_due().await.unwrap();
        assert_eq!(show(&app, &buyer, &order).await["payments"][0]["status"], "refunded");
        assert!(toss.calls().iter().any(|c| c.endpoint == "cancel" && c.payment_key == "lost-1"));

        // A refund of a charge that never happened ends too: Toss knows no such payment.
        let down = pay_toss(&app, &buyer, &order, "down-1", total).await;
        assert_eq!(down.error_code(), "payment_unavailable");
        app.worker().run_due().await.unwrap();
        assert!(toss.calls().iter().any(|c| c.endpoint == "cancel" && c.payment_key == "down-1"));
        let statuses: Vec<_> = show(&app, &buyer, &order).await["payments"].as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap().to_owned()).collect();
        assert_eq!(statuses, ["refunded", "refunded"]);
        pay_toss(&app, &buyer, &order, "ok-1", total).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn a_charge_that_outlives_its_hold_is_refunded_through_the_outbox(backend: Backend) {
        let (app, toss) = toss_app(backend).await;
        let (buyer, drop, order) = ordered(&app, 1).await;
        // The provider answers only after the hold ran out (the fake moves the clock an hour).
        let late = pay_toss(&app, &buyer, &order, "late-1", order["total"].as_i64().unwrap()).await;
        late.assert_status(StatusCode::CONFLICT);
        assert_eq!(late.error_code(), "hold_expired");
        let payment = &show(&app, &buyer, &order).await["payments"][0];
        assert_eq!(payment["status"], "refunding");

        app.worker().run_due().await.unwrap();
        let after = show(&app, &buyer, &order).await;
        assert_eq!(after["payments"][0]["status"], "refunded");
        assert_eq!(after["status"], "expired");
        assert_eq!(toss.calls().iter().filter(|c| c.endpoint == "cancel" && c.payment_key == "late-1").count(), 1);
        assert_eq!(remaining(&app, &drop).await, 10);
    }
}

backend_test! {
    async fn provider_4xx_never_opens_the_breaker_but_5xx_does(backend: Backend) {
        let (app, _toss) = toss_app(backend).await;
        // Orders first: making one moves the clock, and the breaker's pause runs on it.
        let mut orders = Vec::new();
        for _ in 0..37 {
            orders.push(ordered(&app, 1).await);
        }
        let mut orders = orders.into_iter();
        for i in 0..25 {
            let (buyer, _, order) = orders.next().unwrap();
            let declined = pay_toss(&app, &buyer, &order, &format!("decline-{i}"), order["total"].as_i64().unwrap()).await;
            assert_eq!(declined.error_code(), "payment_declined");
        }
        for i in 0..11 {
            let (buyer, _, order) = orders.next().unwrap();
            let failed = pay_toss(&app, &buyer, &order, &format!("down-{i}"), order["total"].as_i64().unwrap()).await;
            assert_eq!(failed.error_code(), "payment_unavailable");
        }
        let (buyer, _, order) = orders.next().unwrap();
        let refused = pay_toss(&app, &buyer, &order, "ok-while-open", order["total"].as_i64().unwrap()).await;
        assert_eq!(refused.error_code(), "payment_unavailable", "open after 5xx answers");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgres_database_apply_each_transition_once() {
    if !rushline_testkit::Backend::Postgres.available() {
        return;
    }
    let a = TestApp::new(rushline_testkit::Backend::Postgres).await;
    let b = a.another_node().build().await;
    let seller = a.user(Role::Seller).await;
    let buyers = a.users(Role::Buyer, 60).await;
    let drop = create_drop(&a, &seller, 100, 1).await;
    open(&a, &drop);
    let mut orders = Vec::new();
    for (i, buyer) in buyers.iter().enumerate() {
        let order = purchase(&a.client(), buyer, &drop, 1, "x").await.json();
        if i % 2 == 0 {
            pay_card(&a, buyer, &order, "4111111111111111", "pay")
                .await
                .assert_status(StatusCode::OK);
        }
        orders.push((buyer.clone(), order));
    }
    let (worker_a, worker_b) = (a.worker(), b.worker());
    for _ in 0..3 {
        a.clock.advance(Duration::days(1));
        let (ran_a, ran_b) = tokio::join!(worker_a.run_due(), worker_b.run_due());
        ran_a.unwrap();
        ran_b.unwrap();
    }
    for (i, (buyer, order)) in orders.iter().enumerate() {
        let seen = show(&a, buyer, order).await;
        let statuses: Vec<_> = history(&seen)
            .into_iter()
            .map(|(status, _)| status)
            .collect();
        let expected: &[&str] = if i % 2 == 0 {
            &[
                "pending_payment",
                "paid",
                "shipping",
                "delivered",
                "completed",
            ]
        } else {
            &["pending_payment", "expired"]
        };
        assert_eq!(statuses, expected, "every transition exactly once");
    }
    assert_eq!(remaining(&a, &drop).await, 70);
}

backend_test! {
    async fn a_payment_left_pending_by_a_dead_request_is_refunded(backend: Backend) {
        use rushline_domain::{Clock, PaymentStatus};
        use rushline_store::Payment;

        let app = TestApp::new(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        let now = app.clock.now();
        // What a pay request leaves behind when its node dies between the charge and its outcome.
        let payment = Payment {
            id: uuid::Uuid::now_v7(),
            order_id: order["order_id"].as_str().unwrap().parse().unwrap(),
            provider: "sandbox".into(),
            amount: Won::new(order["total"].as_i64().unwrap()),
            status: PaymentStatus::Pending,
            provider_ref: "sandbox_lost".into(),
            failure_code: None,
            created_at: now,
            updated_at: now,
        };
        app.state().store.begin_payment(&payment).await.unwrap();
        let blocked = pay_card(&app, &buyer, &order, "4111111111111111", "meanwhile").await;
        assert_eq!(blocked.error_code(), "payment_in_progress");

        app.advance(Duration::minutes(4)).await;
        assert_eq!(app.state().store.payment(payment.id).await.unwrap().status, PaymentStatus::Pending, "it may still be in flight");
        app.advance(Duration::minutes(2)).await;
        assert_eq!(app.state().store.payment(payment.id).await.unwrap().status, PaymentStatus::Refunded);
        pay_card(&app, &buyer, &order, "4111111111111111", "again").await.assert_status(StatusCode::OK);
    }
}
