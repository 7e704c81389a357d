//! Product reviews: written by a buyer who bought the product (a completed order, or a
//! delivered one past its return window) or tested it (a selected trial application), one per
//! buyer and product; edited or deleted by their author, deleted or hidden by an admin.
//!
//! A product's statistics are counters (a histogram of stars) the store changes in the
//! transaction of every review write, so reading them never scans the reviews. Listing pages
//! and statistics are cached with the catalog and invalidated with the product, on every node.

use std::sync::Arc;

use rushline_domain::{ApplicationStatus, ProductStatus, RatingHistogram, ReviewDraft};
use rushline_store::{
    DbError, NewReview, REVIEWS_APPLICATION_KEY, REVIEWS_ONE_PER_BUYER, Review, ReviewQuery, Store,
};
use uuid::Uuid;

use crate::claims::{Creates, created_id};
use crate::trials::status_notice;
use crate::{App, AppError, AuthUser, ErrorCode};

/// Writes `buyer`'s review of `product_id`. With an idempotency `key`, a retry answers the
/// review the first attempt wrote.
pub async fn create(
    app: &App,
    buyer: AuthUser,
    key: Option<&str>,
    product_id: Uuid,
    draft: ReviewDraft,
) -> Result<Review, AppError> {
    live_product(&app.store, product_id, false).await?;
    let review = draft.validate()?;
    let now = app.clock.now();
    let right = app
        .store
        .review_right(buyer.id, product_id, now - app.orders.return_window)
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::ReviewNotAllowed,
                "only a buyer with a completed order of the product, or a selected tester of \
                 one of its trials, may review it",
            )
        })?;
    // A tester hears back, as on every change of their application; once per application.
    let jobs = right
        .application_id
        .map(|id| status_notice(id, ApplicationStatus::ReviewSubmitted, now))
        .into_iter()
        .collect();
    let new = NewReview {
        id: created_id(buyer.id, Creates::Review, key),
        product_id,
        buyer_id: buyer.id,
        right,
        rating: review.rating,
        title: review.title,
        text: review.text,
        at: now,
        jobs,
    };
    match app.store.create_review(&new).await {
        Ok(created) => {
            app.catalog.cache.invalidate(product_id).await;
            Ok(created)
        }
        // A retry with the key names the same review: its id (a primary-key conflict) or,
        // on some backends, its buyer and product first.
        Err(DbError::Conflict { .. })
            if key.is_some()
                && let Ok(first) = app.store.review(new.id).await
                && first.product_id == product_id =>
        {
            Ok(first)
        }
        Err(e)
            if e.is_conflict_on(REVIEWS_ONE_PER_BUYER)
                || e.is_conflict_on(REVIEWS_APPLICATION_KEY) =>
        {
            Err(AppError::new(
                ErrorCode::AlreadyReviewed,
                "you have reviewed this product already; edit that review instead",
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// What a `PATCH` of a review changes; `None` keeps the current value, an empty title removes it.
#[derive(Debug, Default)]
pub struct ReviewChanges {
    pub rating: Option<i64>,
    pub title: Option<String>,
    pub text: Option<String>,
}

/// Changes the caller's review; anyone else's answers 404.
pub async fn update(
    app: &App,
    caller: AuthUser,
    product_id: Uuid,
    id: Uuid,
    changes: ReviewChanges,
) -> Result<Review, AppError> {
    let current = found(app, product_id, id).await?;
    if current.buyer_id != caller.id {
        return Err(AppError::not_found());
    }
    let review = ReviewDraft {
        rating: changes.rating.unwrap_or(i64::from(current.rating)),
        title: changes.title.or(current.title),
        text: changes.text.unwrap_or(current.text),
    }
    .validate()?;
    let updated = app
        .store
        .update_review(
            id,
            review.rating,
            review.title.as_deref(),
            &review.text,
            app.clock.now(),
        )
        .await?;
    app.catalog.cache.invalidate(product_id).await;
    Ok(updated)
}

/// Deletes a review: its author or an admin; anyone else gets 404. A trial application stays
/// `review_submitted`: the tester did post a review.
pub async fn delete(
    app: &App,
    caller: AuthUser,
    product_id: Uuid,
    id: Uuid,
) -> Result<(), AppError> {
    let current = found(app, product_id, id).await?;
    if current.buyer_id != caller.id && !caller.is_admin() {
        return Err(AppError::not_found());
    }
    app.store.delete_review(id).await?;
    app.catalog.cache.invalidate(product_id).await;
    Ok(())
}

/// Hides a review from listings and statistics: admins only. Hiding it again changes nothing.
pub async fn hide(
    app: &App,
    caller: AuthUser,
    product_id: Uuid,
    id: Uuid,
) -> Result<Review, AppError> {
    if !caller.is_admin() {
        return Err(AppError::forbidden());
    }
    found(app, product_id, id).await?;
    let hidden = app.store.hide_review(id, app.clock.now()).await?;
    app.catalog.cache.invalidate(product_id).await;
    Ok(hidden)
}

/// A page of a public product's visible reviews.
pub async fn list(app: &App, query: &ReviewQuery) -> Result<Arc<Vec<Review>>, AppError> {
    let store = &app.store;
    app.catalog
        .cache
        .reviews(query, app.clock.now(), || async {
            live_product(store, query.product_id, true).await?;
            Ok::<_, AppError>(Arc::new(store.list_reviews(query).await?))
        })
        .await
}

/// A public product's review statistics.
pub async fn stats(app: &App, product_id: Uuid) -> Result<RatingHistogram, AppError> {
    let store = &app.store;
    app.catalog
        .cache
        .rating(product_id, app.clock.now(), || async {
            live_product(store, product_id, true).await?;
            Ok::<_, AppError>(store.review_stats(product_id).await?)
        })
        .await
}

/// The review `id` of `product_id`; 404 when it is of another product.
async fn found(app: &App, product_id: Uuid, id: Uuid) -> Result<Review, AppError> {
    match app.store.review(id).await {
        Ok(review) if review.product_id == product_id => Ok(review),
        Ok(_) | Err(DbError::NotFound) => Err(AppError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// 404 unless the product exists, is not deleted and, when `public`, is on sale.
async fn live_product(store: &Arc<dyn Store>, id: Uuid, public: bool) -> Result<(), AppError> {
    let product = store.product(id).await?;
    if product.deleted_at.is_some() || (public && product.status != ProductStatus::Active) {
        return Err(AppError::not_found());
    }
    Ok(())
}
