//! A seller's drops: scheduling one (idempotently), changing and deleting it while it is
//! scheduled. Only its seller or an admin sees it as theirs; anyone else is told it does not
//! exist.

use chrono::{DateTime, Utc};
use rushline_domain::notification::Event;
use rushline_domain::raffle::Seed;
use rushline_domain::{
    Allocation, DropTerms, FieldErrors, RaffleTerms, ValidDropTerms, WaitingRoomTerms, Won,
};
use rushline_gate::PoolKey;
use rushline_store::{
    Audience, DROP_NOT_SCHEDULED, DbError, ProductDrop, RaffleSettings, WaitingRoomSettings,
    drop_pool_key,
};
use uuid::Uuid;

use crate::claims::{Creates, created_id};
use crate::notifications::{notice, shown};
use crate::{App, AppError, AuthUser, ErrorCode};

/// What a `PATCH` of a drop changes; `None` keeps the current value. `waiting_room` is
/// `Some(None)` to remove the room.
#[derive(Debug, Default)]
pub struct DropChanges {
    pub quantity: Option<i64>,
    pub price: Option<Won>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub per_user_limit: Option<i64>,
    pub waiting_room: Option<Option<WaitingRoomTerms>>,
}

/// Schedules a drop of one of `seller`'s products, first come or (with `raffle`) by a draw. With
/// an idempotency `key`, a retry gets the drop the first attempt created, and different terms
/// under the same key `idempotency_mismatch`.
pub async fn create_drop(
    app: &App,
    seller: AuthUser,
    key: Option<&str>,
    product_id: Uuid,
    terms: DropTerms,
    room: Option<WaitingRoomTerms>,
    raffle: Option<RaffleTerms>,
) -> Result<ProductDrop, AppError> {
    let now = app.clock.now();
    let (terms, waiting_room) = checked(terms, room, now)?;
    let raffle = match raffle {
        None => None,
        Some(_) if waiting_room.is_some() => {
            let mut errors = FieldErrors::new();
            errors.add(
                "waiting_room",
                "a raffle drop has no waiting room: its draw is the queue",
            );
            return Err(errors.into());
        }
        Some(raffle) => {
            let raffle = raffle.validate(terms.opens_at, terms.closes_at)?;
            let seed: Seed = rand::random();
            Some((raffle, seed))
        }
    };
    let product = match app.store.product(product_id).await {
        Ok(product) if product.seller_id == seller.id && product.deleted_at.is_none() => product,
        Ok(_) | Err(DbError::NotFound) => return Err(AppError::not_found()),
        Err(e) => return Err(e.into()),
    };
    let drop = ProductDrop {
        id: created_id(seller.id, Creates::Drop, key),
        product_id: product.id,
        seller_id: seller.id,
        quantity: terms.quantity,
        price: terms.price,
        opens_at: terms.opens_at,
        closes_at: terms.closes_at,
        per_user_limit: terms.per_user_limit,
        created_at: now,
        updated_at: now,
        opened_at: None,
        closed_at: None,
        waiting_room,
        queue_seed: None,
        allocation: if raffle.is_some() {
            Allocation::Raffle
        } else {
            Allocation::Fcfs
        },
        raffle: raffle.map(|(raffle, seed)| RaffleSettings {
            entries_close_at: raffle.entries_close_at,
            claim_window_minutes: Some(raffle.claim_window_minutes),
            seed_commitment: rushline_domain::raffle::seed_commitment(&seed),
            drawn_at: None,
            entrants: None,
            exhausted_at: None,
        }),
    };
    // Everyone who wishlisted the product hears of it, in the drop's transaction.
    let wishers = notice(
        Event::WishlistDropScheduled,
        Audience::Wishers {
            product: product.id,
        },
        drop.id,
        [
            ("title", product.name.clone()),
            ("opens_at", shown(drop.opens_at)),
        ],
        now,
    );
    match app
        .store
        .create_drop(&drop, raffle.as_ref().map(|(_, seed)| seed), &[wishers])
        .await
    {
        Ok(()) => Ok(drop),
        Err(DbError::Conflict { .. }) if key.is_some() => replay(app, &drop).await,
        Err(e) => Err(e.into()),
    }
}

