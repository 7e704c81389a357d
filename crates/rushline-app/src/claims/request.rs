//! What a request claims is named by: its id, derived from the buyer and the idempotency key,
//! and its fingerprint, which tells a retry from another request under the same key.

use std::time::Duration;

use rushline_store::DbError;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::AppError;

/// A stable 63-bit hash of what a request asks for, so that a reused idempotency key with a
/// different body is told apart from a retry. Stable across builds and nodes (SHA-256), and
/// non-negative so the database stores it as a plain BIGINT.
pub fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    let mut first = [0; 8];
    first.copy_from_slice(&hash.finalize()[..8]);
    u64::from_be_bytes(first) >> 1
}

/// What a request creates; each kind names its ids apart from the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creates {
    Order,
    Coupon,
    Payment,
    Drop,
    Campaign,
    Product,
    Trial,
    Application,
    Review,
    Entry,
}

/// The id of something a client creates with an optional idempotency key: derived from the key
/// as [`request_id`] does, so that a retry names the same thing; a fresh one without a key.
pub fn created_id(owner: Uuid, creates: Creates, idempotency_key: Option<&str>) -> Uuid {
    idempotency_key.map_or_else(Uuid::now_v7, |key| request_id(owner, creates, key))
}

/// The id of whatever a user's request creates, derived from the user, the kind and the
/// idempotency key: every retry of one request, on any node, names the same order (or coupon),
/// so the gate and the database both recognise it. The kind keeps one key used for an order and
/// for a coupon from naming one claim twice.
pub fn request_id(user: Uuid, creates: Creates, idempotency_key: &str) -> Uuid {
    let kind = match creates {
        Creates::Order => "order",
        Creates::Coupon => "coupon",
        Creates::Payment => "payment",
        Creates::Drop => "drop",
        Creates::Campaign => "campaign",
        Creates::Product => "product",
        Creates::Trial => "trial",
        Creates::Application => "application",
        Creates::Review => "review",
        Creates::Entry => "entry",
    };
    Uuid::new_v5(&user, format!("{kind}:{idempotency_key}").as_bytes())
}

/// What a retried request's first attempt created (its order, its coupon), once durable:
/// `fetch` reads it, and that attempt may still be in its group commit, a few milliseconds away.
/// 409 `request_in_progress` if it does not appear within a second.
pub async fn first_attempt<T, F>(mut fetch: impl FnMut() -> F) -> Result<T, AppError>
where
    F: Future<Output = Result<T, DbError>>,
{
    for _ in 0..200 {
        match fetch().await {
            Ok(found) => return Ok(found),
            Err(DbError::NotFound) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::request_in_progress())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_separate_their_parts() {
        assert_eq!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"ab", b"c"]));
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
        assert!(i64::try_from(fingerprint(&[b"anything"])).is_ok());
        // Pinned: nodes of different builds, and the claims they stored, must agree.
        assert_eq!(fingerprint(&[b"drop", b"1"]), 630_047_615_160_972_758);
    }

    #[test]
    fn request_ids_are_per_buyer_and_key() {
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let order = |user, key| request_id(user, Creates::Order, key);
        assert_eq!(order(alice, "k1"), order(alice, "k1"));
        assert_ne!(order(alice, "k1"), order(alice, "k2"));
        assert_ne!(order(alice, "k1"), order(bob, "k1"));
        // A key that spells another kind's name still names something else.
        assert_ne!(
            order(alice, "coupon:k1"),
            request_id(alice, Creates::Coupon, "k1")
        );
        assert_ne!(
            request_id(alice, Creates::Coupon, "order:k1"),
            order(alice, "order:k1")
        );
    }
}
