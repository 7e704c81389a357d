//! The durable job queue. The same table is the outbox: a job enqueued in the transaction that
//! causes it runs only if that transaction commits.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::DbError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DbError> {
        Ok(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "dead" => JobStatus::Dead,
            other => return Err(DbError::Other(format!("unknown job status {other:?}"))),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    /// At most one job ever exists per key (until purged): a second enqueue is a no-op.
    pub dedupe_key: Option<String>,
}

impl NewJob {
    pub fn new(kind: impl Into<String>, payload: serde_json::Value, run_at: DateTime<Utc>) -> Self {
        Self {
            kind: kind.into(),
            payload,
            run_at,
            max_attempts: 5,
            dedupe_key: None,
        }
    }

    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n;
        self
    }

    pub fn dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub dedupe_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Adds a job; `None` when a job with the same dedupe key already exists.
    async fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Option<Uuid>, DbError>;

    /// Adds `jobs` in one transaction, skipping each whose dedupe key exists already.
    async fn enqueue_all(&self, jobs: &[NewJob], now: DateTime<Utc>) -> Result<(), DbError>;

    /// Takes up to `limit` jobs that are due (or whose previous holder's lease ran out), marks them
    /// running until `now + lease`, and counts the attempt. Two workers never take the same job
    /// while its lease lasts.
    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<JobRow>, DbError>;

    /// Records attempt `attempt` as done, with `kept` as the payload from now on when given (a
    /// kind whose payload holds a secret keeps less of it). An attempt whose lease ran out, and
    /// whose job another worker took up since, records nothing: the later attempt's outcome
    /// stands.
    async fn complete_job(
        &self,
        id: Uuid,
        attempt: i32,
        kept: Option<&serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Records a failed attempt: queued again at `retry_at`, or dead when `retry_at` is `None`.
    /// As for [`Store::complete_job`], only the job's latest attempt, while it runs, is recorded;
    /// `kept` replaces the payload of a job that dies.
    async fn fail_job(
        &self,
        id: Uuid,
        attempt: i32,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        kept: Option<&serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;

    async fn get_job(&self, id: Uuid) -> Result<JobRow, DbError>;

    /// Newest first, optionally of one status.
    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<JobRow>, DbError>;

    /// Deletes finished jobs last touched before `before`; dead jobs stay for operators.
    async fn purge_done_jobs(&self, before: DateTime<Utc>) -> Result<u64, DbError>;
}
