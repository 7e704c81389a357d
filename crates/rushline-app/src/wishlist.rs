//! A buyer's wishlist: products they want, apart from the cart. Wishers hear when a drop of a
//! product is scheduled, again just before it opens, and when a time sale of it starts.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::notification::Event;
use rushline_jobs::Registry;
use rushline_store::{Audience, NewJob, WISHLIST_FULL, Wish};
use uuid::Uuid;

use crate::cart::Cart;
use crate::notifications::{notice, shown};
use crate::{App, AppError, ErrorCode};

/// The most products one wishlist holds.
pub const MAX_WISHES: u32 = 500;
/// How long before a drop opens its wishers are told again.
const OPENING_SOON: TimeDelta = TimeDelta::minutes(10);
/// How often the alerts job runs.
const ALERTS_EVERY: Duration = Duration::from_secs(10);

/// Puts `product` (on sale) on `buyer`'s wishlist; `false` when it was there already.
pub async fn wish(app: &App, buyer: Uuid, product: Uuid) -> Result<bool, AppError> {
    match app
        .store
        .wish(buyer, product, MAX_WISHES, app.clock.now())
        .await
    {
        Err(e) if e.is_conflict_on(WISHLIST_FULL) => Err(AppError::new(
            ErrorCode::WishlistFull,
            format!("a wishlist holds at most {MAX_WISHES} products: remove one first"),
        )
        .with_details(serde_json::json!({ "max": MAX_WISHES }))),
        wished => Ok(wished?),
    }
}

/// Takes `product` off `buyer`'s wishlist; nothing when it was not on it.
pub async fn unwish(app: &App, buyer: Uuid, product: Uuid) -> Result<(), AppError> {
    app.store.unwish(buyer, product).await?;
    Ok(())
}

pub async fn list(
    app: &App,
    buyer: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> Result<Vec<Wish>, AppError> {
    Ok(app.store.wishlist(buyer, after, limit).await?)
}

/// Moves `product` from `buyer`'s wishlist into their cart, `quantity` units; 404 when it is not
/// on the wishlist. The cart's rules apply as for any addition.
pub async fn to_cart(
    app: &App,
    buyer: Uuid,
    product: Uuid,
    quantity: i64,
) -> Result<Cart, AppError> {
    let on_list = app.store.wishlist_has(buyer, product).await?;
    if !on_list {
        return Err(AppError::not_found());
    }
    let cart = crate::cart::add(app, buyer, product, quantity).await?;
    app.store.unwish(buyer, product).await?;
    Ok(cart)
}

pub(crate) fn register_jobs(registry: &mut Registry, app: &Arc<App>) {
    let alerts = app.clone();
    registry.every("wishlist_alerts", ALERTS_EVERY, move |_| {
        let app = alerts.clone();
        async move {
            alert(&app, app.clock.now())
                .await
                .map_err(|e| anyhow::anyhow!("wishlist alerts failed: {e:?}"))
        }
    });
}

/// Tells wishers of the drops opening within ten minutes of `now`, and of the time sales that
/// started within the last ten minutes and still run, once each: every run looks at the whole
/// span, so a run that is skipped or fails costs nothing.
async fn alert(app: &App, now: DateTime<Utc>) -> Result<(), AppError> {
    let mut jobs: Vec<NewJob> = Vec::new();
    for drop in app.store.drops_opening(now, now + OPENING_SOON).await? {
        jobs.push(notice(
            Event::WishlistDropOpening,
            Audience::Wishers {
                product: drop.product_id,
            },
            drop.id,
            [
                ("title", drop.product_name),
                ("opens_at", shown(drop.starts_at)),
            ],
            now,
        ));
    }
    for sale in app.store.sales_starting(now - OPENING_SOON, now).await? {
        if sale.ends_at <= now {
            continue;
        }
        jobs.push(notice(
            Event::WishlistTimeSaleStarted,
            Audience::Wishers {
                product: sale.product_id,
            },
            sale.id,
            [
                ("title", sale.product_name),
                ("price", sale.price.get().to_string()),
                ("ends_at", shown(sale.ends_at)),
            ],
            now,
        ));
    }
    app.notifications
        .enqueue_untold(app.store.as_ref(), jobs, now)
        .await
}
