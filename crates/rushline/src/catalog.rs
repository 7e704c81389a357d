//! The catalog's objects beyond the store: the page cache (shared with other nodes through
//! Redis when configured) and the object store for image bytes.

use std::sync::Arc;

use anyhow::Context;
use object_store::ObjectStore;
#[cfg(feature = "s3")]
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use rushline_app::catalog::{Catalog, CatalogCache};

use crate::Config;

pub(crate) fn open_catalog(
    config: &Config,
    redis: Option<&redis::aio::ConnectionManager>,
) -> anyhow::Result<Catalog> {
    let channel = format!("{}catalog:invalidate", config.redis.key_prefix);
    let cache = Arc::new(CatalogCache::new(
        config.catalog.cache_max_bytes,
        config.catalog.cache_ttl,
        redis.map(|r| (r.clone(), channel)),
    ));
    if let Some(url) = &config.redis.url {
        let client = redis::Client::open(url.expose()).context("redis.url")?;
        cache.spawn_subscriber(client);
    }
    Ok(Catalog {
        cache,
        images: open_images(config)?,
        max_image_bytes: config.images.max_bytes,
        max_images_per_product: config.images.max_per_product,
    })
}

/// `images.s3` when configured, else a directory under `data_dir`. A build without the `s3`
/// feature has refused `images.s3` when the configuration was loaded.
fn open_images(config: &Config) -> anyhow::Result<Arc<dyn ObjectStore>> {
    #[cfg(feature = "s3")]
    if let Some(s3) = &config.images.s3 {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region);
        if let Some(endpoint) = &s3.endpoint {
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint);
        }
        if let Some(key) = &s3.access_key_id {
            builder = builder.with_access_key_id(key.expose());
        }
        if let Some(secret) = &s3.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose());
        }
        return Ok(Arc::new(builder.build().context("images.s3")?));
    }
    let dir = config.data_dir.join("images");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the image directory {}", dir.display()))?;
    Ok(Arc::new(
        LocalFileSystem::new_with_prefix(&dir)
            .with_context(|| format!("cannot use the image directory {}", dir.display()))?,
    ))
}

#[cfg(test)]
mod tests {
    use object_store::PutPayload;
    use object_store::path::Path;

    use super::*;

    #[tokio::test]
    async fn images_go_to_a_directory_under_data_dir_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let images = open_images(&config).unwrap();
        let key = Path::from("products/p/i");
        images
            .put(&key, PutPayload::from_static(b"bytes"))
            .await
            .unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("images/products/p/i")).unwrap(),
            b"bytes"
        );
    }

    // Building the client contacts no server; no S3-compatible server runs in the tests.
    #[cfg(feature = "s3")]
    #[test]
    fn an_s3_bucket_is_used_when_configured() {
        let mut config = Config::default();
        config.images.s3 = Some(crate::config::S3Config {
            bucket: "rushline-images".to_owned(),
            endpoint: Some("http://127.0.0.1:9000".to_owned()),
            region: "us-east-1".to_owned(),
            access_key_id: Some("minio".into()),
            secret_access_key: Some("minio-secret".into()),
        });
        let images = open_images(&config).unwrap();
        assert!(images.to_string().contains("rushline-images"), "{images}");
    }
}
