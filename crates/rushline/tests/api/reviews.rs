//! Product reviews: who may write one, one per buyer and product, editing, deleting and hiding,
//! listings in every sort, and statistics that always equal a model of the writes and a recount
//! of the rows.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rushline_domain::{Clock, Role};
use rushline_store::{ReviewQuery, ReviewSort};
use rushline_testkit::{TestApp, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::catalog::wait_for_sync;
use crate::drops::{create_drop, open as open_drop, purchase};
use crate::trials::{act, apply, create_trial, id, my_trials, open};

fn reviews_path(product: &str) -> String {
    format!("/api/v1/products/{product}/reviews")
}

async fn review(app: &TestApp, buyer: &TestUser, product: &str, rating: i64) -> TestResponse {
    app.send(
        Method::POST,
        &reviews_path(product),
        Some(json!({ "rating": rating, "title": "Worth it", "text": "Comfortable from day one." })),
        &[("authorization", &buyer.bearer())],
    )
    .await
}

async fn edit(app: &TestApp, user: &TestUser, review: &Value, body: Value) -> TestResponse {
    let path = format!(
        "{}/{}",
        reviews_path(review["product_id"].as_str().unwrap()),
        id(review)
    );
    app.send(
        Method::PATCH,
        &path,
        Some(body),
        &[("authorization", &user.bearer())],
    )
    .await
}

async fn remove(app: &TestApp, user: &TestUser, review: &Value) -> TestResponse {
    let path = format!(
        "{}/{}",
        reviews_path(review["product_id"].as_str().unwrap()),
        id(review)
    );
    act(app, user, Method::DELETE, &path).await
}

async fn hide(app: &TestApp, user: &TestUser, review: &Value) -> TestResponse {
    let path = format!(
        "{}/{}/hide",
        reviews_path(review["product_id"].as_str().unwrap()),
        id(review)
    );
    act(app, user, Method::POST, &path).await
}

async fn stats(app: &TestApp, product: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/products/{product}/review-stats"))
        .await;
    response.assert_status(StatusCode::OK);
    response.json()
}

async fn listed(app: &TestApp, product: &str, query: &str) -> Value {
    let response = app.get(&format!("{}?{query}", reviews_path(product))).await;
    response.assert_status(StatusCode::OK);
    response.json()
}

/// A trial of a fresh product with `testers` selected testers; the product's id and the trial.
async fn tested(app: &TestApp, testers: &[TestUser]) -> (String, Value) {
    let seller = app.user(Role::Seller).await;
    let trial = create_trial(app, &seller, testers.len() as i64 + 1).await;
    open(app, &trial);
    for (i, tester) in testers.iter().enumerate() {
        apply(&app.client(), tester, &trial, &format!("t{i}"))
            .await
            .assert_status(StatusCode::CREATED);
    }
    (trial["product_id"].as_str().unwrap().to_owned(), trial)
}

async fn pay(app: &TestApp, buyer: &TestUser, order: &Value) {
    app.send(
        Method::POST,
        &format!("/api/v1/orders/{}/pay", order["order_id"].as_str().unwrap()),
        Some(json!({"method": "card", "card_number": "4111111111111111"})),
        &[
            ("authorization", &buyer.bearer()),
            ("idempotency-key", "pay"),
        ],
    )
    .await
    .assert_status(StatusCode::OK);
}

backend_test! {
    async fn only_buyers_whose_order_is_done_may_review(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let (early, late, stranger) = (app.user(Role::Buyer).await, app.user(Role::Buyer).await, app.user(Role::Buyer).await);
        let drop = create_drop(&app, &seller, 10, 5).await;
        let product = drop["product_id"].as_str().unwrap().to_owned();
        open_drop(&app, &drop);
        for buyer in [&early, &late] {
            let order = purchase(&app.client(), buyer, &drop, 1, "order").await;
            order.assert_status(StatusCode::CREATED);
            pay(&app, buyer, &order.json()).await;
        }
        let refused = review(&app, &stranger, &product, 5).await;
        refused.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(refused.error_code(), "review_not_allowed");
        assert_eq!(review(&app, &early, &product, 5).await.error_code(), "review_not_allowed", "paid");
        app.advance(Duration::days(1)).await;
        assert_eq!(review(&app, &early, &product, 5).await.error_code(), "review_not_allowed", "shipping");
        app.advance(Duration::days(1)).await;
        assert_eq!(review(&app, &early, &product, 5).await.error_code(), "review_not_allowed", "delivered, returnable");
        assert_eq!(review(&app, &seller, &product, 5).await.error_code(), "forbidden");

        // The window is over but no job has completed the order yet.
        app.clock.advance(Duration::days(1));
        let written = review(&app, &early, &product, 4).await;
        written.assert_status(StatusCode::CREATED);
        assert_eq!(written.json()["source"], "verified_purchase");
        assert_eq!(written.json()["rating"], 4);
        app.worker().run_due().await.unwrap();
        review(&app, &late, &product, 2).await.assert_status(StatusCode::CREATED);
        assert_eq!(review(&app, &stranger, &product, 5).await.error_code(), "review_not_allowed", "others' orders do not count");

        let again = review(&app, &early, &product, 1).await;
        again.assert_status(StatusCode::CONFLICT);
        assert_eq!(again.error_code(), "already_reviewed");
        assert_eq!(stats(&app, &product).await, json!({
            "count": 2, "average": 3.0, "min": 2, "max": 4,
            "histogram": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0},
        }));
        let page = app.get(&format!("/api/v1/products/{product}")).await.json();
        assert_eq!(page["rating"], json!({"average": 3.0, "count": 2}));
    }
}

