use std::borrow::Borrow;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use const_format::formatcp;
use rushline_store::{DbError, JobRow, JobStatus, JobStore, NewJob};
use sqlx::types::{Json, JsonValue};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{CLAIM_JOBS, Db, DbConnection, DbRow, SqlStore, map_err};

/// `jobs.id`: a backend's job claim may join `jobs` with another table.
const COLUMNS: &str = "jobs.id, kind, payload, status, run_at, attempts, max_attempts, last_error, \
                       locked_until, dedupe_key, created_at, updated_at";

fn job_from_row(row: &DbRow) -> Result<JobRow, DbError> {
    let status: String = row.try_get("status").map_err(map_err)?;
    let Json(payload) = row.try_get("payload").map_err(map_err)?;
    Ok(JobRow {
        id: row.try_get("id").map_err(map_err)?,
        kind: row.try_get("kind").map_err(map_err)?,
        payload,
        status: JobStatus::parse(&status)?,
        run_at: row.try_get("run_at").map_err(map_err)?,
        attempts: row.try_get("attempts").map_err(map_err)?,
        max_attempts: row.try_get("max_attempts").map_err(map_err)?,
        last_error: row.try_get("last_error").map_err(map_err)?,
        locked_until: row.try_get("locked_until").map_err(map_err)?,
        dedupe_key: row.try_get("dedupe_key").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

/// Adds a job through `executor`: a pool, or the transaction of the event that causes the job
/// (the outbox). `None` when a job with the same dedupe key already exists.
pub(crate) async fn insert_job<'e, E>(
    executor: E,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at, max_attempts, dedupe_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(&job.kind)
    .bind(Json(&job.payload))
    .bind(job.run_at)
    .bind(job.max_attempts)
    .bind(&job.dedupe_key)
    .bind(now)
    .execute(executor)
    .await
    .map_err(map_err)?
    .rows_affected();
    Ok((inserted == 1).then_some(id))
}

/// Eight parameters a row: a statement of this many stays within SQLite's bound on one
/// statement's parameters.
const JOBS_PER_STATEMENT: usize = 1_000;

/// Enqueues `jobs` on `conn` (the transaction of the event that causes them), a thousand per
/// statement; a job whose dedupe key exists already is skipped.
pub(crate) async fn insert_jobs<J>(
    conn: &mut DbConnection,
    jobs: &[J],
    now: DateTime<Utc>,
) -> Result<(), DbError>
where
    J: Borrow<NewJob> + Sync,
{
    for chunk in jobs.chunks(JOBS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Db>::new(
            "INSERT INTO jobs (id, kind, payload, run_at, max_attempts, dedupe_key, created_at, updated_at) ",
        );
        insert.push_values(chunk, |mut row, job| {
            let job = job.borrow();
            row.push_bind(Uuid::now_v7())
                .push_bind(&job.kind)
                .push_bind(Json(&job.payload))
                .push_bind(job.run_at)
                .push_bind(job.max_attempts)
                .push_bind(&job.dedupe_key)
                .push_bind(now)
                .push_bind(now);
        });
        insert.push(" ON CONFLICT DO NOTHING");
        insert.build().execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(())
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Option<Uuid>, DbError> {
        insert_job(self.writer(), job, now).await
    }

    async fn enqueue_all(&self, jobs: &[NewJob], now: DateTime<Utc>) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        insert_jobs(&mut tx, jobs, now).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<JobRow>, DbError> {
        let rows = sqlx::query(formatcp!("{CLAIM_JOBS} RETURNING {COLUMNS}"))
            .bind(now)
            .bind(now + lease)
            .bind(i64::from(limit))
            .fetch_all(self.writer())
            .await
            .map_err(map_err)?;
        let mut jobs = rows
            .iter()
            .map(job_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| j.run_at);
        Ok(jobs)
    }

    async fn complete_job(
        &self,
        id: Uuid,
        attempt: i32,
        kept: Option<&JsonValue>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = $2, \
             payload = COALESCE($4, payload) \
             WHERE id = $1 AND attempts = $3 AND status = 'running'",
        )
        .bind(id)
        .bind(now)
        .bind(attempt)
        .bind(kept.map(Json))
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn fail_job(
        &self,
        id: Uuid,
        attempt: i32,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        kept: Option<&JsonValue>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE jobs SET status = CASE WHEN $3 IS NULL THEN 'dead' ELSE 'queued' END, \
             run_at = COALESCE($3, run_at), last_error = $2, locked_until = NULL, updated_at = $4, \
             payload = CASE WHEN $3 IS NULL THEN COALESCE($6, payload) ELSE payload END \
             WHERE id = $1 AND attempts = $5 AND status = 'running'",
        )
        .bind(id)
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .bind(attempt)
        .bind(kept.map(Json))
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_job(&self, id: Uuid) -> Result<JobRow, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_one(self.reader())
            .await
            .map_err(map_err)?;
        job_from_row(&row)
    }

    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<JobRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE $1 IS NULL OR status = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(status.map(JobStatus::as_str))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn purge_done_jobs(&self, before: DateTime<Utc>) -> Result<u64, DbError> {
        let deleted = sqlx::query("DELETE FROM jobs WHERE status = 'done' AND updated_at < $1")
            .bind(before)
            .execute(self.writer())
            .await
            .map_err(map_err)?
            .rows_affected();
        Ok(deleted)
    }
}
