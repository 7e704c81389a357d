//! The job queue: claiming, leases, retries, dedupe.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::{DbError, JobStatus, NewJob, Store};

pub(crate) fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T09:00:00.123456Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub async fn jobs_are_claimed_once_then_completed(store: Arc<dyn Store>) {
    let now = t0();
    let job = NewJob::new("send_mail", json!({"to": "a@example.com"}), now);
    let id = store.enqueue(&job, now).await.unwrap().unwrap();

    let claimed = store
        .claim_jobs(now, Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let row = &claimed[0];
    assert_eq!(row.id, id);
    assert_eq!(row.kind, "send_mail");
    assert_eq!(row.payload, json!({"to": "a@example.com"}));
    assert_eq!(row.status, JobStatus::Running);
    assert_eq!(row.attempts, 1);
    assert_eq!(row.run_at, now);
    assert_eq!(row.locked_until, Some(now + Duration::minutes(5)));

    let again = store
        .claim_jobs(now, Duration::minutes(5), 10)
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "a running job under lease was claimed twice"
    );

    let kept = json!({"to": "a@example.com", "text": "(removed)"});
    store.complete_job(id, 1, Some(&kept), now).await.unwrap();
    let done = store.get_job(id).await.unwrap();
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.payload, kept);
    assert_eq!(done.locked_until, None);
    let later = now + Duration::hours(1);
    assert!(
        store
            .claim_jobs(later, Duration::minutes(5), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn jobs_not_due_are_not_claimed(store: Arc<dyn Store>) {
    let now = t0();
    let due = now + Duration::seconds(30);
    store
        .enqueue(&NewJob::new("later", json!(null), due), now)
        .await
        .unwrap();
    assert!(
        store
            .claim_jobs(now, Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let one_us_early = due - Duration::microseconds(1);
    assert!(
        store
            .claim_jobs(one_us_early, Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .claim_jobs(due, Duration::minutes(1), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn jobs_with_a_dedupe_key_enqueue_once(store: Arc<dyn Store>) {
    let now = t0();
    let job = NewJob::new("tick", json!({}), now).dedupe_key("tick@2026-03-01T09:00:00Z");
    assert!(store.enqueue(&job, now).await.unwrap().is_some());
    assert_eq!(store.enqueue(&job, now).await.unwrap(), None);
    assert_eq!(store.list_jobs(None, 10).await.unwrap().len(), 1);
    // Jobs without a key never collide.
    let plain = NewJob::new("tick", json!({}), now);
    assert!(store.enqueue(&plain, now).await.unwrap().is_some());
    assert!(store.enqueue(&plain, now).await.unwrap().is_some());
}

pub async fn jobs_failing_retry_then_die(store: Arc<dyn Store>) {
    let now = t0();
    let id = store
        .enqueue(&NewJob::new("flaky", json!({}), now).max_attempts(2), now)
        .await
        .unwrap()
        .unwrap();
    let job = store
        .claim_jobs(now, Duration::minutes(1), 1)
        .await
        .unwrap()
        .remove(0);
    let retry_at = now + Duration::seconds(10);
    store
        .fail_job(
            job.id,
            job.attempts,
            "smtp refused",
            Some(retry_at),
            Some(&json!({"kept": true})),
            now,
        )
        .await
        .unwrap();
    let row = store.get_job(id).await.unwrap();
    assert_eq!(row.status, JobStatus::Queued);
    assert_eq!(
        row.payload,
        json!({}),
        "a job to retry keeps its whole payload"
    );
    assert_eq!(row.run_at, retry_at);
    assert_eq!(row.last_error.as_deref(), Some("smtp refused"));
    assert!(
        store
            .claim_jobs(now, Duration::minutes(1), 1)
            .await
            .unwrap()
            .is_empty()
    );

    let job = store
        .claim_jobs(retry_at, Duration::minutes(1), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(job.attempts, 2);
    store
        .fail_job(
            job.id,
            job.attempts,
            "smtp refused again",
            None,
            Some(&json!({"kept": true})),
            retry_at,
        )
        .await
        .unwrap();
    let row = store.get_job(id).await.unwrap();
    assert_eq!(row.status, JobStatus::Dead);
    assert_eq!(row.payload, json!({"kept": true}));
    assert_eq!(row.last_error.as_deref(), Some("smtp refused again"));
    let much_later = now + Duration::days(1);
    assert!(
        store
            .claim_jobs(much_later, Duration::minutes(1), 1)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn jobs_lease_expiry_makes_them_claimable_again(store: Arc<dyn Store>) {
    let now = t0();
    let id = store
        .enqueue(&NewJob::new("slow", json!({}), now), now)
        .await
        .unwrap()
        .unwrap();
    store
        .claim_jobs(now, Duration::seconds(30), 1)
        .await
        .unwrap();
    let before_expiry = now + Duration::seconds(29);
    assert!(
        store
            .claim_jobs(before_expiry, Duration::seconds(30), 1)
            .await
            .unwrap()
            .is_empty()
    );
    let after_expiry = now + Duration::seconds(30);
    let again = store
        .claim_jobs(after_expiry, Duration::seconds(30), 1)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, id);
    assert_eq!(again[0].attempts, 2);

    // The first attempt, still finishing somewhere, cannot overwrite the second's outcome.
    store
        .fail_job(id, 1, "too late", None, None, after_expiry)
        .await
        .unwrap();
    store.complete_job(id, 1, None, after_expiry).await.unwrap();
    let row = store.get_job(id).await.unwrap();
    assert_eq!((row.status, row.last_error), (JobStatus::Running, None));
    store.complete_job(id, 2, None, after_expiry).await.unwrap();
    assert_eq!(store.get_job(id).await.unwrap().status, JobStatus::Done);
}

pub async fn jobs_concurrent_claimers_never_share_one(store: Arc<dyn Store>) {
    let now = t0();
    let mut ids = HashSet::new();
    for i in 0..200 {
        let job = NewJob::new("n", json!({ "i": i }), now);
        ids.insert(store.enqueue(&job, now).await.unwrap().unwrap());
    }
    let claimers = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                match store.claim_jobs(now, Duration::minutes(5), 7).await {
                    Ok(batch) if batch.is_empty() => return mine,
                    Ok(batch) => mine.extend(batch.into_iter().map(|j| j.id)),
                    Err(DbError::Unavailable(_)) => tokio::task::yield_now().await,
                    Err(e) => panic!("claim failed: {e}"),
                }
            }
        })
    });
    let mut seen = HashSet::new();
    for claimer in claimers {
        for id in claimer.await.unwrap() {
            assert!(seen.insert(id), "job {id} was claimed twice");
        }
    }
    assert_eq!(seen, ids);
}

pub async fn jobs_list_and_purge(store: Arc<dyn Store>) {
    let now = t0();
    let a = store
        .enqueue(&NewJob::new("a", json!({}), now), now)
        .await
        .unwrap()
        .unwrap();
    let later = now + Duration::seconds(1);
    store
        .enqueue(&NewJob::new("b", json!({}), later), later)
        .await
        .unwrap()
        .unwrap();
    let all = store.list_jobs(None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|j| j.kind.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );

    store
        .claim_jobs(now, Duration::minutes(1), 1)
        .await
        .unwrap();
    store.complete_job(a, 1, None, now).await.unwrap();
    let done = store.list_jobs(Some(JobStatus::Done), 10).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].id, a);

    assert_eq!(
        store.purge_done_jobs(now).await.unwrap(),
        0,
        "purged a job touched at the cutoff"
    );
    assert_eq!(store.purge_done_jobs(later).await.unwrap(), 1);
    assert_eq!(store.list_jobs(None, 10).await.unwrap().len(), 1);
}
