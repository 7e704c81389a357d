//! Sign-up, verification codes, sessions of refresh tokens, profile and password changes.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rushline_domain::Role;
use serde_json::json;
use uuid::Uuid;

use super::jobs::t0;
use super::users::user;
use crate::{
    DbError, JobStatus, NewJob, ResendOutcome, RotateOutcome, Store, USERS_EMAIL_KEY, User,
    VerificationCode, VerifyOutcome,
};

const MAX_ATTEMPTS: i32 = 5;

fn unverified(email: &str) -> User {
    User {
        verified_at: None,
        ..user(email, Role::Buyer)
    }
}

fn code(user_id: Uuid, hash: &str, sent_at: DateTime<Utc>) -> VerificationCode {
    VerificationCode {
        user_id,
        code_hash: hash.to_owned(),
        expires_at: sent_at + Duration::minutes(5),
        attempts: 0,
        sent_at,
    }
}

fn mail(to: &str, at: DateTime<Utc>) -> NewJob {
    NewJob::new("send_mail", json!({ "to": to }), at)
}

/// A signed-up, unverified account whose pending code hashes to `hash-1`, mailed at `t0`.
async fn signed_up(store: &Arc<dyn Store>, email: &str) -> User {
    let account = unverified(email);
    store
        .sign_up(
            &account,
            &code(account.id, "hash-1", t0()),
            &mail(email, t0()),
            t0(),
        )
        .await
        .unwrap();
    account
}

async fn mail_jobs(store: &Arc<dyn Store>) -> usize {
    store
        .list_jobs(Some(JobStatus::Queued), 100)
        .await
        .unwrap()
        .iter()
        .filter(|job| job.kind == "send_mail")
        .count()
}

pub async fn identity_sign_up_writes_account_code_and_mail_together(store: Arc<dyn Store>) {
    let account = signed_up(&store, "minji@example.com").await;
    assert_eq!(store.user_by_id(account.id).await.unwrap(), account);
    let jobs = store.list_jobs(None, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].payload, json!({ "to": "minji@example.com" }));

    // A taken address leaves nothing behind: no second account, code or mail.
    let twin = unverified("minji@example.com");
    let error = store
        .sign_up(
            &twin,
            &code(twin.id, "hash-2", t0()),
            &mail("minji@example.com", t0()),
            t0(),
        )
        .await
        .unwrap_err();
    assert!(error.is_conflict_on(USERS_EMAIL_KEY), "{error:?}");
    assert!(matches!(
        store.user_by_id(twin.id).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(mail_jobs(&store).await, 1);
}

pub async fn identity_verify_accepts_the_code_once(store: Arc<dyn Store>) {
    let account = signed_up(&store, "minji@example.com").await;
    let now = t0() + Duration::minutes(1);
    let VerifyOutcome::Verified(verified) = store
        .verify_email(account.id, "hash-1", MAX_ATTEMPTS, now)
        .await
        .unwrap()
    else {
        panic!("the right code did not verify");
    };
    assert_eq!(verified.verified_at, Some(now));
    assert_eq!(verified.updated_at, now);
    assert_eq!(store.user_by_id(account.id).await.unwrap(), verified);
    assert_eq!(
        store
            .verify_email(account.id, "hash-1", MAX_ATTEMPTS, now)
            .await
            .unwrap(),
        VerifyOutcome::AlreadyVerified(verified.clone())
    );
    // Any other code is wrong for a verified account too, and counted: after the attempts run
    // out even the code that verified it no longer answers with the account.
    for _ in 0..MAX_ATTEMPTS {
        assert_eq!(
            store
                .verify_email(account.id, "wrong", MAX_ATTEMPTS, now)
                .await
                .unwrap(),
            VerifyOutcome::WrongCode
        );
    }
    assert_eq!(
        store
            .verify_email(account.id, "hash-1", MAX_ATTEMPTS, now)
            .await
            .unwrap(),
        VerifyOutcome::WrongCode
    );
    assert!(matches!(
        store
            .verify_email(Uuid::now_v7(), "hash-1", MAX_ATTEMPTS, now)
            .await,
        Err(DbError::NotFound)
    ));
}

pub async fn identity_verify_counts_wrong_codes_until_the_code_dies(store: Arc<dyn Store>) {
    let account = signed_up(&store, "minji@example.com").await;
    for _ in 0..MAX_ATTEMPTS {
        assert_eq!(
            store
                .verify_email(account.id, "wrong", MAX_ATTEMPTS, t0())
                .await
                .unwrap(),
            VerifyOutcome::WrongCode
        );
    }
    assert_eq!(
        store
            .verify_email(account.id, "hash-1", MAX_ATTEMPTS, t0())
            .await
            .unwrap(),
        VerifyOutcome::Expired,
        "the right code after the last attempt"
    );
    assert_eq!(
        store.user_by_id(account.id).await.unwrap().verified_at,
        None
    );
}

pub async fn identity_verify_refuses_an_expired_code(store: Arc<dyn Store>) {
    let account = signed_up(&store, "minji@example.com").await;
    let expiry = t0() + Duration::minutes(5);
    assert_eq!(
        store
            .verify_email(account.id, "hash-1", MAX_ATTEMPTS, expiry)
            .await
            .unwrap(),
        VerifyOutcome::Expired
    );
    let just_before = expiry - Duration::microseconds(1);
    assert!(matches!(
        store
            .verify_email(account.id, "hash-1", MAX_ATTEMPTS, just_before)
            .await
            .unwrap(),
        VerifyOutcome::Verified(_)
    ));
}

pub async fn identity_concurrent_wrong_codes_are_all_counted(store: Arc<dyn Store>) {
    let id = signed_up(&store, "minji@example.com").await.id;
    let tries = (0..20).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            loop {
                match store.verify_email(id, "wrong", MAX_ATTEMPTS, t0()).await {
                    Err(DbError::Unavailable(_)) => tokio::task::yield_now().await,
                    outcome => return outcome.unwrap(),
                }
            }
        })
    });
    let mut wrong = 0;
    for outcome in join_all(tries).await {
        match outcome {
            VerifyOutcome::WrongCode => wrong += 1,
            VerifyOutcome::Expired => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        wrong, MAX_ATTEMPTS,
        "more guesses than attempts were checked"
    );
}

