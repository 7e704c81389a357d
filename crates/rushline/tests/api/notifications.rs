//! Notifications end to end, on both backend pairs: each event from its real cause into the
//! inbox (and its stream), e-mail and Slack; settings and locales; delivery through the local
//! Slack server (`ok`, `invalid_payload`, `no_service`, 429, 500, a stall): three attempts,
//! a 4xx never retried, the breaker opening and recovering; exactly one delivery per message
//! across two senders, and at least once (with the same message id) across a sender that dies
//! between sending and recording.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use rushline_app::notifications::{self, MAX_ATTEMPTS};
use rushline_domain::notification::{Channel, Event};
use rushline_domain::{Clock, Role};
use rushline_store::{Attempt, Audience, DeliveryStatus, FanOut};
use rushline_testkit::{FakeSlack, TestApp, TestUser, backend_test};
use serde_json::{Value, json};

use crate::drops::{create_drop, open, purchase};
use crate::orders::{ordered, pay_card};

async fn get(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let response = app
        .send(
            Method::GET,
            path,
            None,
            &[("authorization", &user.bearer())],
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()
}

async fn send(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> rushline_testkit::TestResponse {
    app.send(method, path, body, &[("authorization", &user.bearer())])
        .await
}

/// The events in `user`'s inbox, newest first.
pub(crate) async fn inbox(app: &TestApp, user: &TestUser) -> Vec<String> {
    get(app, user, "/api/v1/me/notifications").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["event"].as_str().unwrap().to_owned())
        .collect()
}

/// An app whose sellers may set webhooks on the local Slack server, whose breaker judges
/// `window` posts, and whose Slack posts time out after a second.
async fn with_slack(backend: rushline_testkit::Backend, window: usize) -> (TestApp, FakeSlack) {
    let slack = FakeSlack::start().await;
    let prefix = format!("{}/hooks/", slack.url);
    let app = TestApp::builder(backend)
        .config(move |c| {
            c.notifications.slack_webhook_prefixes = vec![prefix];
            c.notifications.slack_timeout = std::time::Duration::from_secs(1);
            c.notifications.slack_breaker_window = window;
            c.notifications.slack_breaker_open_for = std::time::Duration::from_secs(60);
        })
        .build()
        .await;
    (app, slack)
}

/// A seller whose notifications also go to the fake Slack's hook `name`.
async fn seller_on_slack(app: &TestApp, slack: &FakeSlack, name: &str) -> TestUser {
    let seller = app.user(Role::Seller).await;
    send(
        app,
        &seller,
        Method::PUT,
        "/api/v1/seller/slack",
        Some(json!({"webhook_url": slack.hook(name)})),
    )
    .await
    .assert_status(StatusCode::NO_CONTENT);
    seller
}

/// Closes a drop of each of `sellers` at one moment, and runs the jobs that tell them.
async fn close_drops(app: &TestApp, sellers: &[&TestUser]) {
    let mut last = app.clock.now();
    for seller in sellers {
        let drop = create_drop(app, seller, 3, 1).await;
        last = drop["closes_at"].as_str().unwrap().parse().unwrap();
    }
    // Periodic jobs run at whole seconds.
    app.clock.set(last + Duration::seconds(1));
    app.worker().run_due().await.unwrap();
}

backend_test! {
    async fn a_paid_order_lands_in_the_inbox_and_the_mailbox_once(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        pay_card(&app, &buyer, &order, "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        let mails = app.deliver_mail_to(&buyer.email).await;
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].contains("Subject: Order paid"), "{}", mails[0]);
        assert!(mails[0].contains("Message-ID: <"), "{}", mails[0]);
        // A second run finds nothing more to send.
        assert!(app.deliver_mail_to(&buyer.email).await.is_empty());

        let page = get(&app, &buyer, "/api/v1/me/notifications").await;
        let item = &page["items"][0];
        assert_eq!(item["event"], "order_paid");
        assert_eq!(item["group"], "orders");
        assert_eq!(item["subject"], order["order_id"]);
        assert!(item["body"].as_str().unwrap().contains("99000 KRW"), "{item}");
        assert!(item.get("read_at").is_none());
        assert_eq!(get(&app, &buyer, "/api/v1/me/notifications/unread-count").await["unread"], 1);

        // Nobody else sees or reads it.
        let other = app.user(Role::Buyer).await;
        let path = format!("/api/v1/me/notifications/{}/read", item["id"].as_str().unwrap());
        send(&app, &other, Method::POST, &path, None).await.assert_status(StatusCode::NOT_FOUND);
        assert!(inbox(&app, &other).await.is_empty());

        send(&app, &buyer, Method::POST, &path, None).await.assert_status(StatusCode::NO_CONTENT);
        send(&app, &buyer, Method::POST, &path, None).await.assert_status(StatusCode::NO_CONTENT);
        assert_eq!(get(&app, &buyer, "/api/v1/me/notifications/unread-count").await["unread"], 0);
        let unread = get(&app, &buyer, "/api/v1/me/notifications?unread=true").await;
        assert!(unread["items"].as_array().unwrap().is_empty());
    }
}

