//! Trial campaigns, their pools of slots, and applications committed through the group commit.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rushline_domain::raffle::{Seed, seed_commitment};
use rushline_domain::{Allocation, ApplicationStatus};
use serde_json::json;
use uuid::Uuid;

use super::catalog::seller_with_product;
use super::drops::{buyer, commit};
use super::jobs::t0;
use crate::{
    APPLICATION_STATUS_CHANGED, ApplicationFilter, ApplicationTransition, ClaimRow, ClaimWrite,
    CommitOutcome, DbError, DropWindow, NewApplication, NewEntry, NewJob, RaffleSettings, Store,
    TRIAL_NOT_SCHEDULED, Trial, TrialCounts, TrialFilter,
};

/// A first-come trial of a fresh product with `slots` slots, open from an hour after t0 for a day.
pub(super) async fn trial(store: &Arc<dyn Store>, slots: i64) -> Trial {
    let trial = new_trial(store, slots).await;
    store.create_trial(&trial, None).await.unwrap();
    trial
}

/// That trial, not stored yet.
async fn new_trial(store: &Arc<dyn Store>, slots: i64) -> Trial {
    let product = seller_with_product(store, 100_000, 0).await;
    Trial {
        id: Uuid::now_v7(),
        product_id: product.id,
        seller_id: product.seller_id,
        title: "Try the Aurora".to_owned(),
        description: "A week of wear".to_owned(),
        slots,
        opens_at: t0() + Duration::hours(1),
        closes_at: t0() + Duration::days(1),
        review_due_days: 14,
        allocation: Allocation::Fcfs,
        raffle: None,
        paused_at: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

/// The write of `buyer`'s application to `trial`, as the claim path builds it.
pub(super) fn application(trial: &Trial, buyer: Uuid, seq: i64, at: DateTime<Utc>) -> ClaimWrite {
    let id = Uuid::now_v7();
    ClaimWrite::Application(NewApplication {
        id,
        trial_id: trial.id,
        buyer_id: buyer,
        motivation: Some("I run every day".to_owned()),
        review_due_at: at + Duration::days(i64::from(trial.review_due_days)),
        applied_at: at,
        barred_if_overdue_after: at - Duration::days(30),
        claim: ClaimRow {
            id,
            pool_key: trial.pool_key(),
            user_id: buyer,
            qty: 1,
            seq,
            fingerprint: 7,
            claimed_at: at,
            released_at: None,
        },
        jobs: vec![mail(id, "selected", at)],
    })
}

fn mail(id: Uuid, status: &str, at: DateTime<Utc>) -> NewJob {
    let mut job = NewJob::new(
        "trial_notice",
        json!({ "application_id": id, "status": status }),
        at,
    );
    job.dedupe_key = Some(format!("trial_notice:{id}:{status}"));
    job
}

pub(super) fn id_of(write: &ClaimWrite) -> Uuid {
    let ClaimWrite::Application(application) = write else {
        unreachable!("an application writes an application")
    };
    application.id
}

async fn mails(store: &Arc<dyn Store>) -> usize {
    store
        .list_jobs(None, 1_000)
        .await
        .unwrap()
        .iter()
        .filter(|job| job.kind == "trial_notice")
        .count()
}

pub async fn trials_round_trip_change_only_while_scheduled_and_list(store: Arc<dyn Store>) {
    let first = trial(&store, 3).await;
    assert_eq!(store.trial(first.id).await.unwrap(), first);
    let (pool, claims) = store.pool_snapshot(&first.pool_key()).await.unwrap();
    assert_eq!((pool.total, pool.per_user_limit, claims.len()), (3, 1, 0));

    let changed = Trial {
        slots: 5,
        title: "Try it".to_owned(),
        ..first.clone()
    };
    store.update_trial(&changed, t0()).await.unwrap();
    assert_eq!(store.trial(first.id).await.unwrap(), changed);
    assert_eq!(
        store
            .pool_snapshot(&first.pool_key())
            .await
            .unwrap()
            .0
            .total,
        5
    );
    let opened = first.opens_at;
    for result in [
        store.update_trial(&changed, opened).await,
        store.delete_trial(first.id, opened).await,
    ] {
        assert!(result.unwrap_err().is_conflict_on(TRIAL_NOT_SCHEDULED));
    }
    assert!(matches!(
        store.delete_trial(Uuid::now_v7(), t0()).await,
        Err(DbError::NotFound)
    ));

    let second = trial(&store, 1).await;
    let later = Trial {
        id: Uuid::now_v7(),
        opens_at: second.opens_at + Duration::hours(1),
        ..second.clone()
    };
    store.create_trial(&later, None).await.unwrap();
    let by_seller = |after| TrialFilter {
        seller_id: Some(second.seller_id),
        after,
        limit: 1,
        ..TrialFilter::default()
    };
    let page = store.list_trials(&by_seller(None)).await.unwrap();
    assert_eq!(page, vec![second.clone()]);
    let next = store
        .list_trials(&by_seller(Some((second.opens_at, second.id))))
        .await
        .unwrap();
    assert_eq!(next, vec![later.clone()]);
    let open_now = TrialFilter {
        product_id: Some(second.product_id),
        window: Some(DropWindow::Open {
            now: later.opens_at,
        }),
        limit: 10,
        ..TrialFilter::default()
    };
    assert_eq!(store.list_trials(&open_now).await.unwrap().len(), 2);
    let opening = |start, end| TrialFilter {
        product_id: Some(second.product_id),
        opening: Some((start, end)),
        limit: 10,
        ..TrialFilter::default()
    };
    assert_eq!(
        store
            .list_trials(&opening(
                later.opens_at,
                later.opens_at + Duration::microseconds(1)
            ))
            .await
            .unwrap(),
        vec![later.clone()],
        "the start is in"
    );
    assert!(
        store
            .list_trials(&opening(
                second.opens_at - Duration::hours(1),
                second.opens_at
            ))
            .await
            .unwrap()
            .is_empty(),
        "the end is out"
    );

    store.delete_trial(later.id, t0()).await.unwrap();
    assert!(matches!(
        store.trial(later.id).await,
        Err(DbError::NotFound)
    ));
}

pub async fn trials_applications_commit_once_per_buyer_with_their_mail(store: Arc<dyn Store>) {
    let trial = trial(&store, 3).await;
    let (alice, bob, carol, dave) = (
        buyer(&store).await,
        buyer(&store).await,
        buyer(&store).await,
        buyer(&store).await,
    );
    let at = trial.opens_at;
    let writes = [
        application(&trial, alice, 1, at),
        application(&trial, alice, 2, at),
        application(&trial, bob, 3, at),
    ];
    use CommitOutcome::*;
    assert_eq!(
        commit(&store, &writes).await,
        vec![Committed, LimitReached, Committed]
    );
    assert_eq!(mails(&store).await, 2);
    // A replay is recognised, and writes nothing more.
    assert_eq!(commit(&store, &writes[..1]).await, vec![Duplicate]);
    assert_eq!(mails(&store).await, 2);
    assert_eq!(
        commit(
            &store,
            &[
                application(&trial, carol, 4, at),
                application(&trial, dave, 5, at)
            ]
        )
        .await,
        vec![Committed, SoldOut]
    );
    let (pool, claims) = store.pool_snapshot(&trial.pool_key()).await.unwrap();
    assert_eq!((pool.held, claims.len()), (3, 3));

    let first = store.application(id_of(&writes[0])).await.unwrap();
    assert_eq!(
        (first.buyer_id, first.status, first.seq),
        (alice, ApplicationStatus::Selected, Some(1))
    );
    assert_eq!(first.motivation.as_deref(), Some("I run every day"));
    assert_eq!(first.review_due_at, Some(at + Duration::days(14)));
    let counts = store.trial_counts(&[trial.id]).await.unwrap()[&trial.id];
    assert_eq!((counts.applicants, counts.selected), (3, 3));
    assert_eq!(store.trial_applicants(trial.id).await.unwrap(), 3);
    assert_eq!(counts.last_selected_at, Some(at));
    // Several trials at once, one of them without an application: each its own counts.
    let quiet = self::trial(&store, 2).await;
    let both = store.trial_counts(&[quiet.id, trial.id]).await.unwrap();
    assert_eq!(
        (both.len(), both[&trial.id], both[&quiet.id]),
        (2, counts, TrialCounts::default())
    );
    let listed = store
        .list_applications(&ApplicationFilter {
            trial_id: Some(trial.id),
            limit: 10,
            ..ApplicationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|a| !a.buyer_name.is_empty()));
}

pub async fn trials_cancelling_gives_the_slot_back_once(store: Arc<dyn Store>) {
    let trial = trial(&store, 1).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let at = trial.opens_at;
    let alices = application(&trial, alice, 1, at);
    commit(&store, std::slice::from_ref(&alices)).await;
    assert_eq!(
        commit(&store, &[application(&trial, bob, 2, at)]).await,
        vec![CommitOutcome::SoldOut]
    );
    let id = id_of(&alices);
    let cancel = ApplicationTransition {
        id,
        from: ApplicationStatus::Selected,
        to: ApplicationStatus::Cancelled,
        at: at + Duration::minutes(1),
        jobs: vec![mail(id, "cancelled", at)],
    };
    let cancelled = store.transition_application(&cancel).await.unwrap();
    assert_eq!(cancelled.status, ApplicationStatus::Cancelled);
    assert!(
        store
            .transition_application(&cancel)
            .await
            .unwrap_err()
            .is_conflict_on(APPLICATION_STATUS_CHANGED)
    );
    let (pool, claims) = store.pool_snapshot(&trial.pool_key()).await.unwrap();
    assert_eq!((pool.held, claims.len()), (0, 0));
    assert_eq!(mails(&store).await, 2);

    // The slot is free for someone else; the one who cancelled may not apply again.
    assert_eq!(
        commit(
            &store,
            &[
                application(&trial, alice, 3, at),
                application(&trial, bob, 4, at)
            ]
        )
        .await,
        vec![CommitOutcome::LimitReached, CommitOutcome::Committed]
    );
    let counts = store.trial_counts(&[trial.id]).await.unwrap()[&trial.id];
    assert_eq!((counts.applicants, counts.selected), (2, 1));
}

pub async fn trials_paused_trials_and_barred_buyers_are_refused(store: Arc<dyn Store>) {
    let trial_a = trial(&store, 10).await;
    let trial_b = trial(&store, 10).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let at = trial_a.opens_at;
    let alices = application(&trial_a, alice, 1, at);
    commit(&store, std::slice::from_ref(&alices)).await;

    let paused = store
        .set_trial_paused(trial_b.id, Some(at), at)
        .await
        .unwrap();
    assert_eq!(paused.paused_at, Some(at));
    assert_eq!(
        commit(&store, &[application(&trial_b, bob, 1, at)]).await,
        vec![CommitOutcome::TrialPaused]
    );
    store.set_trial_paused(trial_b.id, None, at).await.unwrap();
    assert_eq!(
        commit(&store, &[application(&trial_b, bob, 1, at)]).await,
        vec![CommitOutcome::Committed]
    );

    // Alice's review goes overdue: she is barred while it is recent.
    let due = at + Duration::days(14);
    assert!(
        store
            .applications_due(due - Duration::seconds(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let found = store.applications_due(due, 10).await.unwrap();
    assert_eq!(found.len(), 2, "alice's and bob's");
    assert!(found.iter().any(|a| a.id == id_of(&alices)));
    store
        .transition_application(&ApplicationTransition {
            id: id_of(&alices),
            from: ApplicationStatus::Selected,
            to: ApplicationStatus::ReviewOverdue,
            at: due,
            jobs: Vec::new(),
        })
        .await
        .unwrap();
    let (pool, _) = store.pool_snapshot(&trial_a.pool_key()).await.unwrap();
    assert_eq!(pool.held, 1, "an overdue tester keeps the slot");
    let barred = application(&trial_b, alice, 2, due + Duration::days(1));
    assert_eq!(
        commit(&store, &[barred]).await,
        vec![CommitOutcome::TrialBarred]
    );
    let after_bar = application(&trial_b, alice, 3, due + Duration::days(31));
    assert_eq!(
        commit(&store, &[after_bar]).await,
        vec![CommitOutcome::Committed]
    );
}

/// A raffle trial's entrants left without a slot once its raffle has nothing more to offer
/// become `not_selected` applications, once, under their entry ids: no claim, no review due,
/// their motivation and time of entry kept. The drawn tester stays selected.
pub async fn trials_a_raffles_entrants_left_over_are_not_selected_once_it_is_exhausted(
    store: Arc<dyn Store>,
) {
    let seed: Seed = [7; 32];
    let mut trial = new_trial(&store, 1).await;
    trial.allocation = Allocation::Raffle;
    trial.raffle = Some(RaffleSettings {
        entries_close_at: trial.closes_at,
        claim_window_minutes: None,
        seed_commitment: seed_commitment(&seed),
        drawn_at: None,
        entrants: None,
        exhausted_at: None,
    });
    store.create_trial(&trial, Some(&seed)).await.unwrap();
    let mut buyers = Vec::new();
    let mut entries = Vec::new();
    for i in 0..3 {
        let buyer = buyer(&store).await;
        buyers.push(buyer);
        entries.push(NewEntry {
            id: Uuid::now_v7(),
            raffle_id: trial.id,
            user_id: buyer,
            idempotency_key: format!("k-{i}"),
            motivation: Some(format!("entrant {i}")),
            entered_at: trial.opens_at + Duration::minutes(i),
        });
    }
    let writes: Vec<ClaimWrite> = entries.iter().cloned().map(ClaimWrite::Entry).collect();
    assert_eq!(commit(&store, &writes).await, [CommitOutcome::Committed; 3]);
    let closes_at = trial.closes_at;
    store.close_entries(trial.id, closes_at).await.unwrap();
    let order: Vec<(Uuid, Uuid)> = entries.iter().map(|e| (e.id, e.user_id)).collect();
    store
        .record_draw(trial.id, &order, closes_at)
        .await
        .unwrap();
    // The first in draw order takes the slot, under its entry's id.
    let mut selection = application(&trial, buyers[0], 1, closes_at);
    if let ClaimWrite::Application(selected) = &mut selection {
        selected.id = entries[0].id;
        selected.claim.id = entries[0].id;
    }
    assert_eq!(
        commit(&store, &[selection]).await,
        [CommitOutcome::Committed]
    );

    let exhausted_at = closes_at + Duration::days(14);
    let lost = NewJob::new("notify", json!({ "lost": trial.id }), exhausted_at);
    store
        .exhaust_raffle(trial.id, exhausted_at, &lost)
        .await
        .unwrap();
    let later = exhausted_at + Duration::hours(1);
    store.exhaust_raffle(trial.id, later, &lost).await.unwrap();

    let mut all = store
        .list_applications(&ApplicationFilter {
            trial_id: Some(trial.id),
            limit: 10,
            ..ApplicationFilter::default()
        })
        .await
        .unwrap();
    all.sort_by_key(|a| entries.iter().position(|e| e.id == a.id));
    assert_eq!(
        all.len(),
        3,
        "one application per entrant, after two exhaustions"
    );
    assert_eq!(
        (all[0].id, all[0].status, all[0].seq),
        (entries[0].id, ApplicationStatus::Selected, Some(1))
    );
    for (application, entry) in all[1..].iter().zip(&entries[1..]) {
        assert_eq!(
            (
                application.id,
                application.buyer_id,
                application.status,
                application.seq,
                application.review_due_at
            ),
            (
                entry.id,
                entry.user_id,
                ApplicationStatus::NotSelected,
                None,
                None
            )
        );
        assert_eq!(application.motivation, entry.motivation);
        assert_eq!(
            (application.applied_at, application.status_changed_at),
            (entry.entered_at, exhausted_at)
        );
    }
    let mine = store
        .list_applications(&ApplicationFilter {
            buyer_id: Some(buyers[2]),
            status: Some(ApplicationStatus::NotSelected),
            limit: 10,
            ..ApplicationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let counts = store.trial_counts(&[trial.id]).await.unwrap()[&trial.id];
    assert_eq!((counts.applicants, counts.selected), (3, 1));
    let losers_told = store
        .list_jobs(None, 1_000)
        .await
        .unwrap()
        .iter()
        .filter(|job| job.kind == "notify" && job.payload == json!({ "lost": trial.id }))
        .count();
    assert_eq!(losers_told, 1, "told once");
}
