//! Migration 0020 rebuilds SQLite's `trial_applications` (a NOT NULL cannot be dropped in place)
//! under the reviews that reference it: a database with a trial review keeps every application
//! and its review, the references still hold, and the table then takes a `not_selected`
//! application without a claim. PostgreSQL drops the NOT NULLs in place; `schema_parity` checks
//! that both end with the same columns and constraints.

use std::borrow::Cow;

use sqlx::migrate::Migrator;
use sqlx::{Connection, Executor, SqliteConnection};

const BEFORE: &str = "
INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES
    ('seller', 's@example.com', 'Sam', 'seller', 'x', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
    ('tester', 't@example.com', 'Tia', 'buyer', 'x', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
    ('other', 'o@example.com', 'Oli', 'buyer', 'x', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO products (id, seller_id, name, description, category, price, stock, status, created_at, updated_at)
    VALUES ('product', 'seller', 'Aurora', 'A shoe', 'shoes', 1000, 1, 'active',
            '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO trials (id, product_id, seller_id, title, description, slots, opens_at, closes_at,
                    review_due_days, created_at, updated_at)
    VALUES ('trial', 'product', 'seller', 'Try it', 'A week', 1, '2026-01-02T00:00:00Z',
            '2026-01-03T00:00:00Z', 14, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO pools (key, total, per_user_limit, held, last_seq) VALUES ('trial:trial', 1, 1, 1, 1);
INSERT INTO claims (id, pool_key, user_id, qty, seq, fingerprint, claimed_at)
    VALUES ('application', 'trial:trial', 'tester', 1, 1, 7, '2026-01-02T00:00:00Z');
INSERT INTO trial_applications (id, trial_id, buyer_id, status, motivation, claim_id,
                                review_due_at, applied_at, status_changed_at)
    VALUES ('application', 'trial', 'tester', 'review_submitted', 'I run', 'application',
            '2026-01-16T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-05T00:00:00Z');
INSERT INTO reviews (id, product_id, buyer_id, source, application_id, rating, text, created_at, updated_at)
    VALUES ('review', 'product', 'tester', 'trial', 'application', 5, 'Light and quick',
            '2026-01-05T00:00:00Z', '2026-01-05T00:00:00Z');
";

#[tokio::test]
async fn sqlite_rebuilds_trial_applications_under_their_reviews() {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    let all = &crate::sqlite::MIGRATOR;
    let before_0020 = Migrator {
        migrations: Cow::Owned(
            all.migrations
                .iter()
                .filter(|m| m.version < 20)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    before_0020.run(&mut conn).await.unwrap();
    conn.execute(BEFORE).await.unwrap();
    all.run(&mut conn).await.unwrap();

    let kept: (String, String, String, String) = sqlx::query_as(
        "SELECT a.status, a.motivation, a.claim_id, r.id FROM trial_applications a \
         JOIN reviews r ON r.application_id = a.id",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        kept,
        (
            "review_submitted".to_owned(),
            "I run".to_owned(),
            "application".to_owned(),
            "review".to_owned()
        )
    );
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(broken.len(), 0, "every reference holds");
    let indexes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'trial_applications' \
         AND name LIKE 'trial_applications_%'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(indexes, 5, "every index is back");

    conn.execute(
        "INSERT INTO trial_applications (id, trial_id, buyer_id, status, applied_at, status_changed_at) \
         VALUES ('lost', 'trial', 'other', 'not_selected', '2026-01-02T00:00:00Z', '2026-01-17T00:00:00Z')",
    )
    .await
    .unwrap();
    let refused = conn
        .execute(
            "INSERT INTO trial_applications (id, trial_id, buyer_id, status, applied_at, status_changed_at) \
             VALUES ('bare', 'trial', 'seller', 'selected', '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z')",
        )
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("trial_applications_selection_check"),
        "a selection without its claim: {refused}"
    );
}
