//! What rushline tells people, and in which words: the events, the groups a recipient turns on
//! and off per channel, and the short templates each event renders in the recipient's language.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Something that happened which someone must hear about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    OrderPaid,
    OrderShipped,
    OrderDelivered,
    RefundCompleted,
    HoldExpiring,
    HoldExpired,
    TrialSelected,
    TrialNotSelected,
    TrialCancelled,
    ReviewDueSoon,
    ReviewOverdue,
    ReviewReceived,
    RaffleWon,
    RaffleLost,
    RaffleWaitlistPromoted,
    WishlistDropScheduled,
    WishlistDropOpening,
    WishlistTimeSaleStarted,
    DropSoldOut,
    DropClosed,
    TrialFull,
    SettlementReady,
}

/// The groups a recipient turns on and off, per channel.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Payment, shipping, delivery and refunds of one's orders.
    Orders,
    /// A hold about to run out, and one that did.
    Holds,
    /// Trial selection and the reviews it asks for.
    Trials,
    /// Raffle results and places that roll down.
    Raffles,
    /// Drops and time sales of wishlisted products.
    Wishlist,
    /// For sellers: drops sold out or closed, trials full, settlements ready.
    Sales,
}

/// Where a notification goes. The inbox always gets it; the others per the recipient's settings.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    /// A seller's Slack incoming webhook, when they set one.
    Slack,
}

/// The language an account reads its notifications in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    #[default]
    En,
    Ko,
}

/// What a template fills in: `{name}` → value.
pub type Params = BTreeMap<String, String>;

/// A notification in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub title: String,
    pub body: String,
}

