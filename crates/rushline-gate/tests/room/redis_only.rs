//! Redis-only behaviour: the key layout, two nodes on one Redis, an opening shuffle in steps,
//! and Redis going away.

use std::time::Duration;

use futures::future::{LocalBoxFuture, join_all};
use redis::aio::ConnectionManager;
use rushline_gate::GateError;
use rushline_gate::room::{RedisRoom, WaitingRoom};
use rushline_testkit::{PrivateRedis, TestRedis};
use uuid::Uuid;

use crate::support::{
    at, documented_shuffle, is_admitted, join, key, node, patient, position, redis_room, ticket,
    users,
};

async fn keys_share_the_rooms_hash_tag() {
    let Some(redis) = TestRedis::new() else {
        return;
    };
    let room = (redis_room(&redis).await)();
    let spec = patient(60);
    for buyer in users(2) {
        join(&*room, &spec, buyer, at(-60)).await;
    }
    assert_eq!(room.admit(&key(), &spec, at(0)).await.unwrap().admitted, 1);

    let mut keys = redis.keys().unwrap();
    keys.sort();
    let base = format!("{}{{room:{}}}", redis.prefix, key().0);
    assert_eq!(
        keys,
        [":meta", ":passes", ":queue", ":recent", ":users", ":waits"].map(|k| format!("{base}{k}"))
    );
}

async fn two_instances_act_as_one_room() {
    let Some(redis) = TestRedis::new() else {
        return;
    };
    let nodes = [node(&redis).await, node(&redis).await];
    let spec = patient(60);
    let buyers = users(200);

    let joins = buyers.iter().enumerate().map(|(i, &buyer)| {
        let (node, spec) = (nodes[i % 2].clone(), spec.clone());
        async move { join(&*node, &spec, buyer, at(-60)).await.ticket }
    });
    let tickets = join_all(joins).await;
    let mut sorted = tickets.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=200).collect::<Vec<u64>>());
    for (i, &buyer) in buyers.iter().enumerate().take(20) {
        let again = join(&*nodes[(i + 1) % 2], &spec, buyer, at(-30)).await;
        assert_eq!(again.ticket, tickets[i], "the other node knows the place");
    }

    // Both nodes open the room at once: one seed, one shuffle.
    let room = key();
    let opening = nodes.iter().map(|node| node.stats(&room, &spec, at(0)));
    join_all(opening).await;
    let seed = nodes[0].seed(&key()).await.unwrap().unwrap();
    assert_eq!(nodes[1].seed(&key()).await.unwrap(), Some(seed.clone()));
    for (i, &buyer) in documented_shuffle(&seed, &buyers).iter().enumerate() {
        let t = ticket(&*nodes[i % 2], &spec, buyer, at(0)).await;
        assert_eq!(position(&t), Some(i as u64 + 1));
    }

    // Both nodes admit every second; together they keep the room's rate.
    let mut total = 0;
    for second in 0..120 {
        let calls = nodes
            .iter()
            .map(|node| node.admit(&room, &spec, at(second)));
        let admitted: u32 = join_all(calls)
            .await
            .into_iter()
            .map(|a| a.unwrap().admitted)
            .sum();
        assert_eq!(admitted, 1, "at {second} s");
        total += admitted;
    }
    assert_eq!(total, 120);
    let mut admitted = Vec::new();
    for &buyer in &buyers {
        if is_admitted(&ticket(&*nodes[0], &spec, buyer, at(120)).await) {
            admitted.push(buyer);
        }
    }
    assert_eq!(admitted.len(), 120);
    for node in &nodes {
        let stats = node.stats(&key(), &spec, at(120)).await.unwrap();
        assert_eq!(
            (stats.admitted, stats.active, stats.waiting),
            (120, 120, 80)
        );
    }
    assert!(
        nodes[0]
            .consume(&key(), admitted[0], at(120))
            .await
            .unwrap()
    );
    assert!(
        !nodes[1]
            .consume(&key(), admitted[0], at(120))
            .await
            .unwrap()
    );
}

async fn a_big_prequeue_opens_in_steps() {
    let Some(redis) = TestRedis::new() else {
        return;
    };
    // Several shuffle steps' worth, opened by two nodes at once.
    let nodes = [node(&redis).await, node(&redis).await];
    let spec = patient(60);
    let buyers = users(9_000);
    let room = key();
    for chunk in buyers.chunks(1_000) {
        let joins = chunk
            .iter()
            .map(|&buyer| nodes[0].join(&room, &spec, buyer, at(-60)));
        join_all(joins).await;
    }
    let late = Uuid::new_v4();
    let (status, joined, stats) = futures::join!(
        ticket(&*nodes[0], &spec, buyers[0], at(0)),
        join(&*nodes[1], &spec, late, at(0)),
        nodes[1].stats(&room, &spec, at(0)),
    );
    assert!(position(&status).is_some());
    assert_eq!(position(&joined), Some(9_001), "behind the whole pre-queue");
    // Before or after the late join, which ran concurrently.
    assert!((9_000..=9_001).contains(&stats.unwrap().waiting));

    let seed = nodes[1].seed(&room).await.unwrap().unwrap();
    let line = documented_shuffle(&seed, &buyers);
    let statuses = line.iter().enumerate().map(|(i, &buyer)| {
        let (node, spec) = (nodes[i % 2].clone(), spec.clone());
        async move { (i, ticket(&*node, &spec, buyer, at(1)).await) }
    });
    for (i, t) in join_all(statuses).await {
        assert_eq!(position(&t), Some(i as u64 + 1));
    }
}

async fn unavailable_when_redis_is_down() {
    let Some(mut server) = PrivateRedis::start().await else {
        return;
    };
    let client = redis::Client::open(server.url.as_str()).unwrap();
    let conn = ConnectionManager::new(client).await.unwrap();
    let room = RedisRoom::new(conn, "rushline:");
    let spec = patient(60);
    join(&room, &spec, Uuid::new_v4(), at(0)).await;

    server.stop();
    let answer = tokio::time::timeout(
        Duration::from_secs(30),
        room.join(&key(), &spec, Uuid::new_v4(), at(1)),
    )
    .await
    .expect("an answer, not a hang");
    assert!(
        matches!(answer, Err(GateError::Unavailable(_))),
        "{answer:?}"
    );
}

pub type Test = fn() -> LocalBoxFuture<'static, ()>;

/// Every test here, run by `main.rs`; one left out of this table is dead code, which this test
/// target denies.
pub const TESTS: &[(&str, Test)] = &[
    ("keys_share_the_rooms_hash_tag", || {
        Box::pin(keys_share_the_rooms_hash_tag())
    }),
    ("two_instances_act_as_one_room", || {
        Box::pin(two_instances_act_as_one_room())
    }),
    ("a_big_prequeue_opens_in_steps", || {
        Box::pin(a_big_prequeue_opens_in_steps())
    }),
    ("unavailable_when_redis_is_down", || {
        Box::pin(unavailable_when_redis_is_down())
    }),
];
