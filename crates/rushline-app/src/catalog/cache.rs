//! The public catalog, cached in process: rendered product pages and listing pages.
//!
//! Every write to a product (its fields, images or time sales) invalidates that product's page
//! and every cached listing, here and, through Redis pub/sub, on every node. Entries also end at
//! the next time-sale boundary of what they show, measured on the application clock, so a price
//! is never served past the moment it changes; and after a real-time TTL, which bounds how long
//! a lost invalidation message can matter.
//!
//! A product's reviews (listing pages and statistics) are cached here too, keyed by product: a
//! review write invalidates its product like any other write to it (the product's page shows
//! its rating), through the same channel, and forgets only that product's review pages.
//!
//! A fill races with writes: a request may read the database, a write commit and invalidate, and
//! the request then store what it read before the write. Every invalidation therefore bumps an
//! epoch, and a fill that sees the epoch move while it loaded removes its own entry again.

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use moka::future::Cache;
use rushline_domain::RatingHistogram;
use rushline_store::{ProductQuery, Review, ReviewQuery};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use uuid::Uuid;

/// A rendered product page and who may see it.
#[derive(Debug, Clone)]
pub struct CachedProduct {
    pub seller_id: Uuid,
    /// Active and not deleted: anyone may see it; otherwise only its owner and admins.
    pub public: bool,
    pub body: Bytes,
}

#[derive(Clone)]
struct Entry<V> {
    value: V,
    /// The next time-sale boundary of what `value` shows, on the application clock.
    valid_until: Option<DateTime<Utc>>,
}

impl<V> Entry<V> {
    fn fresh_at(&self, now: DateTime<Utc>) -> bool {
        self.valid_until.is_none_or(|until| now < until)
    }
}

/// Roughly what a cached review holds: its texts and a fixed part for its ids and times.
fn review_bytes(review: &Review) -> usize {
    review.text.len() + review.title.as_ref().map_or(0, String::len) + review.buyer_name.len() + 128
}

/// What a node tells the others: this product changed.
#[derive(Debug, Serialize, Deserialize)]
struct Invalidation {
    /// The sender, which has already applied it and ignores its own message.
    node: Uuid,
    product: Uuid,
}

/// How this node stands with the other nodes' invalidations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncState {
    /// Subscribed to the invalidation channel. Without Redis there are no other nodes, and this
    /// stays true.
    pub subscribed: bool,
    /// Invalidation messages received from other nodes since start.
    pub received: u64,
}

pub struct CatalogCache {
    node: Uuid,
    products: Cache<Uuid, Entry<CachedProduct>>,
    lists: Cache<ProductQuery, Entry<Bytes>>,
    reviews: Cache<ReviewQuery, Entry<Arc<Vec<Review>>>>,
    ratings: Cache<Uuid, Entry<RatingHistogram>>,
    epoch: AtomicU64,
    remote: Option<Remote>,
    sync: watch::Sender<SyncState>,
}

struct Remote {
    redis: redis::aio::ConnectionManager,
    channel: String,
}

