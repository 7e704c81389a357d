//! The catalog: sellers' products, their time sales and images, the cache of public pages and
//! the object store holding image bytes.

mod cache;
mod products;

use std::sync::Arc;

use object_store::ObjectStore;

pub use cache::{CachedProduct, CatalogCache, SyncState};
pub use products::{
    add_image, create_product, create_time_sale, delete_product, image_key, owned_product,
    update_product,
};

pub struct Catalog {
    pub cache: Arc<CatalogCache>,
    /// Image bytes: a local directory by default, an S3-compatible bucket when configured.
    pub images: Arc<dyn ObjectStore>,
    pub max_image_bytes: usize,
    pub max_images_per_product: u32,
}
