//! The store answers at all.

use std::sync::Arc;

use crate::Store;

pub async fn health_ping(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}