backend_test! {
    async fn holds_warn_before_they_run_out_and_tell_when_they_did(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        // Holds last ten minutes; the warning comes two minutes before.
        app.advance(Duration::minutes(7)).await;
        app.deliver_notifications().await;
        assert!(inbox(&app, &buyer).await.is_empty(), "too early");
        app.advance(Duration::seconds(70)).await;
        app.deliver_notifications().await;
        assert_eq!(inbox(&app, &buyer).await, ["hold_expiring"]);
        app.advance(Duration::minutes(2)).await;
        app.deliver_notifications().await;
        app.deliver_notifications().await;
        assert_eq!(inbox(&app, &buyer).await, ["hold_expired", "hold_expiring"]);
        let page = get(&app, &buyer, "/api/v1/me/notifications").await;
        assert_eq!(page["items"][0]["subject"], order["order_id"]);
        let mails = app.deliver_mail_to(&buyer.email).await;
        assert_eq!(mails.len(), 2, "{mails:?}");
        assert!(mails.iter().any(|m| m.contains("Subject: Your hold is about to expire")));
        assert!(mails.iter().any(|m| m.contains("Subject: Your hold expired")));
    }
}

backend_test! {
    async fn settings_mute_a_group_on_a_channel_and_the_locale_changes_the_words(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        let settings = get(&app, &buyer, "/api/v1/me/notification-settings").await;
        assert_eq!(settings["locale"], "en");
        assert_eq!(settings["channels"]["orders"], json!({"email": true, "slack": true}));
        let changed = send(&app, &buyer, Method::PATCH, "/api/v1/me/notification-settings",
            Some(json!({"locale": "ko", "channels": {"orders": {"email": false}}}))).await;
        changed.assert_status(StatusCode::OK);
        assert_eq!(changed.json()["channels"]["orders"], json!({"email": false, "slack": true}));
        assert_eq!(changed.json()["channels"]["holds"], json!({"email": true, "slack": true}));
        for bad in [json!({"locale": "fr"}), json!({"channels": {"orders": {"sms": true}}}), json!({"channels": {"nope": {}}})] {
            let refused = send(&app, &buyer, Method::PATCH, "/api/v1/me/notification-settings", Some(bad.clone())).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }

        pay_card(&app, &buyer, &order, "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        assert!(app.deliver_mail_to(&buyer.email).await.is_empty(), "orders are off by e-mail");
        let page = get(&app, &buyer, "/api/v1/me/notifications").await;
        assert_eq!(page["items"][0]["title"], "결제 완료", "the inbox always gets it, in Korean");
    }
}

backend_test! {
    async fn a_stream_pushes_new_notifications_and_is_capped_per_account(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        let auth = buyer.bearer();
        let mut stream = app.client().stream("/api/v1/me/notifications/events", &[("authorization", &auth)]).await;
        assert_eq!(stream.status, StatusCode::OK);
        let mut others = Vec::new();
        for _ in 1..4 {
            others.push(app.client().stream("/api/v1/me/notifications/events", &[("authorization", &auth)]).await);
        }
        let fifth = app.client().stream("/api/v1/me/notifications/events", &[("authorization", &auth)]).await;
        assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS);
        pay_card(&app, &buyer, &order, "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        app.worker().run_due().await.unwrap();
        let (event, data) = stream.next_event().await.expect("an event");
        assert_eq!(event, "notification");
        assert_eq!(data["event"], "order_paid");
    }
}

backend_test! {
    async fn sellers_hear_of_closed_and_sold_out_drops_on_slack_too(backend: Backend) {
        let (app, slack) = with_slack(backend, 20).await;
        let seller = app.user(Role::Seller).await;
        for bad in ["https://example.com/hooks/x", "http://hooks.slack.com/services/x", "not a url"] {
            let refused = send(&app, &seller, Method::PUT, "/api/v1/seller/slack", Some(json!({"webhook_url": bad}))).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert_eq!(refused.error_code(), "validation_failed");
        }
        let buyer = app.user(Role::Buyer).await;
        send(&app, &buyer, Method::PUT, "/api/v1/seller/slack", Some(json!({"webhook_url": slack.hook("ok")})))
            .await
            .assert_status(StatusCode::FORBIDDEN);
        let seller = seller_on_slack(&app, &slack, "ok").await;

        let drop = create_drop(&app, &seller, 1, 1).await;
        open(&app, &drop);
        purchase(&app.client(), &buyer, &drop, 1, "k").await.assert_status(StatusCode::CREATED);
        app.advance(Duration::seconds(1)).await;
        app.deliver_notifications().await;
        app.deliver_notifications().await;
        assert_eq!(inbox(&app, &seller).await, ["drop_sold_out"]);
        close_drops(&app, &[&seller]).await;
        app.deliver_notifications().await;
        let events = inbox(&app, &seller).await;
        assert!(events.contains(&"drop_closed".to_owned()), "{events:?}");
        let posts = slack.posts();
        assert!(posts.iter().any(|p| p.text.contains("sold out")), "{posts:?}");
        assert!(posts.iter().any(|p| p.text.contains("closed with 0 units sold")), "{posts:?}");
        // Buyers have no webhook: their notices never go to Slack.
        assert!(posts.iter().all(|p| p.hook == "ok"));
        assert_eq!(posts.len(), inbox(&app, &seller).await.len(), "each of the seller's notices, once");
    }
}

backend_test! {
    async fn slack_4xx_fails_at_once_5xx_is_tried_three_times_and_429_waits(backend: Backend) {
        let (app, slack) = with_slack(backend, 20).await;
        let invalid = seller_on_slack(&app, &slack, "invalid").await;
        let gone = seller_on_slack(&app, &slack, "gone").await;
        let down = seller_on_slack(&app, &slack, "down").await;
        let busy = seller_on_slack(&app, &slack, "busy").await;
        close_drops(&app, &[&invalid, &gone, &down, &busy]).await;
        app.deliver_notifications().await;
        let admin = app.user(Role::Admin).await;
        let failed = get(&app, &admin, "/api/v1/admin/notifications?status=failed").await;
        let failed: Vec<&Value> = failed["items"].as_array().unwrap().iter().filter(|d| d["channel"] == "slack").collect();
        assert_eq!(failed.len(), 2, "the two 4xx, after one attempt each: {failed:?}");
        assert!(failed.iter().all(|d| d["attempts"] == 1));
        assert!(failed.iter().any(|d| d["last_error"].as_str().unwrap().contains("no_service")));
        assert!(failed.iter().any(|d| d["last_error"].as_str().unwrap().contains("invalid_payload")));
        send(&app, &invalid, Method::GET, "/api/v1/admin/notifications", None).await.assert_status(StatusCode::FORBIDDEN);

        // 500 is retried with backoff (30 s, then 60 s); 429 after its Retry-After (30 s).
        for _ in 0..2 {
            app.advance(Duration::seconds(61)).await;
            app.deliver_notifications().await;
        }
        let posts = slack.posts();
        assert_eq!(posts.iter().filter(|p| p.hook == "down").count(), MAX_ATTEMPTS as usize);
        assert_eq!(posts.iter().filter(|p| p.hook == "busy").count(), MAX_ATTEMPTS as usize);
        let failed = get(&app, &admin, "/api/v1/admin/notifications?status=failed&limit=100").await;
        let slack_failed = failed["items"].as_array().unwrap().iter().filter(|d| d["channel"] == "slack").count();
        assert_eq!(slack_failed, 4);
        // And nothing more, ever.
        app.advance(Duration::hours(1)).await;
        app.deliver_notifications().await;
        assert_eq!(slack.posts().len(), posts.len());
    }
}

backend_test! {
    async fn the_slack_breaker_opens_on_failures_postpones_without_spending_attempts_and_recovers(backend: Backend) {
        let (app, slack) = with_slack(backend, 4).await;
        slack.set_down(true);
        let first: Vec<TestUser> = futures::future::join_all((0..4).map(|_| seller_on_slack(&app, &slack, "switch"))).await;
        close_drops(&app, &first.iter().collect::<Vec<_>>()).await;
        app.deliver_notifications().await;
        // Four failures fill the window: the breaker opens.
        assert_eq!(slack.posts().len(), 4);
        let second: Vec<TestUser> = futures::future::join_all((0..2).map(|_| seller_on_slack(&app, &slack, "switch"))).await;
        close_drops(&app, &second.iter().collect::<Vec<_>>()).await;
        app.deliver_notifications().await;
        // The second batch comes an hour later, past the pause: one trial post goes out, fails,
        // and the breaker opens again.
        assert_eq!(slack.posts().len(), 5);
        let store = &app.state().store;
        let on_slack = |status| async move {
            store
                .deliveries(Some(status), None, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|d| d.channel == Channel::Slack)
                .collect::<Vec<_>>()
        };
        let pending = on_slack(DeliveryStatus::Pending).await;
        assert_eq!(pending.len(), 6);
        assert!(pending.iter().any(|d| d.attempts == 0), "postponed, not counted: {pending:?}");

        // Past the pause, a trial post finds Slack back; the rest follow.
        slack.set_down(false);
        for _ in 0..3 {
            app.advance(Duration::seconds(61)).await;
            app.deliver_notifications().await;
        }
        assert_eq!(on_slack(DeliveryStatus::Sent).await.len(), 6);
        assert!(on_slack(DeliveryStatus::Failed).await.is_empty());
    }
}

backend_test! {
    async fn a_stalled_slack_times_out_and_counts_as_a_failure(backend: Backend) {
        let (app, slack) = with_slack(backend, 20).await;
        let seller = seller_on_slack(&app, &slack, "stall").await;
        close_drops(&app, &[&seller]).await;
        app.deliver_notifications().await;
        let all = app.state().store.deliveries(None, None, 10).await.unwrap();
        let stalled = all.iter().find(|d| d.channel == Channel::Slack).unwrap();
        assert_eq!(stalled.status, DeliveryStatus::Pending, "{stalled:?}");
        assert_eq!(stalled.attempts, 1);
        assert!(stalled.last_error.as_deref().unwrap().contains("unreachable"), "{stalled:?}");
    }
}

backend_test! {
    async fn two_senders_send_each_message_once_and_a_dead_sender_is_retried_under_the_same_id(backend: Backend) {
        let (app, slack) = with_slack(backend, 20).await;
        let other = app.another_node().build().await;
        let sellers: Vec<TestUser> = futures::future::join_all((0..30).map(|_| seller_on_slack(&app, &slack, "ok"))).await;
        close_drops(&app, &sellers.iter().collect::<Vec<_>>()).await;
        let (a, b) = tokio::join!(
            notifications::deliver_due(app.state()),
            notifications::deliver_due(other.state()),
        );
        a.unwrap();
        b.unwrap();
        assert_eq!(slack.posts().len(), 30, "each once");
        let all = app.state().store.deliveries(None, None, 100).await.unwrap();
        let sent: Vec<_> = all.iter().filter(|d| d.status == DeliveryStatus::Sent).collect();
        assert_eq!(sent.len(), 60, "30 e-mails and 30 posts: {all:#?}");
        assert!(sent.iter().all(|d| d.attempts == 1));

        // A sender claims, sends, and dies before recording.
        let seller = seller_on_slack(&app, &slack, "ok").await;
        let store = &app.state().store;
        let fan_out = FanOut {
            event: Event::SettlementReady,
            audience: Audience::User { id: seller.id },
            subject: "2026-12-01".to_owned(),
            params: [("day".to_owned(), "2026-12-01".to_owned()), ("net".to_owned(), "1000".to_owned())].into(),
        };
        assert_eq!(store.fan_out(&fan_out, app.clock.now()).await.unwrap(), 1);
        let claimed = store.claim_deliveries(app.clock.now(), Duration::seconds(60), MAX_ATTEMPTS, 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        for outgoing in &claimed {
            assert_eq!(notifications::send(app.state(), outgoing).await, Attempt::Sent);
        }
        assert_eq!(notifications::deliver_due(other.state()).await.unwrap(), 0, "held by the dead sender's lease");
        app.clock.advance(Duration::seconds(61));
        assert_eq!(notifications::deliver_due(other.state()).await.unwrap(), 2);
        assert_eq!(slack.posts().len(), 32, "at least once: sent again after the lease");
        // Each node's development mailer writes to its own directory.
        let mut mails = app.deliver_mail_to(&seller.email).await;
        mails.extend(other.deliver_mail_to(&seller.email).await);
        assert_eq!(mails.len(), 2, "{mails:?}");
        let id = |mail: &str| mail.lines().find(|l| l.starts_with("Message-ID:")).unwrap().to_owned();
        assert_eq!(id(&mails[0]), id(&mails[1]), "under one message id, by which the copy is dropped");
        let sent = store.deliveries(Some(DeliveryStatus::Sent), None, 100).await.unwrap();
        let again = sent.iter().find(|d| d.id == claimed[0].id).unwrap();
        assert_eq!(again.attempts, 2);
    }
}

backend_test! {
    async fn a_wishlist_holds_products_on_sale_once_each_and_moves_them_to_the_cart(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let a = app.product(&seller, 10_000, 5).await;
        let b = app.product(&seller, 20_000, 5).await;
        let put = |id: String| {
            let app = &app;
            let buyer = &buyer;
            async move { send(app, buyer, Method::PUT, &format!("/api/v1/me/wishlist/{id}"), None).await }
        };
        put(a.id.to_string()).await.assert_status(StatusCode::NO_CONTENT);
        app.advance(Duration::seconds(1)).await;
        put(b.id.to_string()).await.assert_status(StatusCode::NO_CONTENT);
        put(a.id.to_string()).await.assert_status(StatusCode::NO_CONTENT);
        put(uuid::Uuid::now_v7().to_string()).await.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(put("nope".to_owned()).await.status, StatusCode::BAD_REQUEST);
        send(&app, &seller, Method::PUT, &format!("/api/v1/me/wishlist/{}", a.id), None)
            .await
            .assert_status(StatusCode::FORBIDDEN);

        let names = |list: Value| -> Vec<String> {
            list["items"].as_array().unwrap().iter().map(|w| w["product_id"].as_str().unwrap().to_owned()).collect()
        };
        let list = get(&app, &buyer, "/api/v1/me/wishlist").await;
        assert_eq!(names(list), [b.id.to_string(), a.id.to_string()], "newest first, once each");
        let first = get(&app, &buyer, "/api/v1/me/wishlist?limit=1").await;
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let second = get(&app, &buyer, &format!("/api/v1/me/wishlist?limit=1&cursor={cursor}")).await;
        assert_eq!(names(second), [a.id.to_string()]);

        // An archived product drops out.
        send(&app, &seller, Method::PATCH, &format!("/api/v1/products/{}", b.id), Some(json!({"status": "archived"})))
            .await
            .assert_status(StatusCode::OK);
        assert_eq!(names(get(&app, &buyer, "/api/v1/me/wishlist").await), [a.id.to_string()]);

        let path = format!("/api/v1/me/wishlist/{}/to-cart", a.id);
        let moved = send(&app, &buyer, Method::POST, &path, Some(json!({"quantity": 2}))).await;
        moved.assert_status(StatusCode::OK);
        assert_eq!(moved.json()["items"][0]["quantity"], 2);
        assert!(names(get(&app, &buyer, "/api/v1/me/wishlist").await).is_empty());
        send(&app, &buyer, Method::POST, &path, Some(json!({"quantity": 1}))).await.assert_status(StatusCode::NOT_FOUND);
        send(&app, &buyer, Method::DELETE, &format!("/api/v1/me/wishlist/{}", a.id), None)
            .await
            .assert_status(StatusCode::NO_CONTENT);
    }
}

backend_test! {
    async fn a_wishlist_is_bounded(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let buyer = app.user(Role::Buyer).await;
        let store = &app.state().store;
        for _ in 0..rushline_app::wishlist::MAX_WISHES {
            let product = app.product(&seller, 1_000, 1).await;
            store.wish(buyer.id, product.id, rushline_app::wishlist::MAX_WISHES, app.clock.now()).await.unwrap();
        }
        let one_more = app.product(&seller, 1_000, 1).await;
        let refused = send(&app, &buyer, Method::PUT, &format!("/api/v1/me/wishlist/{}", one_more.id), None).await;
        refused.assert_status(StatusCode::CONFLICT);
        assert_eq!(refused.error_code(), "wishlist_full");
    }
}

backend_test! {
    async fn wishers_hear_of_a_drop_when_scheduled_and_before_it_opens_and_of_a_time_sale(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let wishers = app.users(Role::Buyer, 2).await;
        let bystander = app.user(Role::Buyer).await;
        let product = app.product(&seller, 100_000, 5).await;
        for wisher in &wishers {
            send(&app, wisher, Method::PUT, &format!("/api/v1/me/wishlist/{}", product.id), None)
                .await
                .assert_status(StatusCode::NO_CONTENT);
        }
        send(&app, &wishers[1], Method::PATCH, "/api/v1/me/notification-settings", Some(json!({"channels": {"wishlist": {"email": false}}})))
            .await
            .assert_status(StatusCode::OK);

        let opens_at = app.clock.now() + Duration::hours(1);
        send(&app, &seller, Method::POST, "/api/v1/drops", Some(json!({
            "product_id": product.id, "quantity": 3, "price": 90_000, "opens_at": opens_at,
            "closes_at": opens_at + Duration::hours(1), "per_user_limit": 1,
        })))
        .await
        .assert_status(StatusCode::CREATED);
        app.deliver_notifications().await;
        assert_eq!(inbox(&app, &wishers[0]).await, ["wishlist_drop_scheduled"]);
        assert!(inbox(&app, &bystander).await.is_empty());

        app.clock.set(opens_at - Duration::minutes(11));
        app.deliver_notifications().await;
        assert_eq!(inbox(&app, &wishers[0]).await.len(), 1, "not yet");
        app.clock.set(opens_at - Duration::minutes(9));
        app.deliver_notifications().await;
        app.advance(Duration::seconds(10)).await;
        assert_eq!(inbox(&app, &wishers[0]).await, ["wishlist_drop_opening", "wishlist_drop_scheduled"], "once");

        let starts_at = app.clock.now() + Duration::minutes(1);
        send(&app, &seller, Method::POST, &format!("/api/v1/products/{}/time-sales", product.id), Some(json!({
            "price": 80_000, "starts_at": starts_at, "ends_at": starts_at + Duration::hours(3),
        })))
        .await
        .assert_status(StatusCode::CREATED);
        app.clock.set(starts_at + Duration::seconds(30));
        app.deliver_notifications().await;
        for wisher in &wishers {
            assert_eq!(inbox(&app, wisher).await[0], "wishlist_time_sale_started");
        }
        let page = get(&app, &wishers[0], "/api/v1/me/notifications").await;
        assert!(page["items"][0]["body"].as_str().unwrap().contains("80000 KRW"));
        assert_eq!(app.deliver_mail_to(&wishers[0].email).await.len(), 3);
        assert!(app.deliver_mail_to(&wishers[1].email).await.is_empty(), "muted by e-mail");
        assert_eq!(inbox(&app, &wishers[1]).await.len(), 3, "the inbox gets everything");
    }
}

backend_test! {
    async fn an_order_is_told_shipped_delivered_and_refunded(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (buyer, _, order) = ordered(&app, 1).await;
        pay_card(&app, &buyer, &order, "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        // Orders ship a day after payment and arrive a day later.
        app.advance(Duration::days(1) + Duration::seconds(1)).await;
        app.advance(Duration::days(1) + Duration::seconds(1)).await;
        app.deliver_notifications().await;
        let mut told = inbox(&app, &buyer).await;
        told.sort();
        assert_eq!(told, ["order_delivered", "order_paid", "order_shipped"]);

        let (other, _, second) = ordered(&app, 1).await;
        pay_card(&app, &other, &second, "4111111111111111", "pay-2").await.assert_status(StatusCode::OK);
        let path = format!("/api/v1/orders/{}/cancel", second["order_id"].as_str().unwrap());
        send(&app, &other, Method::POST, &path, None).await.assert_status(StatusCode::OK);
        app.deliver_notifications().await;
        app.deliver_notifications().await;
        let mut told = inbox(&app, &other).await;
        told.sort();
        assert_eq!(told, ["order_paid", "refund_completed"]);
    }
}

backend_test! {
    async fn testers_are_reminded_of_their_review_and_sellers_hear_their_trial_is_full(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let tester = app.user(Role::Buyer).await;
        let trial = crate::trials::create_trial(&app, &seller, 1).await;
        crate::trials::open(&app, &trial);
        crate::trials::apply(&app.client(), &tester, &trial, "apply").await.assert_status(StatusCode::CREATED);
        app.advance(Duration::seconds(1)).await;
        app.deliver_notifications().await;
        assert_eq!(inbox(&app, &tester).await, ["trial_selected"]);
        assert_eq!(inbox(&app, &seller).await, ["trial_full"]);
        let due = crate::trials::my_trials(&app, &tester).await[0]["review_due_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        app.clock.set(due - Duration::hours(23));
        app.deliver_notifications().await;
        assert_eq!(inbox(&app, &tester).await, ["review_due_soon", "trial_selected"]);
    }
}
