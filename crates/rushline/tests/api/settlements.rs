//! Settlements end to end: a hand-computed fixture of discounts, points and rounding settled by
//! the daily job at 00:30 Seoul time, business days cut at Seoul's midnight, a day settled early
//! by hand and corrected by the next run, idempotent reruns, payouts that freeze a settlement,
//! CSV, and sellers who see only their own; on both backend pairs, which settle to the same rows.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rushline_app::settlement;
use rushline_domain::{Clock, ManualClock, Role};
use rushline_testkit::{Backend, TestApp, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::coupons::{claim, create_campaign, points};

pub(crate) fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

pub(crate) async fn get(app: &TestApp, user: &TestUser, path: &str) -> TestResponse {
    app.send(
        Method::GET,
        path,
        None,
        &[("authorization", &user.bearer())],
    )
    .await
}

/// Puts `lines` (product, quantity) in `buyer`'s cart, checks out with `redeem` and pays, all at
/// the clock's time; the order's id.
pub(crate) async fn buy(
    app: &TestApp,
    buyer: &TestUser,
    lines: &[(Uuid, i64)],
    redeem: Value,
) -> String {
    let auth = [("authorization", buyer.bearer())];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for &(product, quantity) in lines {
        app.send(
            Method::POST,
            "/api/v1/cart/items",
            Some(json!({"product_id": product, "quantity": quantity})),
            &auth,
        )
        .await
        .assert_status(StatusCode::CREATED);
    }
    let key = Uuid::now_v7().to_string();
    let order = app
        .send(
            Method::POST,
            "/api/v1/cart/checkout",
            Some(redeem),
            &[auth[0], ("idempotency-key", &key)],
        )
        .await;
    order.assert_status(StatusCode::CREATED);
    let id = order.json()["id"].as_str().unwrap().to_owned();
    app.send(
        Method::POST,
        &format!("/api/v1/orders/{id}/pay"),
        Some(json!({"method": "card", "card_number": "4111111111111111"})),
        &[auth[0], ("idempotency-key", &format!("pay-{id}"))],
    )
    .await
    .assert_status(StatusCode::OK);
    id
}

/// Every settlement of `seller`, oldest day first.
async fn settlements(app: &TestApp, seller: &TestUser) -> Vec<Value> {
    let response = get(app, seller, "/api/v1/seller/settlements?limit=100").await;
    response.assert_status(StatusCode::OK);
    response.json()["items"].as_array().unwrap().clone()
}

/// The figures of a settlement or a line, without ids and times.
fn figures(v: &Value) -> Value {
    let keys = [
        "revision",
        "orders",
        "gross",
        "seller_discount",
        "platform_discount",
        "points",
        "platform_fee",
        "payment_fee",
        "net",
    ];
    keys.iter()
        .filter(|k| v.get(**k).is_some())
        .map(|k| ((*k).to_owned(), v[*k].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Every line of `seller`'s day, page by page (`limit` per page).
async fn day_lines(app: &TestApp, seller: &TestUser, day: &str, limit: u32) -> (Value, Vec<Value>) {
    let mut lines = Vec::new();
    let mut path = format!("/api/v1/seller/settlements/{day}?limit={limit}");
    loop {
        let page = get(app, seller, &path).await;
        page.assert_status(StatusCode::OK);
        let page = page.json();
        lines.extend(page["lines"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/seller/settlements/{day}?limit={limit}&cursor={cursor}")
            }
            None => return (page, lines),
        }
    }
}

pub(crate) struct Fixture {
    pub(crate) app: TestApp,
    /// The seller of most orders, and the seller of the second line of a two-seller order.
    pub(crate) s: TestUser,
    pub(crate) t: TestUser,
    pub(crate) admin: TestUser,
    /// b1, b2, b3.
    pub(crate) buyers: Vec<TestUser>,
    /// Orders by name: o1 … o6.
    orders: Vec<(&'static str, String)>,
}

/// The day D is 2026-03-07 in Seoul (2026-03-06T15:00Z to 2026-03-07T15:00Z). Orders complete
/// three days after payment (ship, deliver, return window: a day each).
pub(crate) async fn fixture(backend: Backend) -> Fixture {
    let app = TestApp::builder(backend)
        .clock(ManualClock::new(at("2026-03-01T00:00:00Z")))
        .config(|c| {
            // The buyer earns the whole of a first order in points, to spend them later.
            c.points.earn_rate = 1.0;
        })
        .build()
        .await;
    let (s, t, admin) = (
        app.user(Role::Seller).await,
        app.user(Role::Seller).await,
        app.user(Role::Admin).await,
    );
    let (b1, b2, b3) = (
        app.user(Role::Buyer).await,
        app.user(Role::Buyer).await,
        app.user(Role::Buyer).await,
    );
    // Created in this order, so a cart of `a` and `c` lists `a` first.
    let a = app.product(&s, 12_345, 100).await.id;
    let b = app.product(&s, 30_000, 100).await.id;
    let c = app.product(&t, 20_000, 100).await.id;
    let d = app.product(&s, 10, 100).await.id;
    let seller_coupon = create_campaign(
        &app,
        &s,
        10,
        1,
        json!({"kind": "percent", "percent": 10, "max_amount": 5_000}),
        10_000,
        json!({"kind": "seller"}),
    )
    .await;
    let store_coupon = create_campaign(
        &app,
        &admin,
        10,
        1,
        json!({"kind": "fixed", "amount": 3_000}),
        0,
        json!({"kind": "store"}),
    )
    .await;

    // o0 completes on 2026-03-04 (Seoul) and earns b1 its points.
    let o0 = buy(&app, &b1, &[(a, 1)], json!({})).await;
    app.clock.set(at("2026-03-01T00:01:00Z"));
    let claimed = |buyer: &TestUser, campaign: &Value| {
        let (client, buyer, campaign) = (app.client(), buyer.clone(), campaign.clone());
        async move {
            let coupon = claim(&client, &buyer, &campaign, "c").await;
            coupon.assert_status(StatusCode::CREATED);
            coupon.json()["id"].as_str().unwrap().to_owned()
        }
    };
    let s_coupon = claimed(&b2, &seller_coupon).await;
    let store = claimed(&b1, &store_coupon).await;
    for _ in 0..3 {
        app.advance(Duration::days(1)).await;
    }
    assert_eq!(points(&app, &b1).await["balance"], 12_345);

    // Paid at 14:00 Seoul: complete at 14:00 on D.
    app.clock.set(at("2026-03-04T05:00:00Z"));
    let o1 = buy(&app, &b1, &[(a, 1)], json!({})).await;
    let o2 = buy(&app, &b2, &[(b, 2)], json!({"coupon_id": s_coupon})).await;
    let o3 = buy(
        &app,
        &b1,
        &[(a, 1), (c, 1)],
        json!({"coupon_id": store, "points": 4_000}),
    )
    .await;
    let o4 = buy(&app, &b3, &[(d, 1)], json!({})).await;
    // The last second of D in Seoul, and the first of the day after.
    app.clock.set(at("2026-03-04T14:59:59Z"));
    let o5 = buy(&app, &b3, &[(c, 1)], json!({})).await;
    app.clock.set(at("2026-03-04T15:00:00Z"));
    let o6 = buy(&app, &b2, &[(c, 1)], json!({})).await;
    // Shipped, then delivered: they complete on D.
    for _ in 0..2 {
        app.advance(Duration::days(1)).await;
    }
    Fixture {
        app,
        s,
        t,
        admin,
        buyers: vec![b1, b2, b3],
        orders: vec![
            ("o0", o0),
            ("o1", o1),
            ("o2", o2),
            ("o3", o3),
            ("o4", o4),
            ("o5", o5),
            ("o6", o6),
        ],
    }
}

impl Fixture {
    pub(crate) fn order(&self, name: &str) -> &str {
        &self.orders.iter().find(|(n, _)| *n == name).unwrap().1
    }
}

/// Settles D by hand at 19:00 Seoul, before o5 completes; then lets the job settle D at 00:30
/// Seoul (o5, as T's correction) and the day after a day later.
pub(crate) async fn settle_all(f: &Fixture) {
    let d = NaiveDate::from_ymd_opt(2026, 3, 7).unwrap();
    f.app.clock.set(at("2026-03-07T10:00:00Z"));
    f.app.worker().run_due().await.unwrap();
    let early = settlement::settle(f.app.state(), d, None, false, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        early.settlements.len(),
        2,
        "S and T, from the orders completed so far"
    );
    f.app
        .advance(Duration::hours(5) + Duration::minutes(29))
        .await;
    // 00:29 Seoul: nothing more settled yet.
    assert_eq!(settlements(&f.app, &f.t).await.len(), 1);
    f.app.advance(Duration::minutes(1)).await;
    f.app.advance(Duration::days(1)).await;
}

backend_test! {
    async fn a_day_settles_to_the_hand_computed_figures(backend: Backend) {
        let f = fixture(backend).await;
        settle_all(&f).await;
        let (app, s, t) = (&f.app, &f.s, &f.t);

        // S, 2026-03-07: o1 12,345; o2 60,000 less 5,000 (its own coupon); its line of o3, 12,345
        // with the store coupon's 3,000 and 4,000 points (the platform's: no effect on net); o4,
        // 10 won. Fees per line, half up: 5 % of 12,345 = 617.25 → 617, 3.3 % → 407.385 → 407;
        // of 55,000: 2,750 and 1,815; of 10: 0.5 → 1 and 0.33 → 0.
        let s_all = settlements(app, s).await;
        let days: Vec<&str> = s_all.iter().map(|v| v["business_day"].as_str().unwrap()).collect();
        assert_eq!(days, ["2026-03-04", "2026-03-07"], "o0 on its own day, the rest on D");
        // Each settlement written tells its seller, once.
        app.worker().run_due().await.unwrap();
        let told = crate::notifications::inbox(app, s).await;
        assert_eq!(told.iter().filter(|e| *e == "settlement_ready").count(), 2, "{told:?}");
        let d = &s_all[1];
        assert_eq!(figures(d), json!({
            "revision": 1, "orders": 4, "gross": 84_700, "seller_discount": 5_000,
            "platform_discount": 3_000, "points": 4_000, "platform_fee": 3_985,
            "payment_fee": 2_629, "net": 73_086,
        }));
        assert_eq!((d["platform_fee_rate"].as_f64(), d["payment_fee_rate"].as_f64()), (Some(0.05), Some(0.033)));
        assert_eq!(d["status"], "pending");
        let (day, lines) = day_lines(app, s, "2026-03-07", 3).await;
        assert_eq!(day["settlements"].as_array().unwrap().len(), 1);
        let mut by_order: Vec<(String, Value)> = lines
            .iter()
            .map(|l| (l["order_id"].as_str().unwrap().to_owned(), figures(l)))
            .collect();
        by_order.sort_by_key(|(id, _)| ["o1", "o2", "o3", "o4"].iter().position(|n| f.order(n) == id));
        let line = |gross, sd, pd, pts, pf, pay, net| json!({
            "revision": 1, "gross": gross, "seller_discount": sd, "platform_discount": pd,
            "points": pts, "platform_fee": pf, "payment_fee": pay, "net": net,
        });
        assert_eq!(by_order.into_iter().map(|(_, v)| v).collect::<Vec<_>>(), [
            line(12_345, 0, 0, 0, 617, 407, 11_321),
            line(60_000, 5_000, 0, 0, 2_750, 1_815, 50_435),
            line(12_345, 0, 3_000, 4_000, 617, 407, 11_321),
            line(10, 0, 0, 0, 1, 0, 9),
        ]);
        // The lines add up to the totals, won for won.
        for key in ["gross", "seller_discount", "platform_discount", "points", "platform_fee", "payment_fee", "net"] {
            let sum: i64 = lines.iter().map(|l| l[key].as_i64().unwrap()).sum();
            assert_eq!(sum, d[key].as_i64().unwrap(), "{key}");
        }

        // T: its line of o3 in revision 1 (settled by hand at 19:00); o5, completed at 23:59:59,
        // in revision 2, the job's correction; o6, completed at 00:00:00, on the next day.
        let t_all: Vec<Value> = settlements(app, t).await.iter().map(|v| {
            let mut f = figures(v);
            f["business_day"] = v["business_day"].clone();
            f
        }).collect();
        let t_day = |day: &str, revision, gross: i64| json!({
            "business_day": day, "revision": revision, "orders": 1, "gross": gross,
            "seller_discount": 0, "platform_discount": 0, "points": 0,
            "platform_fee": gross / 20, "payment_fee": gross * 33 / 1000,
            "net": gross - gross / 20 - gross * 33 / 1000,
        });
        assert_eq!(t_all, [
            t_day("2026-03-07", 1, 20_000),
            t_day("2026-03-07", 2, 20_000),
            t_day("2026-03-08", 1, 20_000),
        ]);
        let (_, t_lines) = day_lines(app, t, "2026-03-07", 100).await;
        let t_orders: Vec<(&str, i64)> = t_lines.iter().map(|l| (l["order_id"].as_str().unwrap(), l["revision"].as_i64().unwrap())).collect();
        assert_eq!(t_orders, [(f.order("o3"), 1), (f.order("o5"), 2)]);
        let (_, next) = day_lines(app, t, "2026-03-08", 100).await;
        assert_eq!(next[0]["order_id"], f.order("o6"));
    }
}

backend_test! {
    async fn reruns_change_nothing_and_a_paid_settlement_never_changes(backend: Backend) {
        let f = fixture(backend).await;
        settle_all(&f).await;
        let (app, s) = (&f.app, &f.s);
        let before = settlements(app, s).await;
        let (_, lines_before) = day_lines(app, s, "2026-03-07", 100).await;
        for day in ["2026-03-04", "2026-03-07", "2026-03-08"] {
            let rerun = settlement::settle(app.state(), day.parse().unwrap(), None, false, &|_| {})
                .await
                .unwrap();
            assert!(rerun.settlements.is_empty(), "{day}: nothing new");
        }
        app.advance(Duration::days(2)).await;
        assert_eq!(settlements(app, s).await, before);
        assert_eq!(day_lines(app, s, "2026-03-07", 100).await.1, lines_before);

        // A payout: recorded once, by an admin only.
        let id = before[1]["id"].as_i64().unwrap();
        let path = format!("/api/v1/admin/settlements/{id}/paid");
        let auth = |u: &TestUser| [("authorization", u.bearer())];
        let send = |u: &TestUser, path: String| {
            let auth = auth(u);
            async move {
                app.send(Method::POST, &path, None, &[(auth[0].0, auth[0].1.as_str())]).await
            }
        };
        assert_eq!(send(s, path.clone()).await.error_code(), "forbidden");
        let paid = send(&f.admin, path.clone()).await;
        paid.assert_status(StatusCode::OK);
        assert_eq!(paid.json()["status"], "paid");
        assert_eq!(at(paid.json()["paid_at"].as_str().unwrap()), app.clock.now());
        let again = send(&f.admin, path).await;
        again.assert_status(StatusCode::CONFLICT);
        assert_eq!(again.error_code(), "settlement_paid");
        send(&f.admin, "/api/v1/admin/settlements/999999/paid".to_owned())
            .await
            .assert_status(StatusCode::NOT_FOUND);
        let after = settlements(app, s).await;
        assert_eq!(figures(&after[1]), figures(&before[1]));
        assert_eq!(after[1]["paid_at"], paid.json()["paid_at"]);

        // Admins list by day and seller.
        let listed = get(app, &f.admin, "/api/v1/admin/settlements?date=2026-03-07").await;
        listed.assert_status(StatusCode::OK);
        assert_eq!(listed.json()["items"].as_array().unwrap().len(), 3, "S's and T's two");
        let only_t = get(app, &f.admin, &format!("/api/v1/admin/settlements?date=2026-03-07&seller_id={}", f.t.id)).await;
        assert_eq!(only_t.json()["items"].as_array().unwrap().len(), 2);
        let page = get(app, &f.admin, "/api/v1/admin/settlements?date=2026-03-07&limit=2").await.json();
        let rest = get(app, &f.admin, &format!("/api/v1/admin/settlements?date=2026-03-07&limit=2&cursor={}", page["next_cursor"].as_str().unwrap())).await.json();
        assert_eq!(page["items"].as_array().unwrap().len() + rest["items"].as_array().unwrap().len(), 3);
        assert!(rest.get("next_cursor").is_none());
    }
}

backend_test! {
    async fn sellers_see_only_their_own_and_get_the_day_as_csv(backend: Backend) {
        let f = fixture(backend).await;
        settle_all(&f).await;
        let app = &f.app;
        let other = app.user(Role::Seller).await;
        assert!(settlements(app, &other).await.is_empty());
        let theirs = get(app, &other, "/api/v1/seller/settlements/2026-03-07").await;
        theirs.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(theirs.error_code(), "not_found");
        let buyer = app.user(Role::Buyer).await;
        assert_eq!(get(app, &buyer, "/api/v1/seller/settlements").await.error_code(), "forbidden");
        assert_eq!(get(app, &f.s, "/api/v1/seller/settlements?cursor=nope").await.error_code(), "invalid_cursor");
        assert_eq!(get(app, &f.s, "/api/v1/admin/settlements").await.error_code(), "forbidden");
        let ranged = get(app, &f.s, "/api/v1/seller/settlements?from=2026-03-05&to=2026-03-31").await.json();
        assert_eq!(ranged["items"].as_array().unwrap().len(), 1);

        let csv = app
            .send(
                Method::GET,
                "/api/v1/seller/settlements/2026-03-07",
                None,
                &[("authorization", &f.s.bearer()), ("accept", "text/csv")],
            )
            .await;
        csv.assert_status(StatusCode::OK);
        assert_eq!(csv.headers["content-type"], "text/csv");
        let text = csv.text();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows[0], "order_id,revision,completed_at,gross,seller_discount,platform_discount,points,platform_fee,payment_fee,net");
        assert_eq!(rows.len(), 5);
        let o2 = rows.iter().find(|r| r.starts_with(f.order("o2"))).unwrap();
        assert!(o2.ends_with(",60000,5000,0,0,2750,1815,50435"), "{o2}");
    }
}

/// The fixture's settlements and lines on one backend, without ids.
async fn settled_rows(backend: Backend) -> Vec<Value> {
    let f = fixture(backend).await;
    settle_all(&f).await;
    let mut rows = Vec::new();
    for seller in [&f.s, &f.t] {
        for s in settlements(&f.app, seller).await {
            let day = s["business_day"].as_str().unwrap().to_owned();
            rows.push(json!({"day": day, "settlement": figures(&s)}));
            if s["revision"] != 1 {
                continue;
            }
            // By order name: order ids differ from run to run.
            let mut lines: Vec<Value> = day_lines(&f.app, seller, &day, 100).await.1.iter().map(|line| {
                let name = f.orders.iter().find(|(_, id)| line["order_id"] == *id).unwrap().0;
                json!({"order": name, "line": figures(line), "completed_at": line["completed_at"]})
            }).collect();
            lines.sort_by_key(|l| l["order"].as_str().unwrap().to_owned());
            rows.extend(lines);
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_settle_the_fixture_to_identical_rows() {
    if !Backend::Postgres.available() {
        return;
    }
    let sqlite = settled_rows(Backend::Sqlite).await;
    assert_eq!(sqlite.len(), 7 + 6, "{sqlite:#?}");
    assert_eq!(settled_rows(Backend::Postgres).await, sqlite);
}