macro_rules! names {
    ($type:ty, $what:literal, $($variant:ident = $name:literal),+ $(,)?) => {
        impl $type {
            pub const ALL: &'static [$type] = &[$(<$type>::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(<$type>::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $type {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok(<$type>::$variant),)+
                    other => Err(format!(concat!("unknown ", $what, " {:?}"), other)),
                }
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(
    Event,
    "event",
    OrderPaid = "order_paid",
    OrderShipped = "order_shipped",
    OrderDelivered = "order_delivered",
    RefundCompleted = "refund_completed",
    HoldExpiring = "hold_expiring",
    HoldExpired = "hold_expired",
    TrialSelected = "trial_selected",
    TrialNotSelected = "trial_not_selected",
    TrialCancelled = "trial_cancelled",
    ReviewDueSoon = "review_due_soon",
    ReviewOverdue = "review_overdue",
    ReviewReceived = "review_received",
    RaffleWon = "raffle_won",
    RaffleLost = "raffle_lost",
    RaffleWaitlistPromoted = "raffle_waitlist_promoted",
    WishlistDropScheduled = "wishlist_drop_scheduled",
    WishlistDropOpening = "wishlist_drop_opening",
    WishlistTimeSaleStarted = "wishlist_time_sale_started",
    DropSoldOut = "drop_sold_out",
    DropClosed = "drop_closed",
    TrialFull = "trial_full",
    SettlementReady = "settlement_ready",
);

names!(
    Group,
    "group",
    Orders = "orders",
    Holds = "holds",
    Trials = "trials",
    Raffles = "raffles",
    Wishlist = "wishlist",
    Sales = "sales",
);

names!(Channel, "channel", Email = "email", Slack = "slack");

names!(Locale, "locale", En = "en", Ko = "ko");

impl Event {
    pub fn group(self) -> Group {
        use Event::*;
        match self {
            OrderPaid | OrderShipped | OrderDelivered | RefundCompleted => Group::Orders,
            HoldExpiring | HoldExpired => Group::Holds,
            TrialSelected | TrialNotSelected | TrialCancelled | ReviewDueSoon | ReviewOverdue
            | ReviewReceived => Group::Trials,
            RaffleWon | RaffleLost | RaffleWaitlistPromoted => Group::Raffles,
            WishlistDropScheduled | WishlistDropOpening | WishlistTimeSaleStarted => {
                Group::Wishlist
            }
            DropSoldOut | DropClosed | TrialFull | SettlementReady => Group::Sales,
        }
    }

    /// The names its templates fill in; whoever raises the event gives each of them.
    pub fn params(self) -> &'static [&'static str] {
        use Event::*;
        match self {
            OrderPaid | RefundCompleted => &["order", "amount"],
            OrderShipped | OrderDelivered | HoldExpired => &["order"],
            HoldExpiring => &["order", "expires_at"],
            TrialSelected | ReviewDueSoon | ReviewOverdue => &["title", "due"],
            TrialNotSelected | TrialCancelled | ReviewReceived | RaffleLost | DropSoldOut
            | TrialFull => &["title"],
            RaffleWon | RaffleWaitlistPromoted => &["title", "until"],
            WishlistDropScheduled | WishlistDropOpening => &["title", "opens_at"],
            WishlistTimeSaleStarted => &["title", "price", "ends_at"],
            DropClosed => &["title", "sold"],
            SettlementReady => &["day", "net"],
        }
    }

    /// Renders the event for a reader of `locale`; a name missing from `params` stays as
    /// `{name}`, visibly.
    pub fn render(self, locale: Locale, params: &Params) -> Rendered {
        let (title, body) = template(self, locale);
        Rendered {
            title: fill(title, params),
            body: fill(body, params),
        }
    }
}

/// One pass over the template, so that a value holding `{name}` stays as it is.
fn fill(template: &str, params: &Params) -> String {
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((params.get(&after[..close])?, close)))
        {
            Some((value, close)) => {
                text.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

fn template(event: Event, locale: Locale) -> (&'static str, &'static str) {
    use Event::*;
    match (locale, event) {
        (Locale::En, OrderPaid) => ("Order paid", "We received {amount} KRW for order {order}."),
        (Locale::Ko, OrderPaid) => (
            "결제 완료",
            "주문 {order}의 결제 {amount}원이 완료되었습니다.",
        ),
        (Locale::En, OrderShipped) => ("Order shipped", "Order {order} is on its way."),
        (Locale::Ko, OrderShipped) => ("배송 시작", "주문 {order}이(가) 발송되었습니다."),
        (Locale::En, OrderDelivered) => ("Order delivered", "Order {order} was delivered."),
        (Locale::Ko, OrderDelivered) => ("배송 완료", "주문 {order}이(가) 배송되었습니다."),
        (Locale::En, RefundCompleted) => (
            "Refund completed",
            "{amount} KRW for order {order} went back to you.",
        ),
        (Locale::Ko, RefundCompleted) => {
            ("환불 완료", "주문 {order}의 {amount}원이 환불되었습니다.")
        }
        (Locale::En, HoldExpiring) => (
            "Your hold is about to expire",
            "Pay for order {order} by {expires_at}, or its items go back on sale.",
        ),
        (Locale::Ko, HoldExpiring) => (
            "결제 기한 임박",
            "{expires_at}까지 주문 {order}을(를) 결제하지 않으면 상품이 다시 판매됩니다.",
        ),
        (Locale::En, HoldExpired) => (
            "Your hold expired",
            "Order {order} was not paid in time; its items went back on sale.",
        ),
        (Locale::Ko, HoldExpired) => (
            "결제 기한 만료",
            "주문 {order}이(가) 기한 내에 결제되지 않아 취소되었습니다.",
        ),
        (Locale::En, TrialSelected) => (
            "You are selected for a trial",
            "You have a slot in \"{title}\". Please post your review by {due}.",
        ),
        (Locale::Ko, TrialSelected) => (
            "체험단 선정",
            "\"{title}\" 체험단에 선정되었습니다. {due}까지 리뷰를 남겨 주세요.",
        ),
        (Locale::En, TrialNotSelected) => (
            "You were not selected",
            "Every slot of \"{title}\" went to other applicants this time.",
        ),
        (Locale::Ko, TrialNotSelected) => (
            "체험단 미선정",
            "아쉽게도 \"{title}\" 체험단에 선정되지 않았습니다.",
        ),
        (Locale::En, TrialCancelled) => (
            "Your trial slot is cancelled",
            "You gave back your slot in \"{title}\"; someone else may take it now.",
        ),
        (Locale::Ko, TrialCancelled) => ("체험단 취소", "\"{title}\" 체험단 자리를 반납했습니다."),
        (Locale::En, ReviewDueSoon) => (
            "Your review is due soon",
            "Your review of \"{title}\" is due by {due}.",
        ),
        (Locale::Ko, ReviewDueSoon) => ("리뷰 마감 임박", "\"{title}\" 리뷰 마감은 {due}입니다."),
        (Locale::En, ReviewOverdue) => (
            "Your review is overdue",
            "Your review of \"{title}\" was due by {due}. Until you are past the bar, you \
             cannot be selected for another trial.",
        ),
        (Locale::Ko, ReviewOverdue) => (
            "리뷰 기한 초과",
            "\"{title}\" 리뷰 기한({due})이 지났습니다. 당분간 다른 체험단에 선정될 수 없습니다.",
        ),
        (Locale::En, ReviewReceived) => (
            "Thank you for your review",
            "Your review of \"{title}\" is in.",
        ),
        (Locale::Ko, ReviewReceived) => ("리뷰 감사", "\"{title}\" 리뷰가 등록되었습니다."),
        (Locale::En, RaffleWon) => (
            "You won the raffle",
            "You may buy \"{title}\" until {until}. After that, your place goes to the next \
             entrant in the draw.",
        ),
        (Locale::Ko, RaffleWon) => (
            "응모 당첨",
            "{until}까지 \"{title}\"을(를) 구매할 수 있습니다. 이후에는 다음 순번에게 넘어갑니다.",
        ),
        (Locale::En, RaffleLost) => (
            "The raffle is over",
            "Every place in the raffle for \"{title}\" went to other entrants.",
        ),
        (Locale::Ko, RaffleLost) => (
            "응모 결과",
            "아쉽게도 \"{title}\" 응모에 당첨되지 않았습니다.",
        ),
        (Locale::En, RaffleWaitlistPromoted) => (
            "A place came free for you",
            "A winner let their place go: you may buy \"{title}\" until {until}.",
        ),
        (Locale::Ko, RaffleWaitlistPromoted) => (
            "추가 당첨",
            "대기 순번이 되어 {until}까지 \"{title}\"을(를) 구매할 수 있습니다.",
        ),
        (Locale::En, WishlistDropScheduled) => (
            "A drop is coming",
            "\"{title}\" from your wishlist goes on sale at {opens_at}.",
        ),
        (Locale::Ko, WishlistDropScheduled) => (
            "드롭 예정",
            "찜한 상품 \"{title}\"이(가) {opens_at}에 판매를 시작합니다.",
        ),
        (Locale::En, WishlistDropOpening) => (
            "A drop opens soon",
            "\"{title}\" from your wishlist goes on sale at {opens_at}: in minutes.",
        ),
        (Locale::Ko, WishlistDropOpening) => (
            "드롭 곧 시작",
            "찜한 상품 \"{title}\"이(가) 곧 {opens_at}에 판매를 시작합니다.",
        ),
        (Locale::En, WishlistTimeSaleStarted) => (
            "A time sale started",
            "\"{title}\" from your wishlist is {price} KRW until {ends_at}.",
        ),
        (Locale::Ko, WishlistTimeSaleStarted) => (
            "타임세일 시작",
            "찜한 상품 \"{title}\"이(가) {ends_at}까지 {price}원입니다.",
        ),
        (Locale::En, DropSoldOut) => ("Drop sold out", "Your drop of \"{title}\" sold out."),
        (Locale::Ko, DropSoldOut) => ("드롭 매진", "\"{title}\" 드롭이 매진되었습니다."),
        (Locale::En, DropClosed) => (
            "Drop closed",
            "Your drop of \"{title}\" closed with {sold} units sold.",
        ),
        (Locale::Ko, DropClosed) => (
            "드롭 종료",
            "\"{title}\" 드롭이 종료되었습니다. 판매 수량: {sold}개.",
        ),
        (Locale::En, TrialFull) => (
            "Trial full",
            "Every slot of your trial \"{title}\" is taken.",
        ),
        (Locale::Ko, TrialFull) => ("체험단 마감", "\"{title}\" 체험단 모집이 마감되었습니다."),
        (Locale::En, SettlementReady) => (
            "Settlement ready",
            "Your settlement for {day} is ready: {net} KRW payable.",
        ),
        (Locale::Ko, SettlementReady) => (
            "정산 완료",
            "{day} 정산이 완료되었습니다. 지급 예정 금액: {net}원.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_fills_every_name_its_event_gives_and_no_other() {
        for &event in Event::ALL {
            let params: Params = event
                .params()
                .iter()
                .map(|name| ((*name).to_owned(), format!("<{name}>")))
                .collect();
            for locale in [Locale::En, Locale::Ko] {
                let rendered = event.render(locale, &params);
                let text = format!("{} {}", rendered.title, rendered.body);
                assert!(!text.contains('{'), "{event} {locale}: {text}");
                for name in event.params() {
                    let (title, body) = template(event, locale);
                    assert!(
                        title.contains(&format!("{{{name}}}"))
                            || body.contains(&format!("{{{name}}}")),
                        "{event} {locale} never uses {name}"
                    );
                }
            }
        }
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for &event in Event::ALL {
            assert_eq!(event.as_str().parse::<Event>(), Ok(event));
            assert_eq!(serde_json::to_value(event).unwrap(), event.as_str());
        }
        for &group in Group::ALL {
            assert_eq!(group.as_str().parse::<Group>(), Ok(group));
            assert_eq!(serde_json::to_value(group).unwrap(), group.as_str());
        }
        assert!("nope".parse::<Event>().is_err());
    }

    #[test]
    fn a_value_cannot_inject_another_name() {
        let params: Params = [
            ("amount".to_owned(), "{order}".to_owned()),
            ("order".to_owned(), "7".to_owned()),
        ]
        .into();
        let rendered = Event::OrderPaid.render(Locale::En, &params);
        assert_eq!(rendered.body, "We received {order} KRW for order 7.");
    }
}
