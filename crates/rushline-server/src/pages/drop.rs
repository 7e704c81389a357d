//! A drop's page: what is on sale and until when, the units left; for a signed-in buyer, the
//! waiting room (join, the place in line, the turn to buy) and the buy form. Without script:
//! the page shows the place as of its loading, and a reload asks again.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use rushline_app::coupons::Redeem;
use rushline_app::drops::PurchaseRequest;
use rushline_app::{AppError, ErrorCode, rooms};
use rushline_domain::{Allocation, Role};
use rushline_gate::PoolKey;
use rushline_gate::room::{Ticket, TicketState};
use rushline_store::ProductDrop;
use serde::Deserialize;
use uuid::Uuid;

use super::locale::{Msg, Viewer};
use super::session::SignedIn;
use super::{ForViewer, PageError, page};
use crate::AppState;

/// Where the signed-in buyer stands in the drop's waiting room.
enum Place {
    /// The drop has no room, or the viewer is no buyer.
    NoRoom,
    Outside,
    Waiting {
        position: Option<u64>,
        wait_minutes: Option<i64>,
    },
    Admitted(Ticket),
}

async fn place(state: &AppState, drop: &ProductDrop, buyer: &SignedIn) -> Result<Place, AppError> {
    if drop.waiting_room.is_none() || buyer.user.role != Role::Buyer {
        return Ok(Place::NoRoom);
    }
    match rooms::poll(state, drop.id, buyer.user.id).await {
        Ok(ticket) => Ok(match ticket.state {
            TicketState::Waiting {
                position,
                estimated_wait,
            } => Place::Waiting {
                position,
                wait_minutes: estimated_wait.map(|wait| wait.num_minutes().max(1)),
            },
            TicketState::Admitted { .. } => Place::Admitted(ticket),
        }),
        Err(e) if matches!(e.code(), ErrorCode::NotInQueue | ErrorCode::QueueExpired) => {
            Ok(Place::Outside)
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = id
        .parse()
        .map_err(|_| AppError::not_found())
        .for_viewer(&viewer)?;
    render(&state, &viewer, id, &[], StatusCode::OK).await
}

/// The page, with `problems` of a refused form above its forms.
async fn render(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    problems: &[String],
    status: StatusCode,
) -> Result<Response, PageError> {
    let drop = state.drops.get(&state.store, id).await.for_viewer(viewer)?;
    let product = state
        .store
        .product(drop.product_id)
        .await
        .for_viewer(viewer)?;
    let now = state.clock.now();
    let left = state
        .claims
        .gate
        .remaining(&PoolKey(drop.pool_key()))
        .await
        .for_viewer(viewer)?
        .unwrap_or(0);
    let open = drop.opens_at <= now && now < drop.closes_at;
    let phase = if now < drop.opens_at {
        Msg::DropScheduled
    } else if now >= drop.closes_at {
        Msg::DropClosed
    } else if left == 0 {
        Msg::SoldOut
    } else {
        Msg::DropOpen
    };
    let place = match &viewer.visitor.signed_in {
        Some(buyer) => Some(place(state, &drop, buyer).await.for_viewer(viewer)?),
        None => None,
    };
    let action = |path: &str| format!("/drops/{}/{path}", drop.id);
    let buy_form = |note: Option<String>| -> Markup {
        html! {
            @if let Some(note) = note { p role="status" { (note) } }
            form.stacked method="post" action=(action("buy")) {
                input type="hidden" name="csrf" value=(viewer.visitor.form_token);
                input type="hidden" name="key" value=(Uuid::new_v4());
                label { (viewer.t(Msg::Quantity)) input type="number" name="quantity" value="1" min="1" max=(drop.per_user_limit) required; }
                button type="submit" { (viewer.t(Msg::Buy)) }
            }
        }
    };
    let content = html! {
        h1 { (product.name) }
        p.price { (viewer.lang.won(drop.price)) }
        p { strong { (viewer.t(phase)) } }
        p { (viewer.t(Msg::UnitsLeft)) ": " (left) " / " (drop.quantity) " · " (viewer.t(Msg::PerBuyer)) " " (drop.per_user_limit) }
        p.muted {
            (viewer.t(Msg::Opens)) " " time datetime=(drop.opens_at.to_rfc3339()) { (viewer.time(drop.opens_at)) }
            " · " (viewer.t(Msg::Closes)) " " time datetime=(drop.closes_at.to_rfc3339()) { (viewer.time(drop.closes_at)) }
        }
        @if !problems.is_empty() {
            ul.problem role="alert" { @for problem in problems { li { (problem) } } }
        }
        @if drop.allocation == Allocation::Raffle {
            p { (viewer.t(Msg::RaffleDrop)) }
        } @else {
            @match &place {
                None => p { a href="/login" { (viewer.t(Msg::LogInToBuy)) } },
                Some(Place::NoRoom) => {
                    @if open && left > 0 { (buy_form(None)) }
                },
                Some(Place::Outside) => {
                    @if now < drop.closes_at {
                        form method="post" action=(action("queue")) {
                            input type="hidden" name="csrf" value=(viewer.visitor.form_token);
                            button type="submit" { (viewer.t(Msg::JoinQueue)) }
                        }
                    }
                },
                Some(Place::Waiting { position, wait_minutes }) => {
                    p role="status" aria-live="polite" data-events=(action("events")) {
                        @match position {
                            Some(position) => { (viewer.t(Msg::InLine)) " " strong data-position { (position) } }
                            None => { (viewer.t(Msg::InPrequeue)) }
                        }
                        @if let Some(minutes) = wait_minutes { " · " (viewer.t(Msg::AboutMinutes)) " " (minutes) }
                    }
                    p { a href=(format!("/drops/{}", drop.id)) { (viewer.t(Msg::Refresh)) } }
                },
                Some(Place::Admitted(ticket)) => {
                    @if let TicketState::Admitted { pass_expires_at } = ticket.state {
                        (buy_form(Some(format!("{} {}", viewer.t(Msg::YourTurnUntil), viewer.time(pass_expires_at)))))
                    }
                },
            }
        }
        p { a href={ "/products/" (product.id) } { (viewer.t(Msg::AboutProduct)) } }
    };
    let mut response = page(viewer, &product.name, content);
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(super) struct JoinForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn join(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    Form(form): Form<JoinForm>,
) -> Result<Response, PageError> {
    let buyer = signed_in_buyer(&state, &viewer, &form.csrf)?;
    if let Err(e) = rooms::join(&state, id, buyer).await {
        return refused(&state, &viewer, id, e).await;
    }
    Ok(back_to(id))
}

#[derive(Debug, Deserialize)]
pub(super) struct BuyForm {
    #[serde(default)]
    csrf: String,
    /// The purchase's idempotency key, made when the form was: a form sent twice buys once.
    #[serde(default)]
    key: String,
    #[serde(default)]
    quantity: String,
}

pub(super) async fn buy(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    Form(form): Form<BuyForm>,
) -> Result<Response, PageError> {
    let buyer = signed_in_buyer(&state, &viewer, &form.csrf)?;
    let Ok(key) = form.key.parse::<Uuid>() else {
        return refused(&state, &viewer, id, AppError::forbidden()).await;
    };
    let quantity = form.quantity.trim().parse::<i64>().unwrap_or(0);
    let drop = state
        .drops
        .get(&state.store, id)
        .await
        .for_viewer(&viewer)?;
    // On a drop with a room, the pass is the room's to give: the page takes it on the buyer's
    // behalf from their admitted place, as the API's client would from `/queue/me`.
    let pass = match drop.waiting_room {
        Some(_) => match rooms::poll(&state, id, buyer).await {
            Ok(Ticket {
                ticket,
                state: TicketState::Admitted { pass_expires_at },
            }) => Some(state.rooms.pass(id, buyer, ticket, pass_expires_at)),
            Ok(_) | Err(_) => None,
        },
        None => None,
    };
    let request = PurchaseRequest {
        drop_id: id,
        quantity,
        redeem: Redeem::default(),
    };
    match rushline_app::drops::purchase(&state, buyer, key.to_string(), pass.as_deref(), request)
        .await
    {
        Ok(_) => Ok((StatusCode::SEE_OTHER, [(LOCATION, "/orders")]).into_response()),
        Err(e) => refused(&state, &viewer, id, e).await,
    }
}

/// The signed-in buyer's place as server-sent events, as `/api/v1/drops/{id}/queue/events`
/// sends them; the page's script follows it and reloads the page once the buyer is admitted.
pub(super) async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let buyer = match &viewer.visitor.signed_in {
        Some(signed_in) if signed_in.user.role == Role::Buyer => signed_in.user.id,
        _ => return Err(AppError::forbidden()).for_viewer(&viewer),
    };
    match crate::routes::queue::events::stream(state, id, buyer).await {
        Ok(stream) => Ok(stream.into_response()),
        Err(e) => Err(AppError::new(e.code(), e.body().error.message)).for_viewer(&viewer),
    }
}

/// The buyer a form was posted by, with its CSRF token; a signed-out or non-buyer viewer is
/// refused.
fn signed_in_buyer(state: &AppState, viewer: &Viewer, csrf: &str) -> Result<Uuid, PageError> {
    match &viewer.visitor.signed_in {
        Some(signed_in)
            if viewer.visitor.posted(state, csrf) && signed_in.user.role == Role::Buyer =>
        {
            Ok(signed_in.user.id)
        }
        _ => Err(AppError::forbidden()).for_viewer(viewer),
    }
}

/// The drop page again, saying why the form was refused, with the error's status.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    error: AppError,
) -> Result<Response, PageError> {
    let status = crate::error::status_of(error.code());
    if !status.is_client_error() {
        return Err(error).for_viewer(viewer);
    }
    let said = match error.code() {
        ErrorCode::SoldOut => viewer.t(Msg::SoldOut).to_owned(),
        ErrorCode::LimitReached => viewer.t(Msg::LimitReached).to_owned(),
        _ => error.message().to_owned(),
    };
    render(state, viewer, id, &[said], status).await
}

fn back_to(id: Uuid) -> Response {
    let to = format!("/drops/{id}");
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}