backend_test! {
    async fn reviews_refuse_bad_text_and_replay_with_their_key(backend: Backend) {
        let app = TestApp::new(backend).await;
        let tester = app.user(Role::Buyer).await;
        let (product, _) = tested(&app, std::slice::from_ref(&tester)).await;
        for body in [
            json!({"rating": 0, "text": "Comfortable from day one."}),
            json!({"rating": 6, "text": "Comfortable from day one."}),
            json!({"rating": 5, "text": "Too short"}),
            json!({"rating": 5, "text": "x".repeat(2001)}),
            json!({"rating": 5, "title": "a\u{7}b", "text": "Comfortable from day one."}),
            json!({"rating": 5, "title": "t".repeat(101), "text": "Comfortable from day one."}),
            json!({"rating": 5, "text": "Comfortable\u{1b} from day one."}),
        ] {
            let refused = app.send(Method::POST, &reviews_path(&product), Some(body.clone()), &[("authorization", &tester.bearer())]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
        let headers = [("authorization", tester.bearer()), ("idempotency-key", "r1".to_owned())];
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = json!({"rating": 5, "text": "Comfortable\nfrom day one."});
        let first = app.send(Method::POST, &reviews_path(&product), Some(body.clone()), &headers).await;
        first.assert_status(StatusCode::CREATED);
        let replay = app.send(Method::POST, &reviews_path(&product), Some(body), &headers).await;
        replay.assert_status(StatusCode::CREATED);
        assert_eq!(replay.json()["id"], first.json()["id"]);
        assert_eq!(stats(&app, &product).await["count"], 1);
    }
}

backend_test! {
    async fn a_trial_review_marks_the_application_and_counts_in_the_trial(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let (on_time, late, quitter, outsider) = (
            app.user(Role::Buyer).await, app.user(Role::Buyer).await,
            app.user(Role::Buyer).await, app.user(Role::Buyer).await,
        );
        let trial = create_trial(&app, &seller, 3).await;
        let product = trial["product_id"].as_str().unwrap().to_owned();
        open(&app, &trial);
        for (i, tester) in [&on_time, &late, &quitter].into_iter().enumerate() {
            apply(&app.client(), tester, &trial, &format!("k{i}")).await.assert_status(StatusCode::CREATED);
        }
        // The outsider applied too late: refused, and so never a tester.
        assert_eq!(apply(&app.client(), &outsider, &trial, "k3").await.error_code(), "trial_full");
        let cancel = format!("/api/v1/me/trials/{}/cancel", my_trials(&app, &quitter).await[0]["application_id"].as_str().unwrap());
        act(&app, &quitter, Method::POST, &cancel).await.assert_status(StatusCode::OK);
        assert_eq!(review(&app, &quitter, &product, 5).await.error_code(), "review_not_allowed", "cancelled");
        assert_eq!(review(&app, &outsider, &product, 5).await.error_code(), "review_not_allowed", "refused as the trial was full");

        let written = review(&app, &on_time, &product, 5).await;
        written.assert_status(StatusCode::CREATED);
        assert_eq!(written.json()["source"], "trial");
        let mine = &my_trials(&app, &on_time).await[0];
        assert_eq!(mine["status"], "review_submitted");
        assert_eq!(mine["review_id"], written.json()["id"]);
        app.worker().run_due().await.unwrap();
        let mails = app.deliver_mail_to(&on_time.email).await;
        assert!(mails.iter().any(|m| m.contains("Thank you for your review")), "{mails:?}");
        let trial_stats = format!("/api/v1/trials/{}/stats", id(&trial));
        let numbers = act(&app, &seller, Method::GET, &trial_stats).await.json();
        assert_eq!((numbers["review_rate"].as_f64(), numbers["average_rating"].as_f64()), (Some(0.5), Some(5.0)));

        // Past the deadline: the review is still welcome, and the record of lateness stays.
        app.advance(Duration::days(15)).await;
        assert_eq!(my_trials(&app, &late).await[0]["status"], "review_overdue");
        let late_review = review(&app, &late, &product, 2).await;
        late_review.assert_status(StatusCode::CREATED);
        let mine = &my_trials(&app, &late).await[0];
        assert_eq!(mine["status"], "review_overdue");
        assert_eq!(mine["review_id"], late_review.json()["id"]);
        let numbers = act(&app, &seller, Method::GET, &trial_stats).await.json();
        assert_eq!((numbers["review_rate"].as_f64(), numbers["average_rating"].as_f64()), (Some(1.0), Some(3.5)));
    }
}

backend_test! {
    async fn authors_edit_and_delete_admins_hide_and_delete(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (author, other) = (app.user(Role::Buyer).await, app.user(Role::Buyer).await);
        let (admin, seller) = (app.user(Role::Admin).await, app.user(Role::Seller).await);
        let (product, _) = tested(&app, &[author.clone(), other.clone()]).await;
        let mine = review(&app, &author, &product, 5).await.json();
        let theirs = review(&app, &other, &product, 1).await.json();
        assert_eq!(listed(&app, &product, "").await["items"].as_array().unwrap().len(), 2);

        assert_eq!(edit(&app, &other, &mine, json!({"rating": 1})).await.error_code(), "not_found");
        assert_eq!(remove(&app, &other, &mine).await.error_code(), "not_found");
        assert_eq!(edit(&app, &author, &mine, json!({"text": "short"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let edited = edit(&app, &author, &mine, json!({"rating": 3, "title": ""})).await;
        edited.assert_status(StatusCode::OK);
        assert_eq!((edited.json()["rating"].clone(), edited.json()["title"].clone()), (json!(3), Value::Null));
        assert_eq!(edited.json()["text"], mine["text"]);
        assert_eq!(stats(&app, &product).await["histogram"], json!({"1": 1, "2": 0, "3": 1, "4": 0, "5": 0}));

        assert_eq!(hide(&app, &seller, &theirs).await.error_code(), "forbidden");
        assert_eq!(hide(&app, &author, &theirs).await.error_code(), "forbidden");
        hide(&app, &admin, &theirs).await.assert_status(StatusCode::OK);
        hide(&app, &admin, &theirs).await.assert_status(StatusCode::OK);
        let items = listed(&app, &product, "").await["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["id"], mine["id"]);
        assert_eq!(stats(&app, &product).await["count"], 1);
        assert_eq!(app.get(&format!("/api/v1/products/{product}")).await.json()["rating"], json!({"average": 3.0, "count": 1}));

        remove(&app, &author, &mine).await.assert_status(StatusCode::NO_CONTENT);
        remove(&app, &admin, &theirs).await.assert_status(StatusCode::NO_CONTENT);
        assert_eq!(remove(&app, &admin, &theirs).await.error_code(), "not_found");
        assert_eq!(stats(&app, &product).await, json!({
            "count": 0, "average": null, "min": null, "max": null,
            "histogram": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
        }));
        assert!(listed(&app, &product, "").await["items"].as_array().unwrap().is_empty());
        // A deleted trial review leaves the application submitted; the tester may write again.
        assert_eq!(my_trials(&app, &author).await[0]["status"], "review_submitted");
        review(&app, &author, &product, 4).await.assert_status(StatusCode::CREATED);
        assert_eq!(app.get(&format!("{}?rating=9", reviews_path(&product))).await.error_code(), "invalid_query");
        assert_eq!(app.get(&format!("{}?cursor=nope", reviews_path(&product))).await.error_code(), "invalid_cursor");
        assert_eq!(app.get(&reviews_path(&Uuid::now_v7().to_string())).await.error_code(), "not_found");
    }
}

/// The ratings of the product's visible review rows, as the store lists them.
async fn visible_rows(app: &TestApp, product: &str) -> impl Iterator<Item = i64> {
    let rows = app
        .state()
        .store
        .list_reviews(&ReviewQuery {
            product_id: product.parse().unwrap(),
            sort: ReviewSort::Newest,
            rating: None,
            after: None,
            limit: 1000,
        })
        .await
        .unwrap();
    rows.into_iter().map(|row| i64::from(row.rating))
}

/// The statistics the endpoint should show for these visible ratings.
fn expected(visible: impl Iterator<Item = i64>) -> Value {
    let mut histogram = [0_i64; 5];
    for rating in visible {
        histogram[rating as usize - 1] += 1;
    }
    let count: i64 = histogram.iter().sum();
    let sum: i64 = histogram.iter().zip(1..).map(|(n, stars)| n * stars).sum();
    let ratings = (1..=5).filter(|stars| histogram[*stars as usize - 1] > 0);
    json!({
        "count": count,
        "average": (count > 0).then(|| sum as f64 / count as f64),
        "min": ratings.clone().min(),
        "max": ratings.max(),
        "histogram": {"1": histogram[0], "2": histogram[1], "3": histogram[2], "4": histogram[3], "5": histogram[4]},
    })
}

backend_test! {
    async fn statistics_follow_a_model_of_random_writes(backend: Backend) {
        let app = TestApp::new(backend).await;
        let admin = app.user(Role::Admin).await;
        for seed in [20_261_204, 7, 1_000_003] {
            let testers = app.users(Role::Buyer, 10).await;
            let (product, _) = tested(&app, &testers).await;
            let mut rng = StdRng::seed_from_u64(seed);
            // Each tester's review, if written and not deleted: as created, its rating now, hidden.
            let mut written: Vec<Option<(Value, i64, bool)>> = vec![None; testers.len()];
            for step in 0..80 {
                let who = rng.random_range(0..testers.len());
                let rating = rng.random_range(1..=5);
                match (written[who].take(), rng.random_range(0..4)) {
                    (None, _) => {
                        let created = review(&app, &testers[who], &product, rating).await;
                        created.assert_status(StatusCode::CREATED);
                        written[who] = Some((created.json(), rating, false));
                    }
                    (Some((current, _, hidden)), 0) => {
                        edit(&app, &testers[who], &current, json!({"rating": rating})).await.assert_status(StatusCode::OK);
                        written[who] = Some((current, rating, hidden));
                    }
                    (Some((current, _, _)), 1) => {
                        remove(&app, &testers[who], &current).await.assert_status(StatusCode::NO_CONTENT);
                    }
                    (Some((current, was, _)), 2) => {
                        hide(&app, &admin, &current).await.assert_status(StatusCode::OK);
                        written[who] = Some((current, was, true));
                    }
                    (Some(kept), _) => {
                        assert_eq!(review(&app, &testers[who], &product, rating).await.error_code(), "already_reviewed", "{}", kept.0);
                        written[who] = Some(kept);
                    }
                }
                let visible = written.iter().flatten().filter(|(_, _, hidden)| !hidden).map(|(_, rating, _)| *rating);
                let shown = stats(&app, &product).await;
                assert_eq!(shown, expected(visible), "the model: seed {seed}, after step {step}");
                assert_eq!(shown, expected(visible_rows(&app, &product).await), "the rows: seed {seed}, after step {step}");
            }
            let shown = stats(&app, &product).await;
            let page = app.get(&format!("/api/v1/products/{product}")).await.json();
            assert_eq!(page["rating"], json!({"average": shown["average"], "count": shown["count"]}));
        }
    }
}

/// Every review of a listing, following its cursor `limit` at a time.
async fn every_page(app: &TestApp, product: &str, query: &str, limit: u32) -> Vec<(i64, String)> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = format!("{query}&limit={limit}");
        if let Some(cursor) = &cursor {
            q.push_str(&format!("&cursor={cursor}"));
        }
        let page = listed(app, product, &q).await;
        for item in page["items"].as_array().unwrap() {
            all.push((
                item["rating"].as_i64().unwrap(),
                item["id"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

backend_test! {
    async fn listings_follow_each_sort_and_page_stably_through_ties(backend: Backend) {
        let app = TestApp::new(backend).await;
        let ratings = [5, 3, 5, 5, 1, 3, 5];
        let testers = app.users(Role::Buyer, ratings.len()).await;
        let (product, trial) = tested(&app, &testers).await;
        // (rating, created_at order, id): two pairs share a time, so ties fall back to ids.
        let mut expected = Vec::new();
        for (i, (tester, rating)) in testers.iter().zip(ratings).enumerate() {
            if i % 3 != 1 {
                app.clock.advance(Duration::seconds(1));
            }
            let created = review(&app, tester, &product, rating).await.json();
            expected.push((rating, app.clock.now(), created["id"].as_str().unwrap().to_owned()));
        }
        let newest = |e: &(i64, chrono::DateTime<chrono::Utc>, String)| (std::cmp::Reverse(e.1), std::cmp::Reverse(e.2.parse::<Uuid>().unwrap()));
        let mut by_newest = expected.clone();
        by_newest.sort_by_key(newest);
        let mut by_rating_desc = expected.clone();
        by_rating_desc.sort_by_key(|e| (std::cmp::Reverse(e.0), newest(e)));
        let mut by_rating_asc = expected.clone();
        by_rating_asc.sort_by_key(|e| (e.0, newest(e)));
        let plain = |v: &[(i64, chrono::DateTime<chrono::Utc>, String)]| v.iter().map(|e| (e.0, e.2.clone())).collect::<Vec<_>>();
        for limit in [1, 2, 3, 100] {
            assert_eq!(every_page(&app, &product, "sort=newest", limit).await, plain(&by_newest), "newest by {limit}");
            assert_eq!(every_page(&app, &product, "sort=rating_desc", limit).await, plain(&by_rating_desc), "rating_desc by {limit}");
            assert_eq!(every_page(&app, &product, "sort=rating_asc", limit).await, plain(&by_rating_asc), "rating_asc by {limit}");
        }
        let fives: Vec<_> = plain(&by_newest).into_iter().filter(|e| e.0 == 5).collect();
        assert_eq!(every_page(&app, &product, "rating=5", 2).await, fives);

        // A page boundary inside a run of equal ratings holds while a review is added before it.
        let before = every_page(&app, &product, "sort=rating_desc", 100).await;
        let first = listed(&app, &product, "sort=rating_desc&limit=2").await;
        let extra = app.user(Role::Buyer).await;
        apply(&app.client(), &extra, &trial, "extra").await.assert_status(StatusCode::CREATED);
        app.clock.advance(Duration::seconds(1));
        review(&app, &extra, &product, 5).await.assert_status(StatusCode::CREATED);
        let cursor = first["next_cursor"].as_str().unwrap();
        let after = listed(&app, &product, &format!("sort=rating_desc&limit=100&cursor={cursor}")).await;
        let after: Vec<_> = after["items"].as_array().unwrap().iter().map(|i| (i["rating"].as_i64().unwrap(), i["id"].as_str().unwrap().to_owned())).collect();
        assert_eq!(after, before[2..].to_vec());
        assert_eq!(every_page(&app, &product, "sort=rating_desc", 100).await.len(), before.len() + 1);
    }
}

/// A review written through one node is seen on the next read of another, whose cache held the
/// product's reviews, statistics and page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_through_one_node_is_seen_on_the_next_read_of_another() {
    if !rushline_testkit::Backend::Postgres.available() {
        return;
    }
    let a = TestApp::new(rushline_testkit::Backend::Postgres).await;
    let b = a.another_node().build().await;
    wait_for_sync(&b, |s| s.subscribed).await;
    let tester = a.user(Role::Buyer).await;
    let (product, _) = tested(&a, std::slice::from_ref(&tester)).await;
    let page = format!("/api/v1/products/{product}");
    assert_eq!(stats(&b, &product).await["count"], 0);
    assert!(
        listed(&b, &product, "").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(b.get(&page).await.json()["rating"]["count"], 0);

    let received = b.state().catalog.cache.sync_state().borrow().received;
    let written = review(&a, &tester, &product, 4).await.json();
    wait_for_sync(&b, |s| s.received > received).await;
    assert_eq!(stats(&b, &product).await["count"], 1);
    assert_eq!(
        listed(&b, &product, "").await["items"][0]["id"],
        written["id"]
    );
    assert_eq!(
        b.get(&page).await.json()["rating"],
        json!({"average": 4.0, "count": 1})
    );

    let received = b.state().catalog.cache.sync_state().borrow().received;
    let admin = a.user(Role::Admin).await;
    hide(&a, &admin, &written)
        .await
        .assert_status(StatusCode::OK);
    wait_for_sync(&b, |s| s.received > received).await;
    assert_eq!(stats(&b, &product).await["count"], 0);
    assert!(
        listed(&b, &product, "").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
