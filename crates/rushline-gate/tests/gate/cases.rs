//! Backend-agnostic test bodies; `main.rs` runs each against every backend.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::{LocalBoxFuture, join_all};
use rushline_gate::{ActiveGrant, Claim, ClaimOutcome, GateError, Hold, PoolSnapshot};
use uuid::Uuid;

use crate::support::{FakeDb, NewGate, claim, pool};
use ClaimOutcome::{Granted, LimitReached, Mismatch, Replayed, SoldOut};

async fn grant_sold_out_and_limit(new_gate: &NewGate) {
    let db = FakeDb::with_pool(3, 2);
    let gate = new_gate(db.clone());
    let (alice, bob, carol) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());

    assert_eq!(
        gate.claim(&pool(), &claim(alice, 1)).await.unwrap(),
        Granted { seq: 1 }
    );
    assert_eq!(
        gate.claim(&pool(), &claim(alice, 1)).await.unwrap(),
        Granted { seq: 2 }
    );
    assert_eq!(
        gate.claim(&pool(), &claim(alice, 1)).await.unwrap(),
        LimitReached
    );
    assert_eq!(
        gate.claim(&pool(), &claim(bob, 1)).await.unwrap(),
        Granted { seq: 3 }
    );
    assert_eq!(
        gate.claim(&pool(), &claim(carol, 1)).await.unwrap(),
        SoldOut
    );
    // The limit is checked before the stock.
    assert_eq!(
        gate.claim(&pool(), &claim(alice, 1)).await.unwrap(),
        LimitReached
    );
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(0));
    assert_eq!(db.loads(), 1, "a loaded pool must not be read again");
}

async fn qty_counts_in_units(new_gate: &NewGate) {
    let gate = new_gate(FakeDb::with_pool(5, 3));
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());

    assert_eq!(
        gate.claim(&pool(), &claim(alice, 2)).await.unwrap(),
        Granted { seq: 1 }
    );
    assert_eq!(
        gate.claim(&pool(), &claim(alice, 2)).await.unwrap(),
        LimitReached
    );
    assert_eq!(
        gate.claim(&pool(), &claim(bob, 3)).await.unwrap(),
        Granted { seq: 2 }
    );
    // Two units remain for alice's one: still not enough for a claim of two.
    assert_eq!(
        gate.claim(&pool(), &claim(Uuid::new_v4(), 2))
            .await
            .unwrap(),
        SoldOut
    );
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(0));
}

async fn replay_and_mismatch(new_gate: &NewGate) {
    let gate = new_gate(FakeDb::with_pool(10, 5));
    let first = claim(Uuid::new_v4(), 2);

    assert_eq!(
        gate.claim(&pool(), &first).await.unwrap(),
        Granted { seq: 1 }
    );
    assert_eq!(
        gate.claim(&pool(), &first).await.unwrap(),
        Replayed { seq: 1 }
    );
    let other_body = Claim {
        fingerprint: 99,
        ..first
    };
    assert_eq!(gate.claim(&pool(), &other_body).await.unwrap(), Mismatch);
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(8));
    // Replays take no seq.
    assert_eq!(
        gate.claim(&pool(), &claim(first.user, 1)).await.unwrap(),
        Granted { seq: 2 }
    );

    // A retry after the grant was released still answers with the first outcome.
    assert!(gate.release(&pool(), first.request_id).await.unwrap());
    assert_eq!(
        gate.claim(&pool(), &first).await.unwrap(),
        Replayed { seq: 1 }
    );
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(9));
}

async fn release_is_idempotent_and_gives_back(new_gate: &NewGate) {
    let gate = new_gate(FakeDb::with_pool(2, 1));
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let alices = claim(alice, 1);

    assert_eq!(
        gate.claim(&pool(), &alices).await.unwrap(),
        Granted { seq: 1 }
    );
    assert_eq!(
        gate.claim(&pool(), &claim(bob, 1)).await.unwrap(),
        Granted { seq: 2 }
    );
    assert_eq!(
        gate.claim(&pool(), &claim(Uuid::new_v4(), 1))
            .await
            .unwrap(),
        SoldOut
    );

    assert!(gate.release(&pool(), alices.request_id).await.unwrap());
    assert!(!gate.release(&pool(), alices.request_id).await.unwrap());
    assert!(!gate.release(&pool(), Uuid::new_v4()).await.unwrap());
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(1));
    // Both the unit and alice's count came back, once.
    assert_eq!(
        gate.claim(&pool(), &claim(alice, 1)).await.unwrap(),
        Granted { seq: 3 }
    );
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(0));
}

