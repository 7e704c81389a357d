//! Drops: their metadata for the hot path, read from the database at most once per second per
//! drop and node, so that a burst of purchases costs no database read for the drop itself;
//! [`purchase`], buying units of one (of a raffle drop, winners only: see [`crate::raffles`]);
//! and a seller's scheduling, changing and deleting them.

mod manage;
mod purchase;
mod told;

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use rushline_store::{DbError, ProductDrop, Store};
use uuid::Uuid;

use crate::AppError;

pub use manage::{DropChanges, create_drop, delete_drop, update_drop};
pub use purchase::{PurchaseRequest, Purchased, purchase};
pub(crate) use told::tell_closed;
pub use told::{DropClosed, closed, sold_out_and_full};

/// How long a node trusts its copy of a drop. Terms change only before opening (`PATCH` refuses
/// afterwards) and the changing node forgets its copy at once; another node may use the old
/// terms for at most this long.
const FRESH_FOR: Duration = Duration::from_secs(1);

pub struct DropCache {
    drops: Cache<Uuid, Arc<ProductDrop>>,
}

impl Default for DropCache {
    fn default() -> Self {
        Self {
            drops: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(FRESH_FOR)
                .build(),
        }
    }
}

impl DropCache {
    /// The drop, from this node's copy or, at most once per [`FRESH_FOR`], from the store.
    pub async fn get(
        &self,
        store: &Arc<dyn Store>,
        id: Uuid,
    ) -> Result<Arc<ProductDrop>, AppError> {
        self.drops
            .try_get_with(id, async { store.drop_by_id(id).await.map(Arc::new) })
            .await
            .map_err(|e: Arc<DbError>| AppError::from((*e).clone()))
    }

    pub async fn forget(&self, id: Uuid) {
        self.drops.invalidate(&id).await;
    }
}
