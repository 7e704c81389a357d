//! Trial campaigns ("체험단"): a seller's campaigns ([`manage`]), applying for a slot ([`apply`],
//! a claim on the trial's pool through the same gate and group commit as drop units), and what
//! becomes of a tester afterwards ([`testers`]: cancelling, an overdue review and its bar, and
//! the mail each change sends).
//!
//! A trial is read from the database at most once per second per trial and node while in use,
//! so that a burst of applications costs no database read for the trial itself.

mod apply;
mod manage;
mod testers;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use moka::future::Cache;
use rushline_store::{DbError, Store, Trial};
use uuid::Uuid;

use crate::AppError;

pub(crate) use apply::select;
pub use apply::{Applied, apply};
pub use manage::{
    TrialChanges, TrialStats, applications, create_trial, delete_trial, owned_trial, pause, resume,
    stats, stats_of, update_trial,
};
pub use testers::{TrialNotice, cancel, mark_overdue};
pub(crate) use testers::{paused, register_jobs, status_notice, trial_barred};

/// How long a node trusts its copy of a trial. Terms change only before opening and a pause
/// or resume forgets the changing node's copy at once; another node may refuse or let through
/// an application for at most this long, and the group commit refuses any selection of a trial
/// paused before it commits.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// How trials treat testers.
#[derive(Debug, Clone)]
pub struct TrialSettings {
    /// How long a tester whose review went overdue may not be selected again.
    pub overdue_bar: TimeDelta,
}

pub struct TrialCache {
    trials: Cache<Uuid, Arc<Trial>>,
}

impl Default for TrialCache {
    fn default() -> Self {
        Self {
            trials: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(FRESH_FOR)
                .build(),
        }
    }
}

impl TrialCache {
    /// The trial, from this node's copy or, at most once per [`FRESH_FOR`], from the store.
    pub async fn get(&self, store: &Arc<dyn Store>, id: Uuid) -> Result<Arc<Trial>, AppError> {
        self.trials
            .try_get_with(id, async { store.trial(id).await.map(Arc::new) })
            .await
            .map_err(|e: Arc<DbError>| AppError::from((*e).clone()))
    }

    pub async fn forget(&self, id: Uuid) {
        self.trials.invalidate(&id).await;
    }
}
