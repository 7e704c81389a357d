//! Faults in the middle of a sale, against real servers: PostgreSQL cut off for ten seconds,
//! Redis restarted with nothing in it, an SMTP server that accepts and goes silent. While a fault
//! lasts the answers are 503s (or a delay, for mail); afterwards the node recovers without a
//! restart, and no acknowledged order is lost, no unit oversold, no job lost.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use rushline::config::ServiceUrl;
use rushline_domain::{Clock, OrderStatus, Role};
use rushline_gate::PoolKey;
use rushline_store::JobStatus;
use rushline_testkit::{
    Backend, PrivateRedis, SmtpServer, TestApp, TestClient, TestUser, backend_test, orders_of_drop,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::chaos::through_proxy;

/// The nodes' `http.request_timeout`. A fault must be answered with its own 503 well before
/// it: a request that runs into it (503 `request_timeout`) waited on a dependency that was gone,
/// which fails the test.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Past the request timeout and some slack for a loaded machine, a request still unanswered
/// is a hang.
const HANG: Duration = Duration::from_secs(30);

/// Buyers purchasing at once; each retries a 503 with the same key, as a client should.
const WORKERS: usize = 16;

/// A drop of `units`, one per buyer, open now (on the test's clock).
async fn open_drop(app: &TestApp, units: i64) -> Value {
    let seller = app.user(Role::Seller).await;
    let product = app.product(&seller, 129_000, 0).await;
    let now = app.clock.now();
    let response = app
        .send(
            Method::POST,
            "/api/v1/drops",
            Some(json!({
                "product_id": product.id,
                "quantity": units,
                "price": 99_000,
                "opens_at": now + chrono::Duration::minutes(1),
                "closes_at": now + chrono::Duration::hours(1),
                "per_user_limit": 1,
            })),
            &[("authorization", &seller.bearer())],
        )
        .await;
    response.assert_status(StatusCode::CREATED);
    let drop = response.json();
    app.clock
        .set(drop["opens_at"].as_str().unwrap().parse().unwrap());
    drop
}

fn drop_id(drop: &Value) -> Uuid {
    drop["id"].as_str().unwrap().parse().unwrap()
}

/// What the buyers were told.
#[derive(Default)]
struct Tally {
    /// Buyers taken up so far (the next one to take).
    next: AtomicUsize,
    granted: AtomicUsize,
    /// Every 201: the order it acknowledged, and its buyer.
    acknowledged: Mutex<Vec<(Uuid, Uuid)>>,
    /// Every other answer, by status and code.
    answers: Mutex<BTreeMap<String, usize>>,
}

impl Tally {
    fn count(&self, answer: String) {
        *self.answers.lock().unwrap().entry(answer).or_default() += 1;
    }
}

/// Lets [`WORKERS`] buyers at a time purchase one unit each through `client`, every buyer
/// retrying a 503 with the same idempotency key until told 201 or 409, until every buyer has
/// an answer. A 500, an unexpected code or a request that hangs fails the test.
fn rush(client: &TestClient, buyers: &[TestUser], drop: &Value, tally: &Arc<Tally>) -> RushHandle {
    let buyers = Arc::new(buyers.to_vec());
    let path = format!("/api/v1/drops/{}/purchase", drop_id(drop));
    let tasks = (0..WORKERS)
        .map(|_| {
            let (client, buyers, path, tally) =
                (client.clone(), buyers.clone(), path.clone(), tally.clone());
            tokio::spawn(async move {
                loop {
                    let i = tally.next.fetch_add(1, Ordering::SeqCst);
                    let Some(buyer) = buyers.get(i) else {
                        return;
                    };
                    buy_until_answered(&client, &path, buyer, &tally).await;
                }
            })
        })
        .collect();
    RushHandle(tasks)
}

async fn buy_until_answered(client: &TestClient, path: &str, buyer: &TestUser, tally: &Tally) {
    let bearer = buyer.bearer();
    loop {
        let headers = [
            ("authorization", bearer.as_str()),
            ("idempotency-key", "fault"),
        ];
        let request = client.send(Method::POST, path, Some(json!({ "quantity": 1 })), &headers);
        let response = tokio::time::timeout(HANG, request)
            .await
            .unwrap_or_else(|_| panic!("a purchase hung past {HANG:?}"));
        match response.status {
            StatusCode::CREATED => {
                let order = response.json()["order_id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                tally.acknowledged.lock().unwrap().push((order, buyer.id));
                tally.granted.fetch_add(1, Ordering::SeqCst);
                tally.count("201".to_owned());
                return;
            }
            // The first attempt's grant outlived a gate that stopped answering: the order it
            // would have made never comes, and reconciliation undoes the grant, after which the
            // retry claims afresh.
            StatusCode::CONFLICT if response.error_code() == "request_in_progress" => {
                tally.count("409 request_in_progress".to_owned());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            StatusCode::CONFLICT => {
                let code = response.error_code();
                assert!(code == "sold_out" || code == "limit_reached", "409 {code}");
                tally.count(format!("409 {code}"));
                return;
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                let code = response.error_code();
                assert!(
                    code == "database_unavailable" || code == "gate_unavailable",
                    "503 {code}: waited for a dependency that was gone"
                );
                tally.count(format!("503 {code}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("{other} during a fault: {}", response.text()),
        }
    }
}

struct RushHandle(Vec<tokio::task::JoinHandle<()>>);

impl RushHandle {
    async fn finish(self) {
        for task in self.0 {
            task.await.unwrap();
        }
    }
}

/// Waits until `sold` units are acknowledged.
async fn until_granted(tally: &Tally, sold: usize) {
    let waited = async {
        while tally.granted.load(Ordering::SeqCst) < sold {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), waited)
        .await
        .expect("the sale never got going");
}

/// Polls `/readyz` until it answers 200: the node recovered without a restart.
async fn until_ready(node: &TestApp) {
    for _ in 0..300 {
        if node.get("/readyz").await.status == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered 200 again: the node needs a restart");
}

/// The invariants after a sale through a fault: every 201 is an order in the database, the
/// database sold no more than the drop holds and exactly what its claims and orders say, no
/// buyer holds two, and, once reconciled, the gate agrees with the database. Returns the units
/// the database holds.
async fn assert_nothing_lost_nothing_oversold(app: &TestApp, drop: &Value, tally: &Tally) -> u64 {
    let units = drop["quantity"].as_u64().unwrap();
    let id = drop_id(drop);
    let orders = orders_of_drop(&app.state().store, id).await;
    let stored: HashSet<Uuid> = orders.iter().map(|order| order.id).collect();
    let acknowledged = tally.acknowledged.lock().unwrap().clone();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|(order, _)| !stored.contains(order))
        .collect();
    assert!(lost.is_empty(), "acknowledged orders lost: {lost:?}");
    let acknowledged_orders: HashSet<Uuid> = acknowledged.iter().map(|(order, _)| *order).collect();
    assert_eq!(
        acknowledged_orders.len(),
        acknowledged.len(),
        "one order acknowledged twice"
    );

    let pool = PoolKey(format!("drop:{id}"));
    let (row, claims) = app.state().store.pool_snapshot(&pool.0).await.unwrap();
    let held = u64::try_from(row.held).unwrap();
    assert!(held <= units, "oversold: {held} of {units}");
    let claimed: i64 = claims.iter().map(|claim| i64::from(claim.qty)).sum();
    assert_eq!(row.held, claimed, "the pool row and its claims disagree");
    assert_eq!(
        claims.len(),
        orders.len(),
        "an order without its claim, or a claim without its order"
    );
    let mut buyers = HashSet::new();
    assert!(
        claims.iter().all(|claim| buyers.insert(claim.user_id)),
        "a buyer holds more than the limit of one"
    );

    // Reconciliation undoes what the gate still holds of writes that failed during the fault;
    // it leaves grants younger than `gate.orphan_after` alone, hence the clock.
    app.clock
        .advance(chrono::Duration::from_std(app.node.config.gate.orphan_after).unwrap() * 2);
    let (undone, rebuilt) = app
        .state()
        .claims
        .reconcile(&app.state().store, app.clock.now())
        .await
        .unwrap();
    let remaining = app
        .state()
        .claims
        .gate
        .remaining(&pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        remaining,
        units - held,
        "the gate disagrees with the database after reconciliation (undid {undone}, rebuilt {rebuilt})"
    );
    eprintln!(
        "{held} of {units} units held by {} orders; {} acknowledged; reconciliation undid {undone} grants, rebuilt {rebuilt} pools",
        orders.len(),
        acknowledged.len(),
    );
    held
}

/// Sells what the gate has left after reconciliation to buyers who have not tried yet, then
/// checks the drop is sold out exactly.
async fn sell_out(app: &TestApp, node: &TestApp, drop: &Value, tally: &Arc<Tally>, held: u64) {
    let units = drop["quantity"].as_u64().unwrap();
    if held < units {
        let fresh = app
            .users(Role::Buyer, usize::try_from(units - held).unwrap() + 20)
            .await;
        tally.next.store(0, Ordering::SeqCst);
        rush(&node.client(), &fresh, drop, tally).finish().await;
    }
    let held = assert_nothing_lost_nothing_oversold(app, drop, tally).await;
    assert_eq!(held, units, "the drop sells out once the fault is over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_off_for_ten_seconds_mid_sale_loses_no_order_and_oversells_nothing() {
    if !Backend::Postgres.available() {
        return;
    }
    let started = Instant::now();
    let app = TestApp::new(Backend::Postgres).await;
    let (proxy, proxied) = through_proxy(&app.node.config.database_url(), 5432).await;
    // The node the buyers use reaches PostgreSQL through the proxy; `app` (the same database,
    // Redis and gate) sets up and checks directly.
    let node = app
        .another_node()
        .config(|c| {
            c.database.url = Some(proxied);
            c.http.request_timeout = REQUEST_TIMEOUT;
        })
        .build()
        .await;
    let units = 600;
    let drop = open_drop(&app, units).await;
    let buyers = app.users(Role::Buyer, 900).await;

    let tally = Arc::new(Tally::default());
    let sale = rush(&node.client(), &buyers, &drop, &tally);
    until_granted(&tally, 200).await;
    proxy.cut();
    let cut_at = tally.granted.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let granted_during_cut = tally.granted.load(Ordering::SeqCst) - cut_at;
    assert_eq!(
        node.get("/readyz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    proxy.restore();
    sale.finish().await;
    until_ready(&node).await;

    eprintln!(
        "answers: {:?}; {granted_during_cut} granted while cut off",
        tally.answers.lock().unwrap()
    );
    assert!(
        tally
            .answers
            .lock()
            .unwrap()
            .keys()
            .any(|a| a.starts_with("503")),
        "the cut was not felt: no 503"
    );
    let held = assert_nothing_lost_nothing_oversold(&app, &drop, &tally).await;
    sell_out(&app, &node, &drop, &tally, held).await;
    eprintln!("took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_mid_sale_loses_no_order_and_oversells_nothing() {
    if !Backend::Postgres.available() {
        return;
    }
    let Some(mut redis) = PrivateRedis::start().await else {
        return;
    };
    let started = Instant::now();
    // Everything the node keeps in Redis (the gate, waiting rooms, rate limits, the catalog's
    // invalidations) is on the private server.
    let url = ServiceUrl::from(redis.url.as_str());
    let app = TestApp::builder(Backend::Postgres)
        .config(|c| {
            c.gate.url = url.clone();
            c.redis.url = Some(url.clone());
            c.http.request_timeout = REQUEST_TIMEOUT;
        })
        .build()
        .await;
    let units = 600;
    let drop = open_drop(&app, units).await;
    let buyers = app.users(Role::Buyer, 900).await;

    let tally = Arc::new(Tally::default());
    let sale = rush(&app.client(), &buyers, &drop, &tally);
    until_granted(&tally, 200).await;
    // Down for a while (buyers keep trying), then back with nothing in it.
    redis.stop();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        app.get("/readyz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let granted_while_down = tally.granted.load(Ordering::SeqCst);
    redis.restart_empty().await;
    sale.finish().await;
    until_ready(&app).await;

    eprintln!("answers: {:?}", tally.answers.lock().unwrap());
    // The sale went on after Redis came back empty, and the buyers felt it go.
    assert!(
        tally.granted.load(Ordering::SeqCst) > granted_while_down,
        "nothing was sold after the restart"
    );
    assert!(
        tally
            .answers
            .lock()
            .unwrap()
            .contains_key("503 gate_unavailable"),
        "the outage was not felt: no 503 gate_unavailable"
    );
    let held = assert_nothing_lost_nothing_oversold(&app, &drop, &tally).await;
    sell_out(&app, &app, &drop, &tally, held).await;
    eprintln!("took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_gone_silent_mid_sale_is_a_503_not_a_hang_and_loses_nothing() {
    if !Backend::Postgres.available() {
        return;
    }
    let started = Instant::now();
    let app = TestApp::new(Backend::Postgres).await;
    let (proxy, proxied) = through_proxy(app.node.config.redis.url.as_ref().unwrap(), 6379).await;
    // The buyers' node reaches Redis (gate, rooms, rate limits) through the proxy, which keeps
    // its connections open but stops answering: a hung peer, not a gone one.
    let node = app
        .another_node()
        .config(|c| {
            c.gate.url = proxied.clone();
            c.redis.url = Some(proxied);
            c.redis.response_timeout = Duration::from_secs(1);
            c.http.request_timeout = REQUEST_TIMEOUT;
        })
        .build()
        .await;
    // A grant whose answer the stall swallowed cannot be undone while it lasts; reconciliation,
    // on a worker that reaches Redis directly, undoes it once it is older than `orphan_after`.
    let reconciler = app
        .another_node()
        .config(|c| {
            c.gate.reconcile_every = Duration::from_millis(500);
            c.gate.orphan_after = Duration::from_secs(2);
            c.jobs.poll_interval = Duration::from_millis(50);
        })
        .build()
        .await;
    let following = app.follow_real_time();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let worker = tokio::spawn(reconciler.worker().run(shutdown.clone()));
    let units = 600;
    let drop = open_drop(&app, units).await;
    let buyers = app.users(Role::Buyer, 900).await;

    let tally = Arc::new(Tally::default());
    let sale = rush(&node.client(), &buyers, &drop, &tally);
    until_granted(&tally, 200).await;
    proxy.stall();
    tokio::time::sleep(Duration::from_secs(4)).await;
    proxy.restore();
    sale.finish().await;
    until_ready(&node).await;

    let answers = tally.answers.lock().unwrap().clone();
    eprintln!("answers: {answers:?}");
    assert!(
        answers.keys().any(|a| a == "503 gate_unavailable"),
        "the stall was not felt: {answers:?}"
    );
    let held = assert_nothing_lost_nothing_oversold(&app, &drop, &tally).await;
    sell_out(&app, &node, &drop, &tally, held).await;
    shutdown.cancel();
    worker.await.unwrap();
    following.cancel();
    eprintln!("took {:?}", started.elapsed());
}

/// Polls `check` every 50 ms for up to `within`; true once it held.
async fn eventually<F: std::future::Future<Output = bool>>(
    within: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn sign_up(app: &TestApp, email: &str) {
    app.post(
        "/api/v1/auth/signup",
        json!({ "email": email, "password": "s3cret!pw", "name": "Kim Minji" }),
    )
    .await
    .assert_status(StatusCode::CREATED);
}

backend_test! {
    async fn a_stalled_smtp_server_delays_mail_but_no_other_job_and_loses_none(backend: Backend) {
        let started = Instant::now();
        let smtp = SmtpServer::start().await;
        let app = TestApp::builder(backend)
            .config(|c| {
                c.mail.smtp_url = Some(ServiceUrl::from(smtp.url().as_str()));
                c.jobs.poll_interval = Duration::from_millis(20);
                c.jobs.deadlines.insert("send_mail".to_owned(), Duration::from_secs(1).into());
                c.orders.hold_for = Duration::from_secs(2);
            })
            .build()
            .await;
        // Jobs run as in production: a worker polling in the background, on a clock that keeps
        // up with real time.
        let following = app.follow_real_time();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let worker = tokio::spawn(app.worker().run(shutdown.clone()));

        // One message goes through first, so that the mailer has a connection it may reuse.
        sign_up(&app, "before@example.com").await;
        assert!(
            eventually(Duration::from_secs(20), || async {
                smtp.received().iter().any(|m| m.to == ["before@example.com"])
            })
            .await,
            "mail is not delivered even before the stall"
        );

        smtp.stall();
        // Requests do not wait for mail: sign-up answers 201 while SMTP is silent.
        sign_up(&app, "during@example.com").await;
        let store = app.state().store.clone();
        let mail_job = || {
            let store = store.clone();
            async move {
                store
                    .list_jobs(None, 1_000)
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|job| job.kind == "send_mail" && job.payload.to_string().contains("during@example.com"))
            }
        };
        // Another job's work meanwhile: a purchase whose hold runs out, expired by the order
        // lifecycle job while the mail job is stuck.
        let seller = app.user(Role::Seller).await;
        let product = app.product(&seller, 10_000, 0).await;
        let now = app.clock.now();
        let drop = app
            .send(
                Method::POST,
                "/api/v1/drops",
                Some(json!({
                    "product_id": product.id,
                    "quantity": 5,
                    "price": 9_000,
                    "opens_at": now + chrono::Duration::milliseconds(10),
                    "closes_at": now + chrono::Duration::hours(1),
                    "per_user_limit": 1,
                })),
                &[("authorization", &seller.bearer())],
            )
            .await;
        drop.assert_status(StatusCode::CREATED);
        let drop = drop.json();
        let buyer = app.user(Role::Buyer).await;
        let bearer = buyer.bearer();
        let path = format!("/api/v1/drops/{}/purchase", drop_id(&drop));
        // The drop opens 10 ms from now, on a clock that follows real time.
        let headers = [("authorization", bearer.as_str()), ("idempotency-key", "stall")];
        let mut purchase = None;
        for _ in 0..200 {
            let response = app.send(Method::POST, &path, Some(json!({ "quantity": 1 })), &headers).await;
            if response.status == StatusCode::CREATED {
                purchase = Some(response.json());
                break;
            }
            assert_eq!(response.error_code(), "not_open");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let order: Uuid = purchase.expect("the drop never opened")["order_id"].as_str().unwrap().parse().unwrap();
        assert!(
            eventually(Duration::from_secs(20), || async {
                store.order(order).await.unwrap().status == OrderStatus::Expired
            })
            .await,
            "the hold never expired: the stuck mail job held the other jobs back"
        );
        assert!(
            eventually(Duration::from_secs(20), || async {
                mail_job().await.is_some_and(|job| {
                    job.attempts >= 1
                        && job.last_error.as_deref().is_some_and(|e| e.contains("deadline"))
                })
            })
            .await,
            "the mail job was not stopped at its deadline: {:?}",
            mail_job().await
        );
        let stalled = mail_job().await.unwrap();
        assert!(
            matches!(stalled.status, JobStatus::Queued | JobStatus::Running),
            "a stopped attempt is retried: {stalled:?}"
        );
        assert!(
            !smtp.received().iter().any(|m| m.to == ["during@example.com"]),
            "delivered through a silent server"
        );

        smtp.resume();
        assert!(
            eventually(Duration::from_secs(30), || async {
                smtp.received().iter().any(|m| m.to == ["during@example.com"])
            })
            .await,
            "the mail was never delivered once SMTP answered again: {:?}",
            mail_job().await
        );
        assert!(
            eventually(Duration::from_secs(10), || async {
                mail_job().await.is_some_and(|job| job.status == JobStatus::Done)
            })
            .await,
            "{:?}",
            mail_job().await
        );
        // And the next one goes straight through.
        sign_up(&app, "after@example.com").await;
        assert!(
            eventually(Duration::from_secs(20), || async {
                smtp.received().iter().any(|m| m.to == ["after@example.com"])
            })
            .await,
            "mail after the stall is not delivered"
        );
        let jobs = store.list_jobs(None, 1_000).await.unwrap();
        let dead: Vec<_> = jobs.iter().filter(|job| job.status == JobStatus::Dead).collect();
        assert!(dead.is_empty(), "jobs lost: {dead:?}");
        let delivered: HashMap<String, usize> =
            smtp.received().into_iter().fold(HashMap::new(), |mut seen, mail| {
                *seen.entry(mail.to.join(",")).or_default() += 1;
                seen
            });
        assert_eq!(delivered.get("during@example.com"), Some(&1), "{delivered:?}");

        shutdown.cancel();
        worker.await.unwrap();
        following.cancel();
        eprintln!("took {:?}", started.elapsed());
    }
}