impl CatalogCache {
    /// A cache of at most `max_bytes` of rendered pages, each kept at most `ttl`. With `redis`
    /// (a connection and the channel name), invalidations are shared with other nodes once
    /// [`CatalogCache::spawn_subscriber`] has subscribed; until then every read goes to the
    /// database.
    pub fn new(
        max_bytes: u64,
        ttl: Duration,
        redis: Option<(redis::aio::ConnectionManager, String)>,
    ) -> Self {
        let weigh = |body: &Bytes| u32::try_from(body.len()).unwrap_or(u32::MAX);
        // Product pages and listings share the budget with review pages, a third each.
        let products = Cache::builder()
            .max_capacity(max_bytes / 3)
            .weigher(move |_, e: &Entry<CachedProduct>| weigh(&e.value.body))
            .time_to_live(ttl)
            .build();
        let lists = Cache::builder()
            .max_capacity(max_bytes / 3)
            .weigher(move |_, e: &Entry<Bytes>| weigh(&e.value))
            .time_to_live(ttl)
            .build();
        let reviews = Cache::builder()
            .max_capacity(max_bytes / 3)
            .weigher(|_, e: &Entry<Arc<Vec<Review>>>| {
                // A page costs its entry too: an empty one is not free, or pages for invented
                // cursors would be admitted without bound until they expire.
                let bytes: usize = 256 + e.value.iter().map(review_bytes).sum::<usize>();
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .time_to_live(ttl)
            .support_invalidation_closures()
            .build();
        // A few dozen bytes each: counted, not weighed (100,000 of them stay under 10 MB).
        let ratings = Cache::builder()
            .max_capacity(100_000)
            .time_to_live(ttl)
            .build();
        let (sync, _) = watch::channel(SyncState {
            subscribed: redis.is_none(),
            received: 0,
        });
        Self {
            node: Uuid::new_v4(),
            products,
            lists,
            reviews,
            ratings,
            epoch: AtomicU64::new(0),
            remote: redis.map(|(redis, channel)| Remote { redis, channel }),
            sync,
        }
    }

    /// Follows the subscription and the invalidations received, for readiness checks and tests.
    pub fn sync_state(&self) -> watch::Receiver<SyncState> {
        self.sync.subscribe()
    }

    /// The page of product `id`, from the cache or else from `load`, which answers with the page
    /// and the time it stops being right.
    pub async fn product<E, F, Fut>(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        load: F,
    ) -> Result<CachedProduct, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(CachedProduct, Option<DateTime<Utc>>), E>>,
    {
        self.get_or_load(&self.products, "product", id, now, load)
            .await
    }

    /// A public listing page, from the cache or else from `load`.
    pub async fn list<E, F, Fut>(
        &self,
        query: &ProductQuery,
        now: DateTime<Utc>,
        load: F,
    ) -> Result<Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Bytes, Option<DateTime<Utc>>), E>>,
    {
        self.get_or_load(&self.lists, "list", query.clone(), now, load)
            .await
    }

    /// A page of a product's visible reviews, from the cache or else from `load`.
    pub async fn reviews<E, F, Fut>(
        &self,
        query: &ReviewQuery,
        now: DateTime<Utc>,
        load: F,
    ) -> Result<Arc<Vec<Review>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<Vec<Review>>, E>>,
    {
        let load = || async { Ok((load().await?, None)) };
        self.get_or_load(&self.reviews, "reviews", query.clone(), now, load)
            .await
    }

    /// A product's review statistics, from the cache or else from `load`.
    pub async fn rating<E, F, Fut>(
        &self,
        product: Uuid,
        now: DateTime<Utc>,
        load: F,
    ) -> Result<RatingHistogram, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<RatingHistogram, E>>,
    {
        let load = || async { Ok((load().await?, None)) };
        self.get_or_load(&self.ratings, "rating", product, now, load)
            .await
    }

    async fn get_or_load<K, V, E, F, Fut>(
        &self,
        cache: &Cache<K, Entry<V>>,
        name: &'static str,
        key: K,
        now: DateTime<Utc>,
        load: F,
    ) -> Result<V, E>
    where
        K: Hash + Eq + Send + Sync + Clone + 'static,
        V: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(V, Option<DateTime<Utc>>), E>>,
    {
        let usable = self.sync.borrow().subscribed;
        if usable
            && let Some(entry) = cache.get(&key).await
            && entry.fresh_at(now)
        {
            metrics::counter!("catalog_cache_requests_total", "cache" => name, "outcome" => "hit")
                .increment(1);
            return Ok(entry.value);
        }
        metrics::counter!("catalog_cache_requests_total", "cache" => name, "outcome" => "miss")
            .increment(1);
        let epoch = self.epoch.load(Ordering::SeqCst);
        let (value, valid_until) = load().await?;
        if usable {
            cache
                .insert(
                    key.clone(),
                    Entry {
                        value: value.clone(),
                        valid_until,
                    },
                )
                .await;
            if self.epoch.load(Ordering::SeqCst) != epoch {
                cache.invalidate(&key).await;
            }
        }
        Ok(value)
    }

    /// Forgets what a write to `product` affects, on this node and then on every other.
    pub async fn invalidate(&self, product: Uuid) {
        self.forget(product).await;
        let Some(remote) = &self.remote else { return };
        #[expect(clippy::expect_used, reason = "two ids always serialise")]
        let message = serde_json::to_string(&Invalidation {
            node: self.node,
            product,
        })
        .expect("an invalidation serialises");
        let mut redis = remote.redis.clone();
        let published = redis::cmd("PUBLISH")
            .arg(&remote.channel)
            .arg(message)
            .query_async::<i64>(&mut redis)
            .await;
        if let Err(e) = published {
            // The write itself succeeded; other nodes catch up when their entries' TTL ends.
            metrics::counter!("catalog_cache_publish_failures_total").increment(1);
            tracing::warn!(error = %e, %product, "could not publish a catalog invalidation");
        }
    }

    async fn forget(&self, product: Uuid) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.products.invalidate(&product).await;
        self.lists.invalidate_all();
        self.ratings.invalidate(&product).await;
        if self
            .reviews
            .invalidate_entries_if(move |query, _| query.product_id == product)
            .is_err()
        {
            self.reviews.invalidate_all();
        }
    }

    fn forget_everything(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.products.invalidate_all();
        self.lists.invalidate_all();
        self.reviews.invalidate_all();
        self.ratings.invalidate_all();
    }

