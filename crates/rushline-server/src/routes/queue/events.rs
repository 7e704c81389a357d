use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, Sse};
use futures::Stream;
use rushline_app::rooms::StreamGuard;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::{QueueTicket, poll};
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, ErrorBody, Path};

/// One event of the stream, which is how OpenAPI 3.1 describes an event stream (each event an
/// object of its fields): `event: status` whose `data` is a [`QueueTicket`] as JSON, or
/// `event: error` whose `data` is an [`ErrorBody`] as JSON.
pub(crate) struct QueueEvent;

impl PartialSchema for QueueEvent {
    fn schema() -> RefOr<Schema> {
        let event = |name: &str, data: &str| {
            ObjectBuilder::new()
                .property(
                    "event",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([name])),
                )
                .required("event")
                .property(
                    "data",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .content_media_type("application/json")
                        .extensions(Some(
                            [(
                                "contentSchema",
                                serde_json::to_value(Ref::from_schema_name(data))
                                    .unwrap_or_default(),
                            )]
                            .into_iter()
                            .collect(),
                        )),
                )
                .required("data")
        };
        OneOfBuilder::new()
            .item(event("status", &QueueTicket::name()))
            .item(event("error", &ErrorBody::name()))
            .description(Some(
                "One server-sent event: `status` with a QueueTicket as its data, or `error` with \
                 an ErrorBody, which ends the stream.",
            ))
            .into()
    }
}

impl ToSchema for QueueEvent {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((QueueTicket::name().into(), QueueTicket::schema()));
        <QueueTicket as ToSchema>::schemas(schemas);
        schemas.push((ErrorBody::name().into(), ErrorBody::schema()));
        <ErrorBody as ToSchema>::schemas(schemas);
    }
}

errors!(EventsErrors: [Unauthorized, Forbidden, NotFound, TooManyStreams, NoWaitingRoom, NotInQueue, QueueExpired, RoomUnavailable, DatabaseUnavailable]);

/// The caller's place as server-sent events: at once, then every few seconds
/// (`waiting_room.events_every`), each a poll that keeps the place alive. A buyer may hold
/// `waiting_room.streams_per_user` streams (4) at once on a node; one more is 429
/// `too_many_streams`. A stream is not bound by the request timeout. Events:
/// `status` with a `QueueTicket` (the pass included once admitted), or `error` with an error
/// body (`queue_expired`, `not_in_queue` once the pass is used, `room_unavailable`), after which
/// the stream ends. Errors before the first event answer as plain JSON, like `/queue/me`.
#[utoipa::path(
    get,
    path = "/api/v1/drops/{id}/queue/events",
    tag = "queue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, content_type = "text/event-stream", body = QueueEvent, description = "`event: status` with a QueueTicket as data, repeated; `event: error` with an ErrorBody as data ends the stream"),
        EventsErrors,
    )
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    stream(state, id, buyer.id).await
}

/// The event stream of `user`'s place in the room of drop `id`: the API's, and the drop page's.
pub(crate) async fn stream(
    state: AppState,
    id: Uuid,
    user: Uuid,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let open = state.rooms.stream_opened(user)?;
    let first = poll(&state, id, user).await?;
    let every = state.rooms.events_every;
    let mut ticker = tokio::time::interval_at(Instant::now() + every, every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let events = Events {
        _open: open,
        state,
        drop: id,
        user,
        ticker,
        first: Some(first),
        ended: false,
    };
    // The stream lives in the response body: when the client goes away, the body, the stream
    // and its ticker are dropped, and the polling stops.
    Ok(Sse::new(futures::stream::unfold(events, Events::next)))
}

struct Events {
    state: AppState,
    drop: Uuid,
    user: Uuid,
    ticker: Interval,
    first: Option<QueueTicket>,
    ended: bool,
    /// Held for its `Drop`, which counts the stream closed.
    _open: StreamGuard,
}

impl Events {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        if self.ended {
            return None;
        }
        let answer = match self.first.take() {
            Some(first) => Ok(first),
            None => {
                self.ticker.tick().await;
                poll(&self.state, self.drop, self.user).await
            }
        };
        let event = match answer {
            Ok(ticket) => Event::default().event("status").json_data(ticket),
            Err(error) => {
                self.ended = true;
                Event::default().event("error").json_data(error.body())
            }
        };
        #[expect(
            clippy::expect_used,
            reason = "tickets and error bodies always serialise"
        )]
        Some((Ok(event.expect("queue events serialise")), self))
    }
}