async fn abort_forgets_the_grant_so_a_retry_claims_afresh(new_gate: &NewGate) {
    let gate = new_gate(FakeDb::with_pool(1, 1));
    let alice = Uuid::new_v4();
    let first = claim(alice, 1);
    assert_eq!(
        gate.claim(&pool(), &first).await.unwrap(),
        Granted { seq: 1 }
    );
    assert_eq!(
        gate.claim(&pool(), &claim(Uuid::new_v4(), 1))
            .await
            .unwrap(),
        SoldOut
    );

    assert!(gate.abort(&pool(), first.request_id).await.unwrap());
    assert!(!gate.abort(&pool(), first.request_id).await.unwrap());
    assert!(!gate.release(&pool(), first.request_id).await.unwrap());
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(1));
    // The same request id is a new claim now, not a replay of the undone one.
    assert_eq!(
        gate.claim(&pool(), &first).await.unwrap(),
        Granted { seq: 2 }
    );

    // Aborting a released grant gives nothing back twice.
    assert!(gate.release(&pool(), first.request_id).await.unwrap());
    assert!(!gate.abort(&pool(), first.request_id).await.unwrap());
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(1));
}

async fn grants_and_pools_show_the_gates_state(new_gate: &NewGate) {
    let db = FakeDb::with_pool(10, 5);
    let gate = new_gate(db);
    assert!(gate.pools().await.unwrap().is_empty(), "nothing loaded yet");
    assert!(
        gate.grants(&pool()).await.unwrap().is_empty(),
        "grants never loads a pool"
    );
    assert!(gate.pools().await.unwrap().is_empty());

    let alice = Uuid::new_v4();
    let first = Claim {
        at: 11,
        ..claim(alice, 2)
    };
    let second = Claim {
        at: 22,
        ..claim(alice, 1)
    };
    gate.claim(&pool(), &first).await.unwrap();
    gate.claim(&pool(), &second).await.unwrap();
    gate.release(&pool(), second.request_id).await.unwrap();
    assert_eq!(gate.pools().await.unwrap(), vec![pool()]);
    assert_eq!(
        gate.grants(&pool()).await.unwrap(),
        vec![ActiveGrant {
            request_id: first.request_id,
            qty: 2,
            at: 11
        }]
    );

    gate.invalidate(&pool()).await.unwrap();
    assert!(gate.pools().await.unwrap().is_empty());
    assert!(gate.grants(&pool()).await.unwrap().is_empty());
}

async fn unknown_pool(new_gate: &NewGate) {
    let db = Arc::new(FakeDb::default());
    let gate = new_gate(db.clone());
    let user = Uuid::new_v4();

    let claimed = gate.claim(&pool(), &claim(user, 1)).await;
    assert!(
        matches!(claimed, Err(GateError::UnknownPool)),
        "{claimed:?}"
    );
    let released = gate.release(&pool(), Uuid::new_v4()).await;
    assert!(
        matches!(released, Err(GateError::UnknownPool)),
        "{released:?}"
    );
    assert_eq!(gate.remaining(&pool()).await.unwrap(), None);
    gate.invalidate(&pool()).await.unwrap();

    // A missing pool is not remembered as missing.
    db.put(PoolSnapshot {
        total: 1,
        per_user_limit: 1,
        last_seq: 0,
        holds: Vec::new(),
    });
    assert_eq!(
        gate.claim(&pool(), &claim(user, 1)).await.unwrap(),
        Granted { seq: 1 }
    );
}

