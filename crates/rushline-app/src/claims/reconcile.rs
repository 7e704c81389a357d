//! Reconciliation: the database is the truth, and the gate is brought back in line with it.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rushline_store::{DbError, Store};
use uuid::Uuid;

use super::Claims;
use crate::AppError;

impl Claims {
    /// Brings the gate back in line with the database, the truth: grants the database does not
    /// hold (their node died between grant and commit, or a release never reached the gate) are
    /// undone once older than `orphan_after`, and a pool missing claims the database holds is
    /// rebuilt. Returns how many grants it undid and how many pools it rebuilt.
    pub async fn reconcile(
        &self,
        store: &Arc<dyn Store>,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), AppError> {
        let cutoff = (now - self.orphan_after).timestamp_micros();
        let (mut undone, mut rebuilt) = (0, 0);
        for pool in self.gate.pools().await? {
            // The gate first: a grant made after this read cannot look like an orphan below.
            let in_gate = self.gate.grants(&pool).await?;
            let in_db = match store.pool_snapshot(&pool.0).await {
                Ok((row, claims)) => {
                    // A drop's units left, as the database holds them: the dashboard's "remaining"
                    // (drops only: every product has a pool, drops are few at a time).
                    if row.key.starts_with("drop:") {
                        metrics::gauge!("rushline_drop_remaining_units", "pool" => row.key.clone())
                            .set((row.total - row.held) as f64);
                    }
                    claims
                }
                Err(DbError::NotFound) => {
                    self.gate.invalidate(&pool).await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let held: HashSet<Uuid> = in_db.iter().map(|claim| claim.id).collect();
            for grant in in_gate
                .iter()
                .filter(|g| g.at < cutoff && !held.contains(&g.request_id))
            {
                if self.gate.abort(&pool, grant.request_id).await? {
                    tracing::warn!(pool = %pool.0, request = %grant.request_id, "undid a grant the database never recorded");
                    undone += 1;
                }
            }
            let granted: HashSet<Uuid> = in_gate.iter().map(|g| g.request_id).collect();
            let missing = in_db.iter().any(|claim| {
                claim.claimed_at.timestamp_micros() < cutoff && !granted.contains(&claim.id)
            });
            if missing {
                tracing::warn!(pool = %pool.0, "the gate lacks claims the database holds; rebuilding it");
                self.gate.invalidate(&pool).await?;
                rebuilt += 1;
            }
        }
        metrics::counter!("rushline_gate_reconciled_total", "action" => "undo")
            .increment(undone as u64);
        metrics::counter!("rushline_gate_reconciled_total", "action" => "rebuild")
            .increment(rebuilt as u64);
        Ok((undone, rebuilt))
    }
}
