use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures::Stream;
use rushline_app::notifications::inbox;
use rushline_app::streams::StreamGuard;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::NotificationView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState};

/// How often a stream looks for notifications another node wrote; this node's own fan-outs
/// wake it at once.
const POLL_EVERY: Duration = Duration::from_secs(5);
/// Notifications read per look.
const BATCH: u32 = 50;

errors!(EventsErrors: [Unauthorized, TooManyStreams]);

/// New notifications of the caller as server-sent events, each `event: notification` with a
/// NotificationView as its data, from the moment the stream opens. An account may hold
/// `notifications.streams_per_user` streams (4) at once on a node; one more is 429
/// `too_many_streams`. A stream is not bound by the request timeout.
#[utoipa::path(
    get,
    path = "/api/v1/me/notifications/events",
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/event-stream", body = NotificationView, description = "`event: notification` with a NotificationView as data, repeated"),
        EventsErrors,
    )
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let open = state.notifications.streams.open(caller.id)?;
    let written = state.notifications.subscribe();
    let newest = inbox::page(&state, caller.id, false, None, 1).await?;
    let cursor = newest
        .first()
        .map_or((DateTime::UNIX_EPOCH, Uuid::nil()), |n| {
            (n.created_at, n.id)
        });
    let events = Events {
        state,
        user: caller.id,
        cursor,
        written,
        pending: VecDeque::new(),
        _open: open,
    };
    // The stream lives in the response body: when the client goes away, it is dropped.
    Ok(Sse::new(futures::stream::unfold(events, Events::next)).keep_alive(KeepAlive::default()))
}

struct Events {
    state: AppState,
    user: Uuid,
    /// The newest notification pushed (or there when the stream opened).
    cursor: (DateTime<Utc>, Uuid),
    written: broadcast::Receiver<Option<Uuid>>,
    pending: VecDeque<NotificationView>,
    /// Held for its `Drop`, which counts the stream closed.
    _open: StreamGuard,
}

impl Events {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        while self.pending.is_empty() {
            self.wait().await;
            match inbox::since(&self.state, self.user, self.cursor, BATCH).await {
                Ok(items) => {
                    if let Some(last) = items.last() {
                        self.cursor = (last.created_at, last.id);
                    }
                    self.pending
                        .extend(items.into_iter().map(NotificationView::from));
                }
                // The database is away: the next look tries again.
                Err(e) => tracing::warn!(error = ?e, "a notification stream could not read"),
            }
        }
        let view = self.pending.pop_front()?;
        #[expect(clippy::expect_used, reason = "notification views always serialise")]
        let event = Event::default()
            .event("notification")
            .json_data(view)
            .expect("a notification serialises");
        Some((Ok(event), self))
    }

    /// Until this node writes to this inbox (or to many), or the poll interval passes.
    async fn wait(&mut self) {
        let deadline = tokio::time::sleep(POLL_EVERY);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return,
                written = self.written.recv() => match written {
                    Ok(Some(user)) if user != self.user => {}
                    // Ours, many at once, or missed some: look.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => {
                        deadline.as_mut().await;
                        return;
                    }
                },
            }
        }
    }
}