pub async fn identity_resend_waits_then_replaces_the_code(store: Arc<dyn Store>) {
    let account = signed_up(&store, "minji@example.com").await;
    let wait = Duration::seconds(60);
    for _ in 0..2 {
        store
            .verify_email(account.id, "wrong", MAX_ATTEMPTS, t0())
            .await
            .unwrap();
    }

    let early = t0() + Duration::seconds(59);
    let fresh = code(account.id, "hash-2", early);
    assert_eq!(
        store
            .resend_code(&fresh, &mail("minji@example.com", early), wait, early)
            .await
            .unwrap(),
        ResendOutcome::TooSoon {
            retry_at: t0() + wait
        }
    );
    assert_eq!(mail_jobs(&store).await, 1, "a refused resend mailed");

    let later = t0() + wait;
    let fresh = code(account.id, "hash-2", later);
    assert_eq!(
        store
            .resend_code(&fresh, &mail("minji@example.com", later), wait, later)
            .await
            .unwrap(),
        ResendOutcome::Sent
    );
    assert_eq!(mail_jobs(&store).await, 2);
    assert_eq!(
        store
            .verify_email(account.id, "hash-1", MAX_ATTEMPTS, later)
            .await
            .unwrap(),
        VerifyOutcome::WrongCode,
        "the replaced code was accepted"
    );
    // The attempts were reset with the new code: after 4 wrong ones the right one still works.
    for _ in 0..3 {
        store
            .verify_email(account.id, "wrong", MAX_ATTEMPTS, later)
            .await
            .unwrap();
    }
    // The new code lives 5 minutes from its own sending, past the old one's expiry.
    let after_old_expiry = t0() + Duration::minutes(5) + Duration::seconds(30);
    assert!(matches!(
        store
            .verify_email(account.id, "hash-2", MAX_ATTEMPTS, after_old_expiry)
            .await
            .unwrap(),
        VerifyOutcome::Verified(_)
    ));

    let again = t0() + Duration::hours(1);
    assert_eq!(
        store
            .resend_code(
                &code(account.id, "hash-3", again),
                &mail("minji@example.com", again),
                wait,
                again
            )
            .await
            .unwrap(),
        ResendOutcome::AlreadyVerified
    );
    assert_eq!(mail_jobs(&store).await, 2);
    let nobody = code(Uuid::now_v7(), "hash", again);
    assert!(matches!(
        store
            .resend_code(&nobody, &mail("x@example.com", again), wait, again)
            .await,
        Err(DbError::NotFound)
    ));
}