async fn snapshot_holds_and_seq(new_gate: &NewGate) {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let hold = |user, qty, seq| Hold {
        request_id: Uuid::new_v4(),
        user,
        qty,
        seq,
        fingerprint: u64::from(qty),
    };
    let (alices, bobs) = (hold(alice, 2, 38), hold(bob, 1, 41));
    let db = Arc::new(FakeDb::default());
    db.put(PoolSnapshot {
        total: 10,
        per_user_limit: 2,
        last_seq: 41,
        holds: vec![alices.clone(), bobs.clone()],
    });
    let gate = new_gate(db);

    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(7));
    assert_eq!(
        gate.claim(&pool(), &claim(alice, 1)).await.unwrap(),
        LimitReached
    );
    let alices_retry = Claim {
        user: alice,
        qty: 2,
        request_id: alices.request_id,
        fingerprint: alices.fingerprint,
        at: 1,
    };
    assert_eq!(
        gate.claim(&pool(), &alices_retry).await.unwrap(),
        Replayed { seq: 38 }
    );
    let reused_key = Claim {
        fingerprint: 7,
        ..alices_retry
    };
    assert_eq!(gate.claim(&pool(), &reused_key).await.unwrap(), Mismatch);

    assert_eq!(
        gate.claim(&pool(), &claim(bob, 1)).await.unwrap(),
        Granted { seq: 42 }
    );
    assert_eq!(
        gate.claim(&pool(), &claim(bob, 1)).await.unwrap(),
        LimitReached
    );
    assert!(gate.release(&pool(), alices.request_id).await.unwrap());
    assert_eq!(
        gate.claim(&pool(), &claim(alice, 2)).await.unwrap(),
        Granted { seq: 43 }
    );
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(6));
}

async fn invalidate_reloads_from_source(new_gate: &NewGate) {
    let db = FakeDb::with_pool(5, u32::MAX);
    let gate = new_gate(db.clone());
    let first = claim(Uuid::new_v4(), 2);
    let Granted { seq } = gate.claim(&pool(), &first).await.unwrap() else {
        panic!("the first claim must be granted");
    };
    assert!(db.commit(Hold {
        request_id: first.request_id,
        user: first.user,
        qty: first.qty,
        seq,
        fingerprint: first.fingerprint,
    }));

    db.set_total(8);
    assert_eq!(
        gate.remaining(&pool()).await.unwrap(),
        Some(3),
        "no re-read before invalidate"
    );
    gate.invalidate(&pool()).await.unwrap();
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(6));
    assert_eq!(db.loads(), 2);
    assert_eq!(
        gate.claim(&pool(), &first).await.unwrap(),
        Replayed { seq: 1 }
    );
    assert_eq!(
        gate.claim(&pool(), &claim(Uuid::new_v4(), 1))
            .await
            .unwrap(),
        Granted { seq: 2 }
    );
}

async fn a_reloaded_pool_never_gives_a_seq_again(new_gate: &NewGate) {
    let db = FakeDb::with_pool(10, u32::MAX);
    let gate = new_gate(db.clone());
    // Three grants still in their group commit: the database has none of them yet.
    for _ in 0..3 {
        gate.claim(&pool(), &claim(Uuid::new_v4(), 1))
            .await
            .unwrap();
    }
    gate.invalidate(&pool()).await.unwrap();
    assert_eq!(
        gate.claim(&pool(), &claim(Uuid::new_v4(), 1))
            .await
            .unwrap(),
        Granted { seq: 4 },
        "seqs 1 to 3 may still commit"
    );
}

/// Claims racing with invalidations of their pool, none of them committed yet: every grant still
/// gets a seq of its own.
async fn seqs_stay_unique_while_the_pool_is_invalidated(new_gate: &NewGate) {
    let gate = new_gate(FakeDb::with_pool(100_000, u32::MAX));
    let claims = (0..2_000).map(|_| {
        let gate = gate.clone();
        tokio::spawn(async move {
            gate.claim(&pool(), &claim(Uuid::new_v4(), 1))
                .await
                .unwrap()
        })
    });
    let invalidations = (0..50).map(|_| {
        let gate = gate.clone();
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            gate.invalidate(&pool()).await.unwrap();
        })
    });
    let invalidated = join_all(invalidations);
    let (outcomes, _) = tokio::join!(join_all(claims), invalidated);
    let mut seqs: Vec<u64> = outcomes
        .into_iter()
        .map(|outcome| match outcome.unwrap() {
            Granted { seq } => seq,
            other => panic!("every claim is granted: {other:?}"),
        })
        .collect();
    seqs.sort_unstable();
    let granted = seqs.len();
    seqs.dedup();
    assert_eq!(seqs.len(), granted, "a seq was given twice");
}

async fn concurrent_claims_limit_1(new_gate: &NewGate) {
    concurrent_claims(new_gate, 1).await;
}

async fn concurrent_claims_limit_3(new_gate: &NewGate) {
    concurrent_claims(new_gate, 3).await;
}

