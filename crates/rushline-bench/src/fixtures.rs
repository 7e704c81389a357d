//! The rows every benchmark starts from: verified accounts, an active product, an open drop.

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::raffle::{Seed, seed_commitment};
use rushline_domain::{Allocation, ProductStatus, Role, Won};
use rushline_store::{Product, ProductDrop, RaffleSettings, User};
use uuid::Uuid;

/// A verified account nobody logs in to.
pub(crate) fn account(role: Role, email: String, now: DateTime<Utc>) -> User {
    User {
        id: Uuid::now_v7(),
        email,
        name: "Bench buyer".to_owned(),
        role,
        // Nobody logs in: the claim path never reads it.
        password_hash: "unused".to_owned(),
        verified_at: Some(now),
        created_at: now,
        updated_at: now,
    }
}

/// An active product of `seller` at `price`, for a benchmark's drop or orders.
pub(crate) fn product(seller: Uuid, name: &str, price: Won, now: DateTime<Utc>) -> Product {
    Product {
        id: Uuid::now_v7(),
        seller_id: seller,
        name: name.to_owned(),
        description: "A benchmark's product".to_owned(),
        category: "shoes".to_owned(),
        price,
        stock: 0,
        status: ProductStatus::Active,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        max_per_order: rushline_domain::catalog::DEFAULT_MAX_PER_ORDER,
    }
}

/// A first-come drop of `quantity` units of `product` at its price, one per buyer, open since a
/// minute ago for an hour.
pub(crate) fn open_drop(product: &Product, quantity: i64, now: DateTime<Utc>) -> ProductDrop {
    ProductDrop {
        id: Uuid::now_v7(),
        product_id: product.id,
        seller_id: product.seller_id,
        quantity,
        price: product.price,
        opens_at: now - TimeDelta::minutes(1),
        closes_at: now + TimeDelta::hours(1),
        per_user_limit: 1,
        created_at: now,
        updated_at: now,
        opened_at: None,
        closed_at: None,
        waiting_room: None,
        queue_seed: None,
        allocation: Allocation::Fcfs,
        raffle: None,
    }
}

/// A raffle drop of 1,000 units of `product`, taking entries for an hour and open for two.
pub(crate) fn raffle_drop(product: &Product, seed: &Seed, now: DateTime<Utc>) -> ProductDrop {
    ProductDrop {
        closes_at: now + TimeDelta::hours(2),
        allocation: Allocation::Raffle,
        raffle: Some(RaffleSettings {
            entries_close_at: now + TimeDelta::hours(1),
            claim_window_minutes: Some(60),
            seed_commitment: seed_commitment(seed),
            drawn_at: None,
            entrants: None,
            exhausted_at: None,
        }),
        ..open_drop(product, 1_000, now)
    }
}