    /// Listens on the invalidation channel for as long as this cache lives, resubscribing after
    /// a lost connection. While unsubscribed the cache is bypassed (messages may be missed), and
    /// on every (re)subscription it starts empty.
    pub fn spawn_subscriber(self: &Arc<Self>, client: redis::Client) {
        let Some(remote) = &self.remote else { return };
        let channel = remote.channel.clone();
        let cache = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                match listen(&cache, &client, &channel).await {
                    Ok(()) => return,
                    Err(e) => tracing::warn!(error = %e, "catalog invalidation channel lost"),
                }
                let Some(live) = cache.upgrade() else { return };
                live.sync.send_modify(|s| s.subscribed = false);
                live.forget_everything();
                drop(live);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
    }
}

/// Applies invalidations from `channel` until the connection fails (`Err`) or the cache is gone.
async fn listen(
    cache: &Weak<CatalogCache>,
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<()> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    {
        let Some(cache) = cache.upgrade() else {
            return Ok(());
        };
        cache.forget_everything();
        cache.sync.send_modify(|s| s.subscribed = true);
        tracing::info!(channel, "subscribed to catalog invalidations");
    }
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let Some(cache) = cache.upgrade() else {
            return Ok(());
        };
        match serde_json::from_slice::<Invalidation>(message.get_payload_bytes()) {
            Ok(Invalidation { node, .. }) if node == cache.node => {}
            Ok(Invalidation { product, .. }) => {
                cache.forget(product).await;
                cache.sync.send_modify(|s| s.received += 1);
            }
            Err(e) => tracing::warn!(error = %e, "ignored a malformed catalog invalidation"),
        }
    }
    Err(redis::RedisError::from((
        redis::ErrorKind::IoError,
        "the subscription connection closed",
    )))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use chrono::TimeDelta;

    use super::*;

    fn page(text: &'static str, seller_id: Uuid) -> CachedProduct {
        CachedProduct {
            seller_id,
            public: true,
            body: Bytes::from_static(text.as_bytes()),
        }
    }

    async fn load(
        cache: &CatalogCache,
        id: Uuid,
        now: DateTime<Utc>,
        text: &'static str,
        until: Option<DateTime<Utc>>,
    ) -> Bytes {
        cache
            .product(id, now, || async move {
                Ok::<_, Infallible>((page(text, id), until))
            })
            .await
            .unwrap()
            .body
    }

    #[tokio::test]
    async fn entries_are_reused_until_invalidated_or_their_price_changes() {
        let cache = CatalogCache::new(1 << 20, Duration::from_secs(60), None);
        let (id, now) = (Uuid::now_v7(), Utc::now());
        let boundary = now + TimeDelta::minutes(1);
        assert_eq!(load(&cache, id, now, "v1", Some(boundary)).await, "v1");
        assert_eq!(load(&cache, id, now, "v2", None).await, "v1", "cached");
        let just_before = boundary - TimeDelta::microseconds(1);
        assert_eq!(load(&cache, id, just_before, "v2", None).await, "v1");
        assert_eq!(
            load(&cache, id, boundary, "v3", None).await,
            "v3",
            "reloaded at the boundary"
        );
        assert_eq!(load(&cache, id, boundary, "v4", None).await, "v3");
        cache.invalidate(id).await;
        assert_eq!(load(&cache, id, boundary, "v5", None).await, "v5");
    }

    #[tokio::test]
    async fn a_fill_that_raced_a_write_is_not_kept() {
        let cache = Arc::new(CatalogCache::new(1 << 20, Duration::from_secs(60), None));
        let (id, now) = (Uuid::now_v7(), Utc::now());
        let writer = cache.clone();
        let stale = cache
            .product(id, now, || async move {
                // The write commits and invalidates while this request is reading.
                writer.invalidate(id).await;
                Ok::<_, Infallible>((page("before the write", id), None))
            })
            .await
            .unwrap();
        assert_eq!(stale.body, "before the write");
        assert_eq!(
            load(&cache, id, now, "after the write", None).await,
            "after the write"
        );
    }

    #[tokio::test]
    async fn any_product_write_forgets_every_listing() {
        let cache = CatalogCache::new(1 << 20, Duration::from_secs(60), None);
        let now = Utc::now();
        let query = ProductQuery {
            scope: rushline_store::ListScope::Active,
            category: None,
            seller_id: None,
            terms: Vec::new(),
            sort: rushline_domain::catalog::ProductSort::Newest,
            after: None,
            limit: 20,
        };
        let list = |text: &'static str| {
            cache.list(&query, now, move || async move {
                Ok::<_, Infallible>((Bytes::from_static(text.as_bytes()), None))
            })
        };
        assert_eq!(list("one").await.unwrap(), "one");
        assert_eq!(list("two").await.unwrap(), "one");
        cache.invalidate(Uuid::now_v7()).await;
        assert_eq!(list("three").await.unwrap(), "three");
    }
}
