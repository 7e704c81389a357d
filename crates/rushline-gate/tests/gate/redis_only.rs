//! Redis-only behaviour: the key layout, and rebuilding after Redis lost everything.

use std::sync::Arc;

use futures::future::{LocalBoxFuture, join_all};
use redis::aio::ConnectionManager;
use rushline_gate::{ClaimOutcome, Gate, Hold, RedisGate};
use rushline_testkit::{PrivateRedis, TestRedis};
use uuid::Uuid;

use crate::support::{FakeDb, claim, pool, redis_gate};

async fn keys_share_the_pools_hash_tag() {
    let Some(redis) = TestRedis::new() else {
        return;
    };
    let gate = (redis_gate(&redis).await)(FakeDb::with_pool(1, 1));
    gate.claim(&pool(), &claim(Uuid::new_v4(), 1))
        .await
        .unwrap();

    let mut keys = redis.keys().unwrap();
    keys.sort();
    let base = format!("{}{{pool:{}}}", redis.prefix, pool().0);
    assert_eq!(
        keys,
        [":grants", ":meta", ":users"].map(|k| format!("{base}{k}"))
    );
}

/// Claims concurrently, spread over `nodes`, committing every grant to `db` right away as the
/// store would; returns the grants as (seq, request id).
async fn burst(
    nodes: &[Arc<dyn Gate>],
    db: &Arc<FakeDb>,
    users: &[Uuid],
    claims: usize,
) -> Vec<(u64, Uuid)> {
    let tasks = (0..claims).map(|i| {
        let (gate, db, user) = (
            nodes[i % nodes.len()].clone(),
            db.clone(),
            users[i % users.len()],
        );
        tokio::spawn(async move {
            let c = claim(user, 1);
            let ClaimOutcome::Granted { seq } = gate.claim(&pool(), &c).await.unwrap() else {
                return None;
            };
            let hold = Hold {
                request_id: c.request_id,
                user,
                qty: 1,
                seq,
                fingerprint: c.fingerprint,
            };
            assert!(
                db.commit(hold),
                "the database refused grant {seq}: the gate oversold"
            );
            Some((seq, c.request_id))
        })
    });
    join_all(tasks)
        .await
        .into_iter()
        .filter_map(Result::unwrap)
        .collect()
}

async fn rebuilds_from_the_source_after_flushall() {
    let Some(server) = PrivateRedis::start().await else {
        return;
    };
    let client = redis::Client::open(server.url.as_str()).unwrap();
    let db = FakeDb::with_pool(1_000, 2);
    // Two nodes with their own connections, racing to rebuild the same pool.
    let mut nodes: Vec<Arc<dyn Gate>> = Vec::new();
    for _ in 0..2 {
        let conn = ConnectionManager::new(client.clone()).await.unwrap();
        nodes.push(Arc::new(RedisGate::new(conn, "rushline:", db.clone())));
    }
    let users: Vec<Uuid> = (0..2_000).map(|_| Uuid::new_v4()).collect();

    // 200 users take their limit of 2.
    let before = burst(&nodes[..1], &db, &users[..200], 400).await;
    assert_eq!(before.len(), 400);

    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("FLUSHALL").exec_async(&mut conn).await.unwrap();

    // Everyone tries twice more; the first 200 users must still be at their limit.
    let after = burst(&nodes, &db, &users, 4_000).await;
    assert_eq!(
        after.len(),
        600,
        "the rebuilt gate sells exactly what the database has left"
    );
    assert!(
        after.iter().all(|&(seq, _)| seq > 400),
        "seq continues after the source's last_seq"
    );
    let mut seqs: Vec<u64> = before.iter().chain(&after).map(|&(seq, _)| seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=1_000).collect::<Vec<_>>());
    // One initial load, then one rebuild per node at most.
    assert!((2..=3).contains(&db.loads()), "loads: {}", db.loads());

    for node in &nodes {
        assert_eq!(node.remaining(&pool()).await.unwrap(), Some(0));
    }
    // A grant from before the loss is in the rebuilt state and can be given back.
    let (_, lost_request) = before[0];
    assert!(nodes[1].release(&pool(), lost_request).await.unwrap());
    db.release(lost_request);
    assert_eq!(nodes[0].remaining(&pool()).await.unwrap(), Some(1));
    let late = nodes[0]
        .claim(&pool(), &claim(Uuid::new_v4(), 1))
        .await
        .unwrap();
    assert_eq!(late, ClaimOutcome::Granted { seq: 1_001 });
}

pub type Test = fn() -> LocalBoxFuture<'static, ()>;

/// Every test here, run by `main.rs`; one left out of this table is dead code, which this test
/// target denies.
pub const TESTS: &[(&str, Test)] = &[
    ("keys_share_the_pools_hash_tag", || {
        Box::pin(keys_share_the_pools_hash_tag())
    }),
    ("rebuilds_from_the_source_after_flushall", || {
        Box::pin(rebuilds_from_the_source_after_flushall())
    }),
];
