//! `kill -9` of a node in the middle of a burst of purchases: every order that got a 201 is in
//! the database after a restart, and nothing is oversold, on both backend pairs.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use rushline_app::identity::AccessTokens;
use rushline_domain::{ProductStatus, Role, Won};
use rushline_store::{Product, ProductDrop, Store, User};
use rushline_testkit::{Backend, TestDb, TestRedis, orders_of_drop};
use tokio::process::{Child, Command};
use uuid::Uuid;

pub(crate) const SECRET: &str = "crash-test-secret-crash-test-secret!";
const QUANTITY: i64 = 400;

pub(crate) struct Node {
    pub child: Child,
    pub url: String,
}

/// Starts `rushline serve` as a child process on the given backends, with `env` besides.
pub(crate) async fn start(
    db_url: &str,
    redis: Option<&TestRedis>,
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
) -> Node {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rushline"));
    command
        .args(["serve", "--no-migrate"])
        // Reconcile often, so that grants orphaned by the kill are undone within the test.
        .env("RUSHLINE_GATE__RECONCILE_EVERY", "1s")
        .env("RUSHLINE_GATE__ORPHAN_AFTER", "2s")
        .env("RUSHLINE_HTTP__ADDR", format!("127.0.0.1:{port}"))
        .env("RUSHLINE_DATA_DIR", data_dir)
        .env("RUSHLINE_DATABASE__URL", db_url)
        .env("RUSHLINE_AUTH__JWT_SECRET", SECRET)
        .env("RUSHLINE_LOG__LEVEL", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    if let Some(redis) = redis {
        command
            .env("RUSHLINE_GATE__URL", &redis.url)
            .env("RUSHLINE_REDIS__URL", &redis.url)
            .env("RUSHLINE_REDIS__KEY_PREFIX", &redis.prefix);
    }
    let child = command.spawn().expect("start rushline");
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if client.get(format!("{url}/healthz")).send().await.is_ok() {
            return Node { child, url };
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("rushline did not start");
}

/// A seller, `buyers` buyers and an open drop of `QUANTITY` units, written straight to the store.
pub(crate) async fn sale(store: &Arc<dyn Store>, buyers: usize) -> (Uuid, Vec<Uuid>) {
    let now = Utc::now();
    let user = |role: Role| {
        let id = Uuid::now_v7();
        User {
            id,
            email: format!("{id}@crash.example"),
            name: "crash".into(),
            role,
            password_hash: "-".into(),
            verified_at: Some(now),
            created_at: now,
            updated_at: now,
        }
    };
    let seller = user(Role::Seller);
    let buyers: Vec<User> = (0..buyers).map(|_| user(Role::Buyer)).collect();
    store.insert_user(&seller).await.unwrap();
    store.insert_users(&buyers).await.unwrap();
    let product = Product {
        id: Uuid::now_v7(),
        seller_id: seller.id,
        name: "p".into(),
        description: String::new(),
        category: "c".into(),
        price: Won::new(1_000),
        stock: 0,
        status: ProductStatus::Active,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        max_per_order: rushline_domain::catalog::DEFAULT_MAX_PER_ORDER,
    };
    store.insert_product(&product).await.unwrap();
    let drop = ProductDrop {
        id: Uuid::now_v7(),
        product_id: product.id,
        seller_id: seller.id,
        quantity: QUANTITY,
        price: Won::new(1_000),
        opens_at: now - TimeDelta::seconds(1),
        closes_at: now + TimeDelta::hours(1),
        per_user_limit: 1,
        created_at: now,
        updated_at: now,
        opened_at: None,
        closed_at: None,
        waiting_room: None,
        queue_seed: None,
        allocation: rushline_domain::Allocation::Fcfs,
        raffle: None,
    };
    store.create_drop(&drop, None, &[]).await.unwrap();
    (drop.id, buyers.iter().map(|b| b.id).collect())
}

/// Every buyer tries once; returns the order ids of the 201s.
async fn burst(url: String, drop: Uuid, buyers: Vec<Uuid>, granted: Arc<AtomicUsize>) -> Vec<Uuid> {
    let tokens = AccessTokens::new(SECRET.as_bytes(), TimeDelta::hours(1));
    let client = reqwest::Client::new();
    let tasks: Vec<_> = buyers
        .iter()
        .map(|buyer| {
            let token = tokens.issue(*buyer, Role::Buyer, Utc::now());
            let request = client
                .post(format!("{url}/api/v1/drops/{drop}/purchase"))
                .bearer_auth(token)
                .header("idempotency-key", "crash")
                .json(&serde_json::json!({ "quantity": 1 }));
            let granted = granted.clone();
            tokio::spawn(async move {
                let response = request.send().await.ok()?;
                if response.status() != reqwest::StatusCode::CREATED {
                    return None;
                }
                let body: serde_json::Value = response.json().await.ok()?;
                granted.fetch_add(1, Ordering::SeqCst);
                body["order_id"].as_str()?.parse::<Uuid>().ok()
            })
        })
        .collect();
    let mut orders = Vec::new();
    for task in tasks {
        orders.extend(task.await.unwrap());
    }
    orders
}

async fn kill_mid_burst_then_restart(backend: Backend) {
    let (db, redis) = match backend {
        Backend::Sqlite => (TestDb::sqlite().await, None),
        Backend::Postgres => (TestDb::postgres().await.unwrap(), TestRedis::new()),
    };
    let data_dir = tempfile::tempdir().unwrap();
    let (drop, buyers) = sale(&db.store, 1_200).await;

    let mut node = start(&db.url, redis.as_ref(), data_dir.path(), &[]).await;
    let granted = Arc::new(AtomicUsize::new(0));
    let firing = tokio::spawn(burst(
        node.url.clone(),
        drop,
        buyers[..800].to_vec(),
        granted.clone(),
    ));
    while granted.load(Ordering::SeqCst) < 100 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    node.child.start_kill().unwrap(); // SIGKILL
    node.child.wait().await.unwrap();
    let acknowledged = firing.await.unwrap();
    assert!(acknowledged.len() >= 100);

    for order in &acknowledged {
        db.store
            .order(*order)
            .await
            .unwrap_or_else(|e| panic!("acknowledged order {order} was lost: {e}"));
    }
    let restarted = start(&db.url, redis.as_ref(), data_dir.path(), &[]).await;
    // Buyers retry until the drop sells out. The memory gate rebuilt itself from the database at
    // start; the Redis gate kept the dead node's grants that never reached the database, until
    // reconciliation undoes them.
    let mut orders = Vec::new();
    for _ in 0..60 {
        burst(restarted.url.clone(), drop, buyers.clone(), Arc::default()).await;
        orders = orders_of_drop(&db.store, drop).await;
        if orders.len() as i64 >= QUANTITY {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        orders.len() as i64,
        QUANTITY,
        "sold out exactly, never more"
    );
    let (pool, claims) = db
        .store
        .pool_snapshot(&format!("drop:{drop}"))
        .await
        .unwrap();
    assert_eq!((pool.held, claims.len() as i64), (QUANTITY, QUANTITY));
    let mut buyers_with_orders: Vec<Uuid> = orders.iter().map(|order| order.buyer_id).collect();
    buyers_with_orders.sort();
    buyers_with_orders.dedup();
    assert_eq!(
        buyers_with_orders.len() as i64,
        QUANTITY,
        "nobody over the limit of one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_order_through_kill_9() {
    kill_mid_burst_then_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_redis_keep_every_acknowledged_order_through_kill_9() {
    if Backend::Postgres.available() {
        kill_mid_burst_then_restart(Backend::Postgres).await;
    }
}
