//! Migration 0019 cuts the text out of mail jobs that ended before a finished mail job kept only
//! its recipient, on both backends, and leaves mail still to be sent whole.

use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

use crate::test_postgres::{self, OwnSchema};

const SQLITE_SCRUB: &str = include_str!("../migrations/sqlite/0019_scrub_mail_jobs.sql");
const POSTGRES_SCRUB: &str = include_str!("../migrations/postgres/0019_scrub_mail_jobs.sql");
const REMOVED: &str = "(removed once delivered or given up)";

/// A mail carrying a code, in a job of `status`.
fn insert(status: &str) -> String {
    format!(
        "INSERT INTO jobs (id, kind, payload, status, run_at, max_attempts, created_at, updated_at) \
         VALUES ('{status}', 'send_mail', '{{\"to\":\"ann@example.com\",\"subject\":\"Your code\",\
         \"text\":\"Your code is 123456\",\"message_id\":null}}', '{status}', \
         '2026-01-01T00:00:00Z', 3, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    )
}

fn check(payloads: &[(String, Value)]) {
    for (status, payload) in payloads {
        assert_eq!(payload["to"], "ann@example.com", "{status}: {payload}");
        if status == "queued" {
            assert_eq!(
                payload["text"], "Your code is 123456",
                "mail still to send is whole"
            );
        } else {
            assert_eq!(
                (&payload["subject"], &payload["text"]),
                (&json!(REMOVED), &json!(REMOVED)),
                "{status}: {payload}"
            );
        }
    }
    assert_eq!(payloads.len(), 3);
}

#[tokio::test]
async fn sqlite_ended_mail_jobs_lose_their_text() {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    crate::sqlite::MIGRATOR.run(&mut conn).await.unwrap();
    for status in ["done", "dead", "queued"] {
        // SQLite takes any value in the BLOB id; the status makes each one unique.
        conn.execute(insert(status).as_str()).await.unwrap();
    }
    conn.execute(SQLITE_SCRUB).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT status, payload FROM jobs")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let payloads: Vec<(String, Value)> = rows
        .into_iter()
        .map(|(status, payload)| (status, serde_json::from_str(&payload).unwrap()))
        .collect();
    check(&payloads);
}

#[tokio::test]
async fn postgres_ended_mail_jobs_lose_their_text() {
    let Some(base_url) = test_postgres::url() else {
        return;
    };
    let (own, options) = OwnSchema::create(&base_url).await.unwrap();
    let mut conn = PgConnection::connect_with(&options).await.unwrap();
    crate::postgres::MIGRATOR.run(&mut conn).await.unwrap();
    for status in ["done", "dead", "queued"] {
        let insert = insert(status).replacen(
            &format!("VALUES ('{status}'"),
            "VALUES (gen_random_uuid()",
            1,
        );
        conn.execute(insert.as_str()).await.unwrap();
    }
    conn.execute(POSTGRES_SCRUB).await.unwrap();
    let payloads: Vec<(String, Value)> = sqlx::query_as("SELECT status, payload FROM jobs")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    own.remove().await.unwrap();
    check(&payloads);
}
