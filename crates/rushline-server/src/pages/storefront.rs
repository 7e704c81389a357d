//! The buyer's public pages: the drops live and coming, the catalog with search and category,
//! a product with its price now.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use rushline_app::AppError;
use rushline_domain::catalog::{ListingRequest, ProductCursor};
use rushline_domain::{ProductStatus, RatingHistogram};
use rushline_gate::PoolKey;
use rushline_store::{
    DropFilter, DropWindow, ListScope, ProductDetails, ProductDrop, ProductQuery,
};
use serde::Deserialize;
use uuid::Uuid;

use super::locale::{Msg, Viewer};
use super::{ForViewer, PageError, page};
use crate::AppState;

/// Drops of each kind the home page shows.
const HOME_DROPS: u32 = 12;

pub(super) async fn home(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let live = drops(&state, DropWindow::Open { now })
        .await
        .for_viewer(&viewer)?;
    let upcoming = drops(&state, DropWindow::Scheduled { now })
        .await
        .for_viewer(&viewer)?;
    let content = html! {
        section aria-labelledby="live" {
            h1 #live { (viewer.t(Msg::LiveDrops)) }
            @if live.is_empty() {
                p.muted { (viewer.t(Msg::NoLiveDrops)) }
            } @else {
                ul.grid {
                    @for (drop, name, left) in &live {
                        li.card {
                            h3 { a href={ "/drops/" (drop.id) } { (name) } }
                            p.price { (viewer.lang.won(drop.price)) }
                            p { (viewer.t(Msg::UnitsLeft)) ": " (left.map_or_else(String::new, |n| n.to_string())) " / " (drop.quantity) }
                            p.muted { (viewer.t(Msg::Closes)) " " time datetime=(drop.closes_at.to_rfc3339()) { (viewer.time(drop.closes_at)) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="upcoming" {
            h2 #upcoming { (viewer.t(Msg::UpcomingDrops)) }
            @if upcoming.is_empty() {
                p.muted { (viewer.t(Msg::NoUpcomingDrops)) }
            } @else {
                ul.grid {
                    @for (drop, name, _) in &upcoming {
                        li.card {
                            h3 { a href={ "/drops/" (drop.id) } { (name) } }
                            p.price { (viewer.lang.won(drop.price)) }
                            p { (viewer.t(Msg::Opens)) " " time datetime=(drop.opens_at.to_rfc3339()) { (viewer.time(drop.opens_at)) } " (" span data-countdown=(drop.opens_at.to_rfc3339()) { (countdown(drop.opens_at, now)) } ")" }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&viewer, viewer.t(Msg::Home), content))
}

/// Drops in `window`, soonest first, with their product's name and (open ones) units left.
async fn drops(
    state: &AppState,
    window: DropWindow,
) -> Result<Vec<(ProductDrop, String, Option<u64>)>, AppError> {
    let found = state
        .store
        .list_drops(&DropFilter {
            seller_id: None,
            window: Some(window),
            opening: None,
            limit: HOME_DROPS,
        })
        .await?;
    let mut shown = Vec::with_capacity(found.len());
    for drop in found {
        let product = state.store.product(drop.product_id).await?;
        let left = match window {
            DropWindow::Open { .. } => {
                state
                    .claims
                    .gate
                    .remaining(&PoolKey(drop.pool_key()))
                    .await?
            }
            _ => None,
        };
        shown.push((drop, product.name, left));
    }
    Ok(shown)
}

/// `1d 2h`, `3h 5m`, `4m`: how long until `at`.
fn countdown(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = (at - now).num_minutes().max(0);
    let (days, hours, minutes) = (left / 1_440, left / 60 % 24, left % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m"),
        (0, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Listing {
    q: Option<String>,
    category: Option<String>,
    cursor: Option<String>,
}

pub(super) async fn products(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(listing): Query<Listing>,
) -> Result<Response, PageError> {
    let q = listing.q.filter(|q| !q.trim().is_empty());
    let category = listing.category.filter(|c| !c.trim().is_empty());
    let request = ListingRequest::validate(None, Some(24), category.as_deref(), q.as_deref())
        .for_viewer(&viewer)?;
    let after = listing
        .cursor
        .as_deref()
        .map(|cursor| ProductCursor::decode(cursor, request.sort))
        .transpose()
        .map_err(|e| AppError::new(rushline_app::ErrorCode::InvalidCursor, e.to_string()))
        .for_viewer(&viewer)?;
    let query = ProductQuery {
        scope: ListScope::Active,
        category: request.category,
        seller_id: None,
        terms: request.terms,
        sort: request.sort,
        after,
        limit: request.limit + 1,
    };
    let now = state.clock.now();
    let mut found = state
        .store
        .list_products(&query, now)
        .await
        .for_viewer(&viewer)?;
    let more = found.len() > request.limit as usize;
    found.truncate(request.limit as usize);
    let next = found.last().filter(|_| more).map(|last| {
        let p = &last.product;
        let cursor = ProductCursor::after(request.sort, p.created_at, p.price, p.id).encode();
        let pairs: Vec<(&str, &str)> = [
            ("cursor", Some(cursor.as_str())),
            ("q", q.as_deref()),
            ("category", category.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect();
        format!(
            "/products?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    });
    let content = html! {
        h1 { (viewer.t(Msg::Products)) }
        form.search method="get" action="/products" role="search" {
            label { (viewer.t(Msg::Search)) input type="search" name="q" value=[q.as_deref()]; }
            label { (viewer.t(Msg::Category)) input type="text" name="category" value=[category.as_deref()] placeholder=(viewer.t(Msg::AnyCategory)); }
            button type="submit" { (viewer.t(Msg::SearchButton)) }
        }
        @if found.is_empty() {
            p.muted { (viewer.t(Msg::NoProducts)) }
        } @else {
            ul.grid {
                @for details in &found {
                    li.card {
                        h3 { a href={ "/products/" (details.product.id) } { (details.product.name) } }
                        p.muted { (details.product.category) }
                        (price(&viewer, details, now))
                        (rating(&viewer, &details.rating))
                    }
                }
            }
        }
        @if let Some(next) = next {
            p { a href=(next) rel="next" { (viewer.t(Msg::NextPage)) } }
        }
    };
    Ok(page(&viewer, viewer.t(Msg::Products), content))
}

pub(super) async fn product(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let id: Uuid = id
        .parse()
        .map_err(|_| AppError::not_found())
        .for_viewer(&viewer)?;
    let details = state
        .store
        .product_details(id, now)
        .await
        .for_viewer(&viewer)?;
    let product = &details.product;
    if product.status != ProductStatus::Active || product.deleted_at.is_some() {
        return Err(AppError::not_found()).for_viewer(&viewer);
    }
    let content = html! {
        h1 { (product.name) }
        p.muted { (product.category) }
        (price(&viewer, &details, now))
        (rating(&viewer, &details.rating))
        @if !details.images.is_empty() {
            div.gallery {
                @for (n, image) in details.images.iter().enumerate() {
                    img src={ "/api/v1/products/" (product.id) "/images/" (image.id) }
                        alt={ (product.name) " " (n + 1) } loading="lazy";
                }
            }
        }
        p { (product.description) }
    };
    Ok(page(&viewer, &product.name, content))
}

/// The price now; a time sale shows the list price struck through and when the sale ends.
fn price(viewer: &Viewer, details: &ProductDetails, now: DateTime<Utc>) -> Markup {
    let effective = details.effective_price(now);
    let list = details.product.price;
    let sale_ends = details
        .time_sales
        .iter()
        .filter(|sale| sale.starts_at <= now && now < sale.ends_at && sale.price == effective)
        .map(|sale| sale.ends_at)
        .min();
    html! {
        p.price {
            @if effective < list {
                del aria-label=(viewer.t(Msg::ListPrice)) { (viewer.lang.won(list)) }
                span.sale { (viewer.lang.won(effective)) }
                @if let Some(ends) = sale_ends {
                    br;
                    small.muted { (viewer.t(Msg::TimeSaleUntil)) " " (viewer.time(ends)) }
                }
            } @else {
                (viewer.lang.won(list))
            }
        }
    }
}

fn rating(viewer: &Viewer, rating: &RatingHistogram) -> Markup {
    html! {
        p {
            @match rating.average() {
                Some(average) => { (viewer.t(Msg::Rating)) " " (format!("{average:.1}")) " / 5 (" (rating.count()) " " (viewer.t(Msg::Reviews)) ")" }
                None => span.muted { (viewer.t(Msg::NoReviews)) }
            }
        }
    }
}
