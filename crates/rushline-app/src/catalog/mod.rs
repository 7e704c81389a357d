//! What the catalog's handlers share beyond the store: the cache of public pages and the object
//! store holding product images.

mod cache;

use std::sync::Arc;

use object_store::ObjectStore;

pub use cache::{CachedProduct, CatalogCache, SyncState};

pub struct Catalog {
    pub cache: Arc<CatalogCache>,
    /// Image bytes: a local directory by default, an S3-compatible bucket when configured.
    pub images: Arc<dyn ObjectStore>,
    pub max_image_bytes: usize,
    pub max_images_per_product: u32,
}