pub async fn identity_sessions_rotate_and_a_replayed_token_revokes_its_session(
    store: Arc<dyn Store>,
) {
    let account = user("minji@example.com", Role::Seller);
    store.insert_user(&account).await.unwrap();
    let expiry = t0() + Duration::days(14);
    let session = store
        .create_session(account.id, "rt-1", expiry, t0())
        .await
        .unwrap();
    let other = store
        .create_session(account.id, "other-1", expiry, t0())
        .await
        .unwrap();
    assert_ne!(session, other);

    let now = t0() + Duration::minutes(15);
    assert_eq!(
        store
            .rotate_refresh_token("rt-1", "rt-2", now + Duration::days(14), now)
            .await
            .unwrap(),
        RotateOutcome::Rotated {
            user: account.clone(),
            session
        }
    );
    assert_eq!(
        store
            .rotate_refresh_token("rt-2", "rt-3", now + Duration::days(14), now)
            .await
            .unwrap(),
        RotateOutcome::Rotated {
            user: account.clone(),
            session
        }
    );

    // rt-1 again: someone kept a copy. The whole session goes, the other one stays.
    assert_eq!(
        store
            .rotate_refresh_token("rt-1", "evil", now + Duration::days(14), now)
            .await
            .unwrap(),
        RotateOutcome::Reused
    );
    assert_eq!(
        store
            .rotate_refresh_token("rt-3", "rt-4", now + Duration::days(14), now)
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );
    assert_eq!(
        store
            .rotate_refresh_token("evil", "x", now + Duration::days(14), now)
            .await
            .unwrap(),
        RotateOutcome::Unknown,
        "the reuse attempt's token was stored"
    );
    assert!(matches!(
        store
            .rotate_refresh_token("other-1", "other-2", now + Duration::days(14), now)
            .await
            .unwrap(),
        RotateOutcome::Rotated { session, .. } if session == other
    ));
}

pub async fn identity_refresh_tokens_expire(store: Arc<dyn Store>) {
    let account = user("minji@example.com", Role::Buyer);
    store.insert_user(&account).await.unwrap();
    let expiry = t0() + Duration::days(14);
    store
        .create_session(account.id, "rt-1", expiry, t0())
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate_refresh_token("rt-1", "rt-2", expiry + Duration::days(14), expiry)
            .await
            .unwrap(),
        RotateOutcome::Expired
    );
    assert_eq!(
        store
            .rotate_refresh_token("rt-2", "rt-3", expiry + Duration::days(14), expiry)
            .await
            .unwrap(),
        RotateOutcome::Unknown
    );
}

pub async fn identity_concurrent_rotations_of_one_token_rotate_once(store: Arc<dyn Store>) {
    let account = user("minji@example.com", Role::Buyer);
    store.insert_user(&account).await.unwrap();
    store
        .create_session(account.id, "rt-1", t0() + Duration::days(14), t0())
        .await
        .unwrap();
    let attempts = (0..10).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            loop {
                match store
                    .rotate_refresh_token(
                        "rt-1",
                        &format!("next-{i}"),
                        t0() + Duration::days(14),
                        t0(),
                    )
                    .await
                {
                    Err(DbError::Unavailable(_)) => tokio::task::yield_now().await,
                    outcome => return outcome.unwrap(),
                }
            }
        })
    });
    let outcomes = join_all(attempts).await;
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, RotateOutcome::Rotated { .. }))
        .count();
    assert_eq!(rotated, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            RotateOutcome::Rotated { .. } | RotateOutcome::Reused | RotateOutcome::Revoked
        )),
        "{outcomes:?}"
    );
}

