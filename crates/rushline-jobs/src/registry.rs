use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rushline_store::NewJob;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A kind of job: its payload type, its name in the job table and how often it may be tried.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    const KIND: &'static str;
    const MAX_ATTEMPTS: i32 = 5;

    /// What of the payload the job table keeps once the job is done or dead: all of it, unless
    /// the kind carries a secret (a mailed code) that must not outlive its use.
    fn kept(self) -> Self {
        self
    }
}

/// The row to enqueue for `job`, due at `run_at`.
#[expect(
    clippy::expect_used,
    reason = "job payloads are plain derived structs; a payload that cannot serialise is a bug"
)]
pub fn new_job<J: Job>(job: &J, run_at: DateTime<Utc>) -> NewJob {
    let payload = serde_json::to_value(job).expect("a job payload serialises to JSON");
    NewJob::new(J::KIND, payload, run_at).max_attempts(J::MAX_ATTEMPTS)
}

type BoxFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
pub(crate) type Handler = Arc<dyn Fn(serde_json::Value) -> BoxFuture + Send + Sync>;
/// A kind's [`Job::kept`] on a stored payload; `None` when it keeps it all.
pub(crate) type Keeper = fn(&serde_json::Value) -> Option<serde_json::Value>;

pub(crate) struct Periodic {
    pub name: &'static str,
    pub every: Duration,
}

/// What a worker knows how to run.
#[derive(Default)]
pub struct Registry {
    pub(crate) handlers: HashMap<&'static str, Handler>,
    pub(crate) keepers: HashMap<&'static str, Keeper>,
    pub(crate) periodic: Vec<Periodic>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `handler` for every job of kind `J`.
    pub fn handle<J, F, Fut>(&mut self, handler: F) -> &mut Self
    where
        J: Job,
        F: Fn(J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let previous = self.handlers.insert(
            J::KIND,
            Arc::new(move |payload| {
                let handler = handler.clone();
                Box::pin(async move {
                    let job: J = serde_json::from_value(payload)?;
                    handler(job).await
                })
            }),
        );
        assert!(previous.is_none(), "two handlers for job kind {}", J::KIND);
        self.keepers.insert(J::KIND, kept::<J>);
        self
    }

    /// Runs `handler` once per `every`, on one node, for each due time. Due times are aligned to
    /// multiples of `every` since the Unix epoch, so every node computes the same ones; the
    /// handler receives the due time.
    pub fn every<F, Fut>(&mut self, name: &'static str, every: Duration, handler: F) -> &mut Self
    where
        F: Fn(DateTime<Utc>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        assert!(!every.is_zero(), "periodic job {name} needs a period");
        let handler = Arc::new(handler);
        let previous = self.handlers.insert(
            name,
            Arc::new(move |payload| {
                let handler = handler.clone();
                Box::pin(async move {
                    let due: DueTime = serde_json::from_value(payload)?;
                    handler(due.due).await
                })
            }),
        );
        assert!(previous.is_none(), "two handlers for job kind {name}");
        self.periodic.push(Periodic { name, every });
        self
    }
}

fn kept<J: Job>(payload: &serde_json::Value) -> Option<serde_json::Value> {
    let job: J = serde_json::from_value(payload.clone()).ok()?;
    let kept = serde_json::to_value(job.kept()).ok()?;
    (kept != *payload).then_some(kept)
}

#[derive(Serialize, serde::Deserialize)]
pub(crate) struct DueTime {
    pub due: DateTime<Utc>,
}
