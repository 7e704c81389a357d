use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use rushline_domain::Clock;
use rushline_store::{DbError, JobRow, NewJob, Store};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::registry::{DueTime, Registry};

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How long an idle worker waits before looking for due jobs again.
    pub poll_interval: Duration,
    /// How long a claimed job is reserved for its worker; after that another worker may run it.
    pub lease: Duration,
    /// Jobs run at once. A slow job holds one of these, never the others: the worker claims
    /// more as soon as any finishes.
    pub concurrency: u32,
    /// How long a job may run before it is stopped and counts as a failed attempt; shorter than
    /// `lease`, so that no job is still running when another worker may take it up.
    pub deadline: Duration,
    /// `deadline` for the kinds that need another.
    pub deadlines: HashMap<String, Duration>,
    /// The first retry waits this long; each further one twice as long, up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            lease: Duration::from_secs(300),
            concurrency: 32,
            deadline: Duration::from_secs(60),
            deadlines: HashMap::new(),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(600),
        }
    }
}

pub struct Worker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    registry: Arc<Registry>,
    options: WorkerOptions,
    /// The last due time this node enqueued per periodic job, to skip inserts that would only
    /// hit the dedupe key.
    enqueued: Mutex<HashMap<&'static str, DateTime<Utc>>>,
}

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        registry: Arc<Registry>,
        options: WorkerOptions,
    ) -> Self {
        Self {
            store,
            clock,
            registry,
            options,
            enqueued: Mutex::default(),
        }
    }

    /// Enqueues the current occurrence of every periodic job. The dedupe key `name@due` makes the
    /// insert happen once per due time across every node; the queue then hands it to one worker.
    pub async fn schedule_due(&self) -> Result<(), DbError> {
        let now = self.clock.now();
        for periodic in &self.registry.periodic {
            let due = align_down(now, periodic.every);
            if self
                .enqueued
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(periodic.name)
                == Some(&due)
            {
                continue;
            }
            #[expect(clippy::expect_used, reason = "a time always serialises")]
            let payload = serde_json::to_value(DueTime { due }).expect("a time serialises");
            let job = NewJob::new(periodic.name, payload, due)
                .max_attempts(1)
                .dedupe_key(format!("{}@{}", periodic.name, due.to_rfc3339()));
            self.store.enqueue(&job, now).await?;
            self.enqueued
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(periodic.name, due);
        }
        Ok(())
    }

    /// Claims up to `concurrency` due jobs and runs them concurrently, waiting for all of them.
    /// Returns how many it ran.
    pub async fn run_batch(&self) -> Result<usize, DbError> {
        let jobs = self.claim(self.options.concurrency).await?;
        let count = jobs.len();
        futures::future::join_all(jobs.into_iter().map(|job| self.run_one(job)))
            .await
            .into_iter()
            .collect::<Result<Vec<()>, DbError>>()?;
        Ok(count)
    }

    /// Schedules periodic jobs, then runs batches until nothing is due. Tests call this after
    /// moving the manual clock.
    pub async fn run_due(&self) -> Result<usize, DbError> {
        self.schedule_due().await?;
        let mut total = 0;
        loop {
            match self.run_batch().await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    /// Runs due jobs until `shutdown` is cancelled, up to `concurrency` at once, claiming more
    /// whenever a slot is free; then waits for the jobs still running (each within its
    /// deadline).
    pub async fn run(self, shutdown: CancellationToken) {
        let worker = Arc::new(self);
        let slots = Arc::new(Semaphore::new(worker.options.concurrency as usize));
        let mut running = JoinSet::new();
        while !shutdown.is_cancelled() {
            let free = u32::try_from(slots.available_permits()).unwrap_or(u32::MAX);
            let claimed = match worker.schedule_due().await {
                Ok(()) if free > 0 => worker.claim(free).await,
                Ok(()) => Ok(Vec::new()),
                Err(e) => Err(e),
            };
            let jobs = claimed.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "job worker could not reach the database");
                Vec::new()
            });
            let idle = jobs.is_empty();
            for job in jobs {
                // Claimed no more than the free slots, so one is free for each.
                let slot = slots.clone().try_acquire_owned();
                let worker = worker.clone();
                running.spawn(async move {
                    let _slot = slot;
                    if let Err(e) = worker.run_one(job).await {
                        tracing::warn!(error = %e, "could not record a job's outcome");
                    }
                });
            }
            if idle {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(worker.options.poll_interval) => {}
                    Some(_) = running.join_next() => {}
                }
            }
            while running.try_join_next().is_some() {}
        }
        while running.join_next().await.is_some() {}
    }

    async fn claim(&self, limit: u32) -> Result<Vec<JobRow>, DbError> {
        let lease = TimeDelta::from_std(self.options.lease).unwrap_or(TimeDelta::MAX);
        self.store.claim_jobs(self.clock.now(), lease, limit).await
    }

    /// Runs `job` within its deadline and records the outcome.
    async fn run_one(&self, job: JobRow) -> Result<(), DbError> {
        // How long past its due time the job started: the queue's lag.
        let lag = (self.clock.now() - job.run_at)
            .to_std()
            .unwrap_or_default()
            .as_secs_f64();
        let deadline = self
            .options
            .deadlines
            .get(&job.kind)
            .copied()
            .unwrap_or(self.options.deadline);
        let span = tracing::info_span!(
            "job",
            otel.name = %job.kind,
            job.id = %job.id,
            job.kind = %job.kind,
            job.attempt = job.attempts,
        );
        let outcome = match self.registry.handlers.get(job.kind.as_str()).cloned() {
            Some(handler) => {
                // Its own task: a panic in a handler is a failed attempt, not a dead worker.
                let mut task = tokio::spawn(handler(job.payload.clone()).instrument(span.clone()));
                match tokio::time::timeout(deadline, &mut task).await {
                    Ok(ran) => ran.unwrap_or_else(|e| Err(anyhow::anyhow!("job panicked: {e}"))),
                    Err(_) => {
                        task.abort();
                        Err(anyhow::anyhow!("job ran past its deadline of {deadline:?}"))
                    }
                }
            }
            None => Err(anyhow::anyhow!("no handler for job kind {:?}", job.kind)),
        };
        self.finish(job, outcome, lag).instrument(span).await
    }

    /// Records the outcome, and counts it with the job's lag (seconds) by kind and outcome.
    async fn finish(
        &self,
        job: JobRow,
        outcome: anyhow::Result<()>,
        lag: f64,
    ) -> Result<(), DbError> {
        let now = self.clock.now();
        let kept = self
            .registry
            .keepers
            .get(job.kind.as_str())
            .and_then(|keep| keep(&job.payload));
        let result = match outcome {
            Ok(()) => {
                metrics::counter!("rushline_jobs_total", "kind" => job.kind.clone(), "outcome" => "done")
                    .increment(1);
                metrics::histogram!("rushline_job_lag_seconds", "kind" => job.kind.clone(), "outcome" => "done")
                    .record(lag);
                return self
                    .store
                    .complete_job(job.id, job.attempts, kept.as_ref(), now)
                    .await;
            }
            Err(e) => format!("{e:#}"),
        };
        let retry_at = (job.attempts < job.max_attempts).then(|| now + self.backoff(job.attempts));
        let outcome = if retry_at.is_some() { "retry" } else { "dead" };
        tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, outcome, error = %result, "job failed");
        metrics::counter!("rushline_jobs_total", "kind" => job.kind.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("rushline_job_lag_seconds", "kind" => job.kind.clone(), "outcome" => outcome)
            .record(lag);
        self.store
            .fail_job(job.id, job.attempts, &result, retry_at, kept.as_ref(), now)
            .await
    }

    /// Exponential backoff with up to 10 % jitter, so that jobs failing together retry apart.
    fn backoff(&self, attempts: i32) -> TimeDelta {
        let exp = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        let delay = self
            .options
            .backoff_base
            .saturating_mul(1 << exp)
            .min(self.options.backoff_cap);
        let jitter = delay.mul_f64(rand::rng().random_range(0.0..0.1));
        TimeDelta::from_std(delay + jitter).unwrap_or(TimeDelta::MAX)
    }
}

#[expect(
    clippy::expect_used,
    reason = "periods are far below 2^63 µs, and the aligned time is at most `now`"
)]
fn align_down(now: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    let every = i64::try_from(every.as_micros()).expect("period fits in i64 microseconds");
    let micros = now.timestamp_micros();
    DateTime::from_timestamp_micros(micros - micros.rem_euclid(every))
        .expect("aligned time is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times_align_to_the_period() {
        let t = DateTime::parse_from_rfc3339("2026-03-01T09:00:07.250Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            align_down(t, Duration::from_secs(1)).to_rfc3339(),
            "2026-03-01T09:00:07+00:00"
        );
        assert_eq!(
            align_down(t, Duration::from_secs(60)).to_rfc3339(),
            "2026-03-01T09:00:00+00:00"
        );
        assert_eq!(
            align_down(t, Duration::from_secs(86_400)).to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
    }
}