pub async fn identity_ending_a_session_revokes_only_it(store: Arc<dyn Store>) {
    let account = user("minji@example.com", Role::Buyer);
    store.insert_user(&account).await.unwrap();
    let expiry = t0() + Duration::days(14);
    store
        .create_session(account.id, "a-1", expiry, t0())
        .await
        .unwrap();
    store
        .create_session(account.id, "b-1", expiry, t0())
        .await
        .unwrap();
    store
        .rotate_refresh_token("a-1", "a-2", expiry, t0())
        .await
        .unwrap();

    // Logging out with the spent token still ends its session.
    store.end_session("a-1", t0()).await.unwrap();
    store.end_session("no-such-token", t0()).await.unwrap();
    assert_eq!(
        store
            .rotate_refresh_token("a-2", "a-3", expiry, t0())
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );
    assert!(matches!(
        store
            .rotate_refresh_token("b-1", "b-2", expiry, t0())
            .await
            .unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

/// A session has a holder while it keeps a usable refresh token: through rotations, not once
/// it is ended or has run out.
pub async fn identity_a_session_is_held_until_it_ends_or_runs_out(store: Arc<dyn Store>) {
    let account = user("minji@example.com", Role::Buyer);
    store.insert_user(&account).await.unwrap();
    let expiry = t0() + Duration::days(14);
    let ended = store
        .create_session(account.id, "a-1", expiry, t0())
        .await
        .unwrap();
    let rotated = store
        .create_session(account.id, "b-1", expiry, t0())
        .await
        .unwrap();
    let holder = |session| {
        let store = store.clone();
        async move { store.session_holder(session, t0()).await.unwrap() }
    };
    assert_eq!(holder(ended).await.map(|u| u.id), Some(account.id));
    store
        .rotate_refresh_token("b-1", "b-2", expiry, t0())
        .await
        .unwrap();
    assert_eq!(holder(rotated).await.map(|u| u.id), Some(account.id));
    store.end_session("a-1", t0()).await.unwrap();
    assert_eq!(holder(ended).await, None);
    assert_eq!(holder(Uuid::now_v7()).await, None);
    assert_eq!(
        store.session_holder(rotated, expiry).await.unwrap(),
        None,
        "ran out"
    );
}

pub async fn identity_password_change_revokes_the_other_sessions(store: Arc<dyn Store>) {
    let account = user("minji@example.com", Role::Buyer);
    store.insert_user(&account).await.unwrap();
    let expiry = t0() + Duration::days(14);
    let kept = store
        .create_session(account.id, "kept-1", expiry, t0())
        .await
        .unwrap();
    store
        .create_session(account.id, "other-1", expiry, t0())
        .await
        .unwrap();
    let now = t0() + Duration::minutes(3);
    store
        .change_password(account.id, "$argon2id$new", Some(kept), now)
        .await
        .unwrap();
    let changed = store.user_by_id(account.id).await.unwrap();
    assert_eq!(changed.password_hash, "$argon2id$new");
    assert_eq!(changed.updated_at, now);
    assert!(matches!(
        store
            .rotate_refresh_token("kept-1", "kept-2", expiry, now)
            .await
            .unwrap(),
        RotateOutcome::Rotated { .. }
    ));
    assert_eq!(
        store
            .rotate_refresh_token("other-1", "other-2", expiry, now)
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );

    // Without a session to keep, every session goes.
    store
        .change_password(account.id, "$argon2id$newer", None, now)
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate_refresh_token("kept-2", "kept-3", expiry, now)
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );
    assert!(matches!(
        store
            .change_password(Uuid::now_v7(), "$argon2id$x", None, now)
            .await,
        Err(DbError::NotFound)
    ));
}

/// A refresh racing a password change or a logout: whichever commits first, no token of the
/// revoked session is usable afterwards.
pub async fn identity_revocation_wins_over_a_concurrent_refresh(store: Arc<dyn Store>) {
    let account = user("minji@example.com", Role::Buyer);
    store.insert_user(&account).await.unwrap();
    let expiry = t0() + Duration::days(14);
    for round in 0..30 {
        let first = format!("r{round}-1");
        let next = format!("r{round}-2");
        store
            .create_session(account.id, &first, expiry, t0())
            .await
            .unwrap();
        let rotate = {
            let (store, first, next) = (store.clone(), first.clone(), next.clone());
            async move {
                loop {
                    match store
                        .rotate_refresh_token(&first, &next, expiry, t0())
                        .await
                    {
                        Err(DbError::Unavailable(_)) => tokio::task::yield_now().await,
                        outcome => return outcome,
                    }
                }
            }
        };
        let revoke = {
            let (store, first) = (store.clone(), first.clone());
            async move {
                loop {
                    let ended = if round % 2 == 0 {
                        store
                            .change_password(account.id, "$argon2id$x", None, t0())
                            .await
                    } else {
                        store.end_session(&first, t0()).await
                    };
                    match ended {
                        Err(DbError::Unavailable(_)) => tokio::task::yield_now().await,
                        ended => return ended,
                    }
                }
            }
        };
        let (rotated, revoked) = tokio::join!(tokio::spawn(rotate), tokio::spawn(revoke));
        revoked.unwrap().unwrap();
        let rotated = rotated.unwrap().unwrap();
        assert!(
            matches!(
                rotated,
                RotateOutcome::Rotated { .. } | RotateOutcome::Revoked
            ),
            "{rotated:?}"
        );
        assert_eq!(
            store
                .rotate_refresh_token(&next, "after", expiry, t0())
                .await
                .unwrap(),
            match rotated {
                RotateOutcome::Rotated { .. } => RotateOutcome::Revoked,
                _ => RotateOutcome::Unknown,
            },
            "round {round}: a token made beside the revocation outlived it"
        );
    }
}

pub async fn identity_profile_updates(store: Arc<dyn Store>) {
    let account = user("minji@example.com", Role::Buyer);
    store.insert_user(&account).await.unwrap();
    let now = t0() + Duration::minutes(1);
    let updated = store
        .update_profile(account.id, "Minji Kim", now)
        .await
        .unwrap();
    assert_eq!(
        updated,
        User {
            name: "Minji Kim".to_owned(),
            updated_at: now,
            ..account.clone()
        }
    );
    assert_eq!(store.user_by_id(account.id).await.unwrap(), updated);
    assert!(matches!(
        store.update_profile(Uuid::now_v7(), "x", now).await,
        Err(DbError::NotFound)
    ));
}

pub async fn identity_purge_removes_accounts_left_unverified(store: Arc<dyn Store>) {
    let old = signed_up(&store, "old@example.com").await;
    let verified = user("verified@example.com", Role::Buyer);
    store.insert_user(&verified).await.unwrap();
    let young = User {
        created_at: t0() + Duration::days(7),
        ..unverified("young@example.com")
    };
    store.insert_user(&young).await.unwrap();

    let week_later = t0() + Duration::days(7);
    assert_eq!(store.purge_unverified_users(week_later).await.unwrap(), 1);
    assert!(matches!(
        store.user_by_id(old.id).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(store.user_by_id(verified.id).await.unwrap(), verified);
    assert_eq!(store.user_by_id(young.id).await.unwrap(), young);
    // The address is free again.
    signed_up(&store, "old@example.com").await;
}

pub async fn identity_purge_removes_only_expired_credentials(store: Arc<dyn Store>) {
    let account = signed_up(&store, "minji@example.com").await;
    store
        .create_session(account.id, "old", t0() + Duration::days(1), t0())
        .await
        .unwrap();
    store
        .create_session(account.id, "young", t0() + Duration::days(14), t0())
        .await
        .unwrap();
    // The code expires at t0 + 5 min, the old token at t0 + 1 day.
    assert_eq!(
        store
            .purge_expired_credentials(t0() + Duration::minutes(5))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_expired_credentials(t0() + Duration::days(2))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .verify_email(account.id, "hash-1", MAX_ATTEMPTS, t0())
            .await
            .unwrap(),
        VerifyOutcome::Expired
    );
    assert_eq!(
        store
            .rotate_refresh_token("old", "x", t0() + Duration::days(14), t0())
            .await
            .unwrap(),
        RotateOutcome::Unknown
    );
    assert!(matches!(
        store
            .rotate_refresh_token("young", "y", t0() + Duration::days(14), t0())
            .await
            .unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

async fn join_all<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut results = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        results.push(task.await.unwrap());
    }
    results
}
