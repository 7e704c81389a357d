//! The seller console: a seller's drops and products, and one drop watched (units left and
//! sold, its waiting room's numbers). Another seller's drop is a 404, as everywhere.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;
use rushline_app::AppError;
use rushline_domain::Role;
use rushline_domain::catalog::ProductSort;
use rushline_gate::PoolKey;
use rushline_store::{DropFilter, ListScope, ProductQuery};
use uuid::Uuid;

use super::locale::{Msg, Viewer};
use super::{ForViewer, PageError, page};
use crate::AppState;

/// Drops and products the console lists, soonest and newest first.
const LISTED: u32 = 50;

/// The signed-in seller (an admin may look too); a buyer is refused, a visitor sent to log in.
fn seller(viewer: &Viewer) -> Result<rushline_app::AuthUser, PageError> {
    match &viewer.visitor.signed_in {
        Some(signed_in) if signed_in.user.role != Role::Buyer => Ok(signed_in.user),
        Some(_) => Err(AppError::forbidden()).for_viewer(viewer),
        None => Err(AppError::unauthorized()).for_viewer(viewer),
    }
}

pub(super) async fn console(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let me = seller(&viewer)?;
    let drops = state
        .store
        .list_drops(&DropFilter {
            seller_id: Some(me.id),
            window: None,
            opening: None,
            limit: LISTED,
        })
        .await
        .for_viewer(&viewer)?;
    let products = state
        .store
        .list_products(
            &ProductQuery {
                scope: ListScope::OwnedBy(me.id),
                category: None,
                seller_id: None,
                terms: Vec::new(),
                sort: ProductSort::default(),
                after: None,
                limit: LISTED,
            },
            state.clock.now(),
        )
        .await
        .for_viewer(&viewer)?;
    let content = html! {
        h1 { (viewer.t(Msg::Console)) }
        section aria-labelledby="my-drops" {
            h2 #my-drops { (viewer.t(Msg::MyDrops)) }
            @if drops.is_empty() {
                p.muted { (viewer.t(Msg::NoUpcomingDrops)) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { (viewer.t(Msg::Opens)) }
                        th scope="col" { (viewer.t(Msg::Quantity)) }
                        th scope="col" { (viewer.t(Msg::Closes)) }
                    } }
                    tbody {
                        @for drop in &drops {
                            tr {
                                td { a href={ "/seller/drops/" (drop.id) } { (viewer.time(drop.opens_at)) } }
                                td { (drop.quantity) }
                                td { (viewer.time(drop.closes_at)) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="my-products" {
            h2 #my-products { (viewer.t(Msg::Products)) }
            @if products.is_empty() {
                p.muted { (viewer.t(Msg::NoProducts)) }
            } @else {
                ul {
                    @for details in &products {
                        li {
                            (details.product.name) " · " (details.product.status.as_str()) " · "
                            (viewer.lang.won(details.product.price))
                        }
                    }
                }
            }
        }
    };
    Ok(page(&viewer, viewer.t(Msg::Console), content))
}

pub(super) async fn watch(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let me = seller(&viewer)?;
    let id: Uuid = id
        .parse()
        .map_err(|_| AppError::not_found())
        .for_viewer(&viewer)?;
    let drop = state
        .drops
        .get(&state.store, id)
        .await
        .for_viewer(&viewer)?;
    if drop.seller_id != me.id && !me.is_admin() {
        return Err(AppError::not_found()).for_viewer(&viewer);
    }
    let product = state
        .store
        .product(drop.product_id)
        .await
        .for_viewer(&viewer)?;
    let left = state
        .claims
        .gate
        .remaining(&PoolKey(drop.pool_key()))
        .await
        .for_viewer(&viewer)?
        .unwrap_or(0);
    let sold = drop.quantity - i64::try_from(left).unwrap_or(i64::MAX);
    let room = match drop.waiting_room {
        Some(_) => Some(
            rushline_app::rooms::stats(&state, me.id, me.is_admin(), drop.id)
                .await
                .for_viewer(&viewer)?,
        ),
        None => None,
    };
    let content = html! {
        h1 { (product.name) }
        dl {
            dt { (viewer.t(Msg::UnitsLeft)) } dd #left { (left) " / " (drop.quantity) }
            dt { (viewer.t(Msg::Sold)) } dd #sold { (sold) }
            @if let Some(room) = room {
                dt { (viewer.t(Msg::QueueLength)) } dd #waiting { (room.waiting) }
                dt { (viewer.t(Msg::AdmittedPerMinute)) } dd #admitted { (room.admitted_last_minute) }
                dt { (viewer.t(Msg::Bought)) } dd #bought { (room.used) " / " (room.admitted) }
            }
        }
        p { a href={ "/drops/" (drop.id) } { (viewer.t(Msg::BuyerView)) } " · " a href={ "/seller/drops/" (drop.id) } { (viewer.t(Msg::Refresh)) } }
    };
    Ok(page(&viewer, &product.name, content))
}
