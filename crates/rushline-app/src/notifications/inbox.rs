//! What an account reads and sets: its inbox, rendered in its locale, which groups reach it on
//! which channel, and a seller's Slack webhook.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rushline_domain::notification::{Channel, Event, Group, Locale};
use rushline_store::Notification;
use uuid::Uuid;

use super::check_webhook;
use crate::{App, AppError, AuthUser};

/// A notification as its recipient reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: Uuid,
    pub event: Event,
    pub group: Group,
    /// What it is about: an order's, a drop's, a trial application's… id.
    pub subject: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

fn item(notification: Notification, locale: Locale) -> Item {
    let rendered = notification.event.render(locale, &notification.params);
    Item {
        id: notification.id,
        event: notification.event,
        group: notification.event.group(),
        subject: notification.subject,
        title: rendered.title,
        body: rendered.body,
        created_at: notification.created_at,
        read_at: notification.read_at,
    }
}

/// `user`'s inbox, newest first, after the `(created_at, id)` cursor.
pub async fn page(
    app: &App,
    user: Uuid,
    unread_only: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> Result<Vec<Item>, AppError> {
    let locale = app.store.locale(user).await?;
    let notifications = app.store.inbox(user, unread_only, after, limit).await?;
    Ok(notifications.into_iter().map(|n| item(n, locale)).collect())
}

/// `user`'s notifications after `(created_at, id)`, oldest first, for a stream.
pub async fn since(
    app: &App,
    user: Uuid,
    after: (DateTime<Utc>, Uuid),
    limit: u32,
) -> Result<Vec<Item>, AppError> {
    let locale = app.store.locale(user).await?;
    let notifications = app.store.inbox_since(user, after, limit).await?;
    Ok(notifications.into_iter().map(|n| item(n, locale)).collect())
}

/// Marks `user`'s notification `id` read; 404 when it is not theirs.
pub async fn read(app: &App, user: Uuid, id: Uuid) -> Result<(), AppError> {
    if app.store.mark_read(user, id, app.clock.now()).await? {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

/// An account's choices: its locale, and each group on or off per channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub locale: Locale,
    pub channels: BTreeMap<Group, BTreeMap<Channel, bool>>,
}

pub async fn preferences(app: &App, user: Uuid) -> Result<Preferences, AppError> {
    let locale = app.store.locale(user).await?;
    let muted = app.store.mutes(user).await?;
    let channels = Group::ALL
        .iter()
        .map(|&group| {
            let on = Channel::ALL
                .iter()
                .map(|&channel| (channel, !muted.contains(&(group, channel))))
                .collect();
            (group, on)
        })
        .collect();
    Ok(Preferences { locale, channels })
}

/// Turns the given pairs on or off and sets the locale when given; the rest stays.
pub async fn set_preferences(
    app: &App,
    user: Uuid,
    locale: Option<Locale>,
    channels: &BTreeMap<Group, BTreeMap<Channel, bool>>,
) -> Result<Preferences, AppError> {
    let changes: Vec<(Group, Channel, bool)> = channels
        .iter()
        .flat_map(|(&group, on)| on.iter().map(move |(&channel, &on)| (group, channel, on)))
        .collect();
    app.store.set_preferences(user, &changes, locale).await?;
    preferences(app, user).await
}

/// Sets the seller's Slack webhook, which must be one of the allowed prefixes.
pub async fn set_slack_webhook(app: &App, seller: AuthUser, url: &str) -> Result<(), AppError> {
    check_webhook(url, &app.notifications.settings.slack_webhook_prefixes)?;
    app.store
        .set_slack_webhook(seller.id, Some(url), app.clock.now())
        .await?;
    Ok(())
}

pub async fn remove_slack_webhook(app: &App, seller: AuthUser) -> Result<(), AppError> {
    app.store
        .set_slack_webhook(seller.id, None, app.clock.now())
        .await?;
    Ok(())
}