/// The drop a retried creation's first attempt created, if it asked for the same.
async fn replay(app: &App, asked: &ProductDrop) -> Result<ProductDrop, AppError> {
    let first = app.store.drop_by_id(asked.id).await?;
    let terms = |drop: &ProductDrop| {
        (
            drop.product_id,
            drop.seller_id,
            drop.quantity,
            drop.price,
            drop.opens_at,
            drop.closes_at,
            drop.per_user_limit,
            drop.waiting_room,
            drop.raffle
                .as_ref()
                .map(|raffle| (raffle.entries_close_at, raffle.claim_window_minutes)),
        )
    };
    if terms(&first) != terms(asked) {
        return Err(AppError::idempotency_mismatch());
    }
    Ok(first)
}

/// Changes a drop's terms while it is scheduled; the gate rebuilds its pool from the new ones.
pub async fn update_drop(
    app: &App,
    caller: AuthUser,
    id: Uuid,
    changes: DropChanges,
) -> Result<ProductDrop, AppError> {
    let now = app.clock.now();
    let current = owned_drop(app, caller, id).await?;
    let terms = DropTerms {
        quantity: changes.quantity.unwrap_or(current.quantity),
        price: changes.price.unwrap_or(current.price),
        opens_at: changes.opens_at.unwrap_or(current.opens_at),
        closes_at: changes.closes_at.unwrap_or(current.closes_at),
        per_user_limit: changes
            .per_user_limit
            .unwrap_or(i64::from(current.per_user_limit)),
    };
    let (terms, waiting_room) = match changes.waiting_room {
        None => (terms.validate(now)?, current.waiting_room),
        Some(room) => checked(terms, room, now)?,
    };
    if let Some(raffle) = &current.raffle {
        if waiting_room.is_some() {
            let mut errors = FieldErrors::new();
            errors.add(
                "waiting_room",
                "a raffle drop has no waiting room: its draw is the queue",
            );
            return Err(errors.into());
        }
        RaffleTerms {
            entries_close_at: Some(raffle.entries_close_at),
            claim_window_minutes: raffle.claim_window_minutes.map(i64::from),
        }
        .validate(terms.opens_at, terms.closes_at)?;
    }
    let drop = ProductDrop {
        quantity: terms.quantity,
        price: terms.price,
        opens_at: terms.opens_at,
        closes_at: terms.closes_at,
        per_user_limit: terms.per_user_limit,
        updated_at: now,
        waiting_room,
        ..current
    };
    app.store
        .update_drop(&drop, now)
        .await
        .map_err(not_scheduled)?;
    app.drops.forget(id).await;
    app.claims
        .gate
        .invalidate(&PoolKey(drop.pool_key()))
        .await?;
    Ok(drop)
}

/// Deletes a drop while it is scheduled.
pub async fn delete_drop(app: &App, caller: AuthUser, id: Uuid) -> Result<(), AppError> {
    owned_drop(app, caller, id).await?;
    app.store
        .delete_drop(id, app.clock.now())
        .await
        .map_err(not_scheduled)?;
    app.drops.forget(id).await;
    app.claims
        .gate
        .invalidate(&PoolKey(drop_pool_key(id)))
        .await?;
    Ok(())
}

/// The terms and the waiting room as stored, once both pass every rule; all failures at once
/// otherwise.
fn checked(
    terms: DropTerms,
    room: Option<WaitingRoomTerms>,
    now: DateTime<Utc>,
) -> Result<(ValidDropTerms, Option<WaitingRoomSettings>), FieldErrors> {
    FieldErrors::both(terms.validate(now), room.map(room_settings).transpose())
}

/// A waiting room's settings as stored, once they pass the domain's rules.
fn room_settings(room: WaitingRoomTerms) -> Result<WaitingRoomSettings, FieldErrors> {
    let room = room.validate()?;
    Ok(WaitingRoomSettings {
        admit_per_minute: room.admit_per_minute,
        max_active: room.max_active,
        session_minutes: room.session_minutes,
        prequeue_minutes: room.prequeue_minutes,
    })
}

/// The drop, when `caller` is its seller or an admin; 404 for everyone else.
async fn owned_drop(app: &App, caller: AuthUser, id: Uuid) -> Result<ProductDrop, AppError> {
    let drop = app.store.drop_by_id(id).await?;
    if drop.seller_id != caller.id && !caller.is_admin() {
        return Err(AppError::not_found());
    }
    Ok(drop)
}

fn not_scheduled(e: DbError) -> AppError {
    if e.is_conflict_on(DROP_NOT_SCHEDULED) {
        AppError::new(
            ErrorCode::NotScheduled,
            "a drop can change only before it opens",
        )
    } else {
        e.into()
    }
}
