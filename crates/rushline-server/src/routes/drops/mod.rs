//! `/api/v1/drops`: limited allocations sold in a window, and the purchase endpoint.

mod create;
mod delete;
mod get;
mod list;
mod purchase;
mod update;

use chrono::{DateTime, Utc};
use rushline_domain::DropStatus;
use rushline_gate::PoolKey;
use rushline_store::ProductDrop;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create::create, list::list))
        .routes(routes!(get::get, update::update, delete::delete))
        .routes(routes!(purchase::purchase))
}

/// A drop as buyers and sellers see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DropView {
    id: Uuid,
    product_id: Uuid,
    seller_id: Uuid,
    quantity: i64,
    /// Units not held by an order, from the claim gate.
    remaining: u64,
    price: i64,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    per_user_limit: i32,
    status: DropStatus,
}

impl DropView {
    /// The view at the current clock; `remaining` comes from the gate, not the database.
    pub(crate) async fn of(state: &AppState, drop: &ProductDrop) -> Result<Self, ApiError> {
        let remaining = state
            .claims
            .gate
            .remaining(&PoolKey(drop.pool_key()))
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok(Self {
            id: drop.id,
            product_id: drop.product_id,
            seller_id: drop.seller_id,
            quantity: drop.quantity,
            remaining,
            price: drop.price,
            opens_at: drop.opens_at,
            closes_at: drop.closes_at,
            per_user_limit: drop.per_user_limit,
            status: DropStatus::shown(state.clock.now(), drop.opens_at, drop.closes_at, remaining),
        })
    }
}
