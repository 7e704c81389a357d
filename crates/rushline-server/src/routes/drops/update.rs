use axum::extract::State;
use chrono::{DateTime, Utc};
use rushline_app::{AppError, ErrorCode};
use rushline_domain::DropTerms;
use rushline_gate::PoolKey;
use rushline_store::{DROP_NOT_SCHEDULED, ProductDrop};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{DropView, WaitingRoom};
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateDrop {
    quantity: Option<i64>,
    price: Option<i64>,
    opens_at: Option<DateTime<Utc>>,
    closes_at: Option<DateTime<Utc>>,
    per_user_limit: Option<i64>,
    /// Replaces the waiting room; null removes it, absent keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<WaitingRoom>, nullable)]
    waiting_room: Option<Option<WaitingRoom>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`, by `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

errors!(UpdateErrors: [Unauthorized, NotFound, NotScheduled, ValidationFailed]);

/// Changes a drop's terms while it is scheduled (before `opens_at`). Its seller or an admin.
#[utoipa::path(
    patch,
    path = "/api/v1/drops/{id}",
    tag = "drops",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = UpdateDrop,
    responses((status = 200, body = DropView), UpdateErrors)
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateDrop>,
) -> Result<Json<DropView>, ApiError> {
    let now = state.clock.now();
    let current = owned_drop(&state, user, id).await?;
    let terms = DropTerms {
        quantity: body.quantity.unwrap_or(current.quantity),
        price: body.price.unwrap_or(current.price),
        opens_at: body.opens_at.unwrap_or(current.opens_at),
        closes_at: body.closes_at.unwrap_or(current.closes_at),
        per_user_limit: body
            .per_user_limit
            .unwrap_or(i64::from(current.per_user_limit)),
    };
    let checked = terms.validate(now);
    let mut errors = checked.as_ref().err().cloned().unwrap_or_default();
    let waiting_room = match body.waiting_room {
        None => current.waiting_room,
        Some(None) => None,
        Some(Some(room)) => room.settings(&mut errors),
    };
    errors.into_result(|| ())?;
    let terms = checked.expect("no errors");
    let drop = ProductDrop {
        quantity: terms.quantity,
        price: terms.price,
        opens_at: terms.opens_at,
        closes_at: terms.closes_at,
        per_user_limit: i32::try_from(terms.per_user_limit).expect("validated"),
        updated_at: now,
        waiting_room,
        ..current
    };
    state
        .store
        .update_drop(&drop, now)
        .await
        .map_err(not_scheduled)?;
    state.drops.forget(id).await;
    state
        .claims
        .gate
        .invalidate(&PoolKey(drop.pool_key()))
        .await?;
    Ok(Json(DropView::of(&state, &drop).await?))
}

/// The drop, when `user` is its seller or an admin; 404 for everyone else.
pub(super) async fn owned_drop(
    state: &AppState,
    user: AuthUser,
    id: Uuid,
) -> Result<ProductDrop, ApiError> {
    let drop = state.store.drop_by_id(id).await?;
    if drop.seller_id != user.id && !user.is_admin() {
        return Err(AppError::not_found().into());
    }
    Ok(drop)
}

pub(super) fn not_scheduled(e: rushline_store::DbError) -> ApiError {
    if e.is_conflict_on(DROP_NOT_SCHEDULED) {
        ApiError::new(
            ErrorCode::NotScheduled,
            "a drop can change only before it opens",
        )
    } else {
        e.into()
    }
}
