use std::collections::BTreeMap;

use axum::extract::State;
use rushline_app::notifications::inbox::{self, Preferences};
use rushline_domain::notification::{Channel, Group, Locale};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json};

/// Whether a group reaches the account on each channel. The inbox always gets everything.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Switches {
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<bool>,
    /// For sellers who set a webhook (`PUT /api/v1/seller/slack`).
    #[serde(skip_serializing_if = "Option::is_none")]
    slack: Option<bool>,
}

/// Per event group. Verification codes and other account mail are not among them: they cannot
/// be turned off.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Groups {
    /// `order_paid`, `order_shipped`, `order_delivered`, `refund_completed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    orders: Option<Switches>,
    /// `hold_expiring`, `hold_expired`.
    #[serde(skip_serializing_if = "Option::is_none")]
    holds: Option<Switches>,
    /// `trial_selected`, `trial_not_selected`, `trial_cancelled`, `review_due_soon`,
    /// `review_overdue`, `review_received`.
    #[serde(skip_serializing_if = "Option::is_none")]
    trials: Option<Switches>,
    /// `raffle_won`, `raffle_lost`, `raffle_waitlist_promoted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    raffles: Option<Switches>,
    /// `wishlist_drop_scheduled`, `wishlist_drop_opening`, `wishlist_time_sale_started`.
    #[serde(skip_serializing_if = "Option::is_none")]
    wishlist: Option<Switches>,
    /// For sellers: `drop_sold_out`, `drop_closed`, `trial_full`, `settlement_ready`.
    #[serde(skip_serializing_if = "Option::is_none")]
    sales: Option<Switches>,
}

impl Groups {
    fn slot(&mut self, group: Group) -> &mut Option<Switches> {
        match group {
            Group::Orders => &mut self.orders,
            Group::Holds => &mut self.holds,
            Group::Trials => &mut self.trials,
            Group::Raffles => &mut self.raffles,
            Group::Wishlist => &mut self.wishlist,
            Group::Sales => &mut self.sales,
        }
    }

    /// The switches set, as the application takes them.
    fn changes(mut self) -> BTreeMap<Group, BTreeMap<Channel, bool>> {
        Group::ALL
            .iter()
            .filter_map(|&group| {
                let switches = self.slot(group).take()?;
                let on: BTreeMap<Channel, bool> = [
                    (Channel::Email, switches.email),
                    (Channel::Slack, switches.slack),
                ]
                .into_iter()
                .filter_map(|(channel, on)| Some((channel, on?)))
                .collect();
                Some((group, on))
            })
            .collect()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NotificationSettings {
    /// The language of the caller's notifications.
    locale: Locale,
    /// Every group, with both channels.
    channels: Groups,
}

impl From<Preferences> for NotificationSettings {
    fn from(preferences: Preferences) -> Self {
        let mut channels = Groups::default();
        for (group, on) in preferences.channels {
            *channels.slot(group) = Some(Switches {
                email: on.get(&Channel::Email).copied(),
                slack: on.get(&Channel::Slack).copied(),
            });
        }
        Self {
            locale: preferences.locale,
            channels,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateSettings {
    #[serde(default)]
    locale: Option<Locale>,
    /// Only the switches given change.
    #[serde(default)]
    channels: Option<Groups>,
}

errors!(ShowErrors: [Unauthorized]);

/// The caller's notification settings: every group on every channel unless turned off.
#[utoipa::path(
    get,
    path = "/api/v1/me/notification-settings",
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = NotificationSettings), ShowErrors)
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<NotificationSettings>, ApiError> {
    Ok(Json(inbox::preferences(&state, caller.id).await?.into()))
}

errors!(UpdateErrors: [Unauthorized, InvalidBody, MalformedJson]);

/// Turns groups on or off per channel, and sets the locale; what is not given stays.
#[utoipa::path(
    patch,
    path = "/api/v1/me/notification-settings",
    tag = "notifications",
    security(("bearer" = [])),
    request_body = UpdateSettings,
    responses((status = 200, body = NotificationSettings), UpdateErrors)
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<UpdateSettings>,
) -> Result<Json<NotificationSettings>, ApiError> {
    let changes = request.channels.unwrap_or_default().changes();
    let preferences = inbox::set_preferences(&state, caller.id, request.locale, &changes).await?;
    Ok(Json(preferences.into()))
}