/// 10,000 claims from 5,000 users for 1,000 units: every user claims once, and 250 of them
/// also claim 20 more times, interleaved, so that the limit binds while stock lasts.
async fn concurrent_claims(new_gate: &NewGate, limit: u32) {
    const TOTAL: u64 = 1_000;
    let gate = new_gate(FakeDb::with_pool(TOTAL, limit));
    let users: Vec<Uuid> = (0..5_000).map(|_| Uuid::new_v4()).collect();

    let tasks = (0..10_000).map(|i| {
        let gate = gate.clone();
        let user = if i % 2 == 0 {
            users[i / 2]
        } else {
            users[i / 2 % 250]
        };
        tokio::spawn(async move { (user, gate.claim(&pool(), &claim(user, 1)).await.unwrap()) })
    });
    let mut seqs = Vec::new();
    let mut granted_by_user: HashMap<Uuid, u32> = HashMap::new();
    for outcome in join_all(tasks).await {
        match outcome.unwrap() {
            (user, Granted { seq }) => {
                seqs.push(seq);
                *granted_by_user.entry(user).or_default() += 1;
            }
            (_, SoldOut | LimitReached) => {}
            (_, other) => panic!("unexpected {other:?}"),
        }
    }

    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=TOTAL).collect::<Vec<_>>(),
        "seqs must be exactly 1..=granted"
    );
    assert!(granted_by_user.values().all(|&n| n <= limit));
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(0));
}

async fn concurrent_replays_grant_once(new_gate: &NewGate) {
    let gate = new_gate(FakeDb::with_pool(10, 5));
    let retried = claim(Uuid::new_v4(), 2);

    let tasks = (0..200).map(|_| {
        let gate = gate.clone();
        tokio::spawn(async move { gate.claim(&pool(), &retried).await.unwrap() })
    });
    let outcomes: Vec<ClaimOutcome> = join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Granted { seq: 1 })
            .count(),
        1
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Replayed { seq: 1 })
            .count(),
        199
    );
    assert_eq!(gate.remaining(&pool()).await.unwrap(), Some(8));
}

/// Half the winners give their unit back (twice, to race idempotency) while others claim.
async fn concurrent_claims_and_releases(new_gate: &NewGate) {
    const TOTAL: u64 = 100;
    let gate = new_gate(FakeDb::with_pool(TOTAL, u32::MAX));

    let tasks = (0..2_000).map(|i| {
        let gate = gate.clone();
        tokio::spawn(async move {
            let c = claim(Uuid::new_v4(), 1);
            let granted = matches!(gate.claim(&pool(), &c).await.unwrap(), Granted { .. });
            let mut released = 0;
            if granted && i % 2 == 0 {
                for _ in 0..2 {
                    released += u64::from(gate.release(&pool(), c.request_id).await.unwrap());
                }
                assert_eq!(released, 1, "a release counts only once");
            }
            (u64::from(granted), released)
        })
    });
    let (mut granted, mut released) = (0, 0);
    for counts in join_all(tasks).await {
        let (g, r) = counts.unwrap();
        granted += g;
        released += r;
    }

    assert!(granted - released <= TOTAL);
    assert_eq!(
        gate.remaining(&pool()).await.unwrap(),
        Some(TOTAL - (granted - released))
    );
}

/// A case: a test body for any gate, given a way to build the one under test.
pub type Case = fn(Box<NewGate>) -> LocalBoxFuture<'static, ()>;

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        &[$((stringify!($case), |new_gate| Box::pin(async move { $case(&new_gate).await }))),*]
    };
}

/// Every case, run by `main.rs` against every backend. The cases are private, so one left out
/// of this table is dead code, which this test target denies.
pub const CASES: &[(&str, Case)] = cases![
    grant_sold_out_and_limit,
    qty_counts_in_units,
    replay_and_mismatch,
    release_is_idempotent_and_gives_back,
    abort_forgets_the_grant_so_a_retry_claims_afresh,
    grants_and_pools_show_the_gates_state,
    unknown_pool,
    snapshot_holds_and_seq,
    invalidate_reloads_from_source,
    a_reloaded_pool_never_gives_a_seq_again,
    seqs_stay_unique_while_the_pool_is_invalidated,
    concurrent_claims_limit_1,
    concurrent_claims_limit_3,
    concurrent_replays_grant_once,
    concurrent_claims_and_releases,
];
