//! What a page is written in: the viewer's language (Korean or English) and time zone, and the
//! way money and times read in them.

use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rushline_domain::{OrderStatus, Won};

use super::session::{Visitor, cookie};

/// The cookie that keeps a viewer's choice of language.
pub(super) const LANG_COOKIE: &str = "lang";
/// The cookie a viewer's time zone is read from (an IANA name); Seoul without it.
const ZONE_COOKIE: &str = "tz";
const DEFAULT_ZONE: Tz = chrono_tz::Asia::Seoul;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    Ko,
    En,
}

impl Lang {
    pub(super) fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().split('-').next() {
            Some("ko") => Some(Lang::Ko),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The first of the languages in an `Accept-Language` header, by weight, that a page is
    /// written in.
    fn from_accept(header: &str) -> Option<Self> {
        let mut offered: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let lang = Lang::parse(parts.next()?)?;
                let weight = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (weight > 0.0).then_some((weight, lang))
            })
            .collect();
        // Stable: of equal weights, the first listed wins.
        offered.sort_by(|a, b| b.0.total_cmp(&a.0));
        offered.first().map(|(_, lang)| *lang)
    }

    /// `129,000원` in Korean, `₩129,000` in English.
    pub(super) fn won(self, amount: Won) -> String {
        let digits = amount.get().unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let sign = if amount.get() < 0 { "-" } else { "" };
        match self {
            Lang::Ko => format!("{sign}{grouped}원"),
            Lang::En => format!("{sign}₩{grouped}"),
        }
    }
}

/// The viewer's language and zone, from the request: `?lang=` (a switch), then the `lang`
/// cookie, then `Accept-Language`; Korean when none names Korean or English. With who they are,
/// as the session layer found them.
#[derive(Debug, Clone)]
pub(super) struct Viewer {
    pub(super) lang: Lang,
    pub(super) zone: Tz,
    /// The language was switched by `?lang=` on this request: the page keeps it in a cookie.
    pub(super) switched: bool,
    pub(super) visitor: Visitor,
}

impl Viewer {
    /// `at` as the viewer reads it: `2026-12-05 14:00 KST`.
    pub(super) fn time(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// The text of `message` in the viewer's language.
    pub(super) fn t(&self, message: Msg) -> &'static str {
        let (ko, en) = message.texts();
        match self.lang {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let asked = parts.uri.query().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("lang="))
                .and_then(Lang::parse)
        });
        let lang = asked
            .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse))
            .or_else(|| {
                parts
                    .headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept)
            })
            .unwrap_or(Lang::Ko);
        let zone = cookie(&parts.headers, ZONE_COOKIE)
            .and_then(|name| name.replace("%2F", "/").parse::<Tz>().ok())
            .unwrap_or(DEFAULT_ZONE);
        Ok(Viewer {
            lang,
            zone,
            switched: asked.is_some(),
            visitor: parts
                .extensions
                .get::<Visitor>()
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// Every text a page shows, in Korean and English.
#[derive(Debug, Clone, Copy)]
pub(super) enum Msg {
    SkipToContent,
    Home,
    Products,
    ApiReference,
    OtherLanguage,
    LiveDrops,
    UpcomingDrops,
    NoLiveDrops,
    NoUpcomingDrops,
    Opens,
    Closes,
    UnitsLeft,
    Search,
    Category,
    AnyCategory,
    SearchButton,
    NoProducts,
    NextPage,
    ListPrice,
    TimeSaleUntil,
    Rating,
    NoReviews,
    Reviews,
    NotFound,
    BadRequest,
    Unavailable,
    LogIn,
    LogOut,
    Email,
    Password,
    WrongLogin,
    TooManyLogins,
    Forbidden,
    SignUp,
    Name,
    AccountType,
    Buyer,
    Seller,
    Verify,
    Code,
    CodeSent,
    CodeResent,
    Resend,
    Verified,
    WrongCode,
    CodeExpired,
    EmailTaken,
    FixFields,
    Orders,
    NoOrders,
    Placed,
    Status,
    Total,
    Items,
    OlderOrders,
    DropScheduled,
    DropOpen,
    DropClosed,
    SoldOut,
    PerBuyer,
    Quantity,
    Buy,
    JoinQueue,
    InLine,
    InPrequeue,
    AboutMinutes,
    Refresh,
    YourTurnUntil,
    LogInToBuy,
    RaffleDrop,
    LimitReached,
    AboutProduct,
    Actions,
    CardNumber,
    Pay,
    PayBy,
    CancelOrder,
    Console,
    MyDrops,
    Sold,
    QueueLength,
    AdmittedPerMinute,
    Bought,
    BuyerView,
    LogInFirst,
}

/// An order's status as a buyer reads it.
pub(super) fn order_status(viewer: &Viewer, status: OrderStatus) -> &'static str {
    let (ko, en) = match status {
        OrderStatus::PendingPayment => ("결제 대기", "Awaiting payment"),
        OrderStatus::Paid => ("결제 완료", "Paid"),
        OrderStatus::Shipping => ("배송 중", "Shipping"),
        OrderStatus::Delivered => ("배송 완료", "Delivered"),
        OrderStatus::Completed => ("구매 확정", "Completed"),
        OrderStatus::Cancelled => ("취소됨", "Cancelled"),
        OrderStatus::Expired => ("기한 만료", "Expired"),
        OrderStatus::ReturnRequested => ("반품 요청", "Return requested"),
        OrderStatus::Returned => ("반품 완료", "Returned"),
    };
    match viewer.lang {
        Lang::Ko => ko,
        Lang::En => en,
    }
}

impl Msg {
    fn texts(self) -> (&'static str, &'static str) {
        match self {
            Msg::SkipToContent => ("본문으로 건너뛰기", "Skip to content"),
            Msg::Home => ("홈", "Home"),
            Msg::Products => ("상품", "Products"),
            Msg::ApiReference => ("API 문서", "API reference"),
            Msg::OtherLanguage => ("English", "한국어"),
            Msg::LiveDrops => ("진행 중인 드롭", "Live drops"),
            Msg::UpcomingDrops => ("예정된 드롭", "Upcoming drops"),
            Msg::NoLiveDrops => (
                "지금 진행 중인 드롭이 없습니다.",
                "No drop is live right now.",
            ),
            Msg::NoUpcomingDrops => ("예정된 드롭이 없습니다.", "No drop is scheduled."),
            Msg::Opens => ("오픈", "Opens"),
            Msg::Closes => ("마감", "Closes"),
            Msg::UnitsLeft => ("남은 수량", "Units left"),
            Msg::Search => ("검색어", "Search"),
            Msg::Category => ("카테고리", "Category"),
            Msg::AnyCategory => ("전체", "All"),
            Msg::SearchButton => ("검색", "Search"),
            Msg::NoProducts => ("조건에 맞는 상품이 없습니다.", "No product matches."),
            Msg::NextPage => ("다음 페이지", "Next page"),
            Msg::ListPrice => ("정가", "List price"),
            Msg::TimeSaleUntil => ("타임세일 종료", "Time sale until"),
            Msg::Rating => ("평점", "Rating"),
            Msg::NoReviews => ("아직 리뷰가 없습니다.", "No reviews yet."),
            Msg::Reviews => ("리뷰", "reviews"),
            Msg::NotFound => ("페이지를 찾을 수 없습니다.", "This page does not exist."),
            Msg::BadRequest => (
                "요청을 처리할 수 없습니다.",
                "This request cannot be answered.",
            ),
            Msg::Unavailable => (
                "잠시 후 다시 시도해 주세요.",
                "Please try again in a moment.",
            ),
            Msg::LogIn => ("로그인", "Log in"),
            Msg::LogOut => ("로그아웃", "Log out"),
            Msg::Email => ("이메일", "E-mail"),
            Msg::Password => ("비밀번호", "Password"),
            Msg::WrongLogin => (
                "이메일 또는 비밀번호가 올바르지 않습니다.",
                "The e-mail address or the password is not right.",
            ),
            Msg::TooManyLogins => (
                "시도가 너무 많습니다. 잠시 후 다시 시도해 주세요.",
                "Too many attempts: please try again later.",
            ),
            Msg::SignUp => ("회원가입", "Sign up"),
            Msg::Name => ("이름", "Name"),
            Msg::AccountType => ("계정 유형", "Account type"),
            Msg::Buyer => ("구매자", "Buyer"),
            Msg::Seller => ("판매자", "Seller"),
            Msg::Verify => ("이메일 인증", "Verify your e-mail"),
            Msg::Code => ("인증 코드 (6자리)", "Code (6 digits)"),
            Msg::CodeSent => (
                "메일로 보낸 6자리 코드를 입력해 주세요. 코드는 5분 동안 유효합니다.",
                "Enter the 6-digit code we mailed you. It is valid for 5 minutes.",
            ),
            Msg::CodeResent => ("새 코드를 보냈습니다.", "A new code is on its way."),
            Msg::Resend => ("코드 다시 받기", "Send a new code"),
            Msg::Verified => (
                "이메일이 인증되었습니다. 로그인해 주세요.",
                "Your address is verified: log in.",
            ),
            Msg::WrongCode => ("코드가 올바르지 않습니다.", "The code is not right."),
            Msg::CodeExpired => (
                "코드가 만료되었습니다. 새 코드를 받아 주세요.",
                "The code has expired: ask for a new one.",
            ),
            Msg::EmailTaken => (
                "이미 가입된 이메일입니다.",
                "An account with this address exists already.",
            ),
            Msg::FixFields => (
                "입력 내용을 확인해 주세요.",
                "Please check what you entered.",
            ),
            Msg::Orders => ("주문 내역", "Orders"),
            Msg::NoOrders => ("주문이 없습니다.", "No orders yet."),
            Msg::Placed => ("주문 일시", "Placed"),
            Msg::Status => ("상태", "Status"),
            Msg::Total => ("결제 금액", "Total"),
            Msg::Items => ("수량", "Items"),
            Msg::OlderOrders => ("이전 주문", "Older orders"),
            Msg::DropScheduled => ("오픈 예정", "Opens soon"),
            Msg::DropOpen => ("판매 중", "On sale"),
            Msg::DropClosed => ("판매 종료", "Closed"),
            Msg::SoldOut => ("품절", "Sold out"),
            Msg::PerBuyer => ("1인당 최대", "At most per buyer:"),
            Msg::Quantity => ("수량", "Quantity"),
            Msg::Buy => ("구매하기", "Buy"),
            Msg::JoinQueue => ("대기열 입장", "Join the waiting room"),
            Msg::InLine => ("대기 순번", "Your place in line:"),
            Msg::InPrequeue => (
                "오픈 전 대기열에 있습니다. 오픈 시각에 순서가 무작위로 정해집니다.",
                "You are in the pre-queue: the order is drawn at random when the drop opens.",
            ),
            Msg::AboutMinutes => ("예상 대기(분)", "about minutes left:"),
            Msg::Refresh => ("새로 고침", "Refresh"),
            Msg::YourTurnUntil => ("구매 가능 시간:", "Your turn to buy, until"),
            Msg::LogInToBuy => ("로그인하고 구매하기", "Log in to buy"),
            Msg::RaffleDrop => (
                "추첨 드롭입니다. 응모는 API로 할 수 있습니다.",
                "This drop is a raffle: enter it through the API.",
            ),
            Msg::LimitReached => (
                "1인당 구매 한도를 넘습니다.",
                "This would exceed the limit per buyer.",
            ),
            Msg::AboutProduct => ("상품 정보", "About the product"),
            Msg::Actions => ("할 일", "Actions"),
            Msg::CardNumber => ("카드 번호 (샌드박스)", "Card number (sandbox)"),
            Msg::Pay => ("결제하기", "Pay"),
            Msg::PayBy => ("결제 기한", "Pay by"),
            Msg::CancelOrder => ("주문 취소", "Cancel the order"),
            Msg::Console => ("판매자 콘솔", "Seller console"),
            Msg::MyDrops => ("내 드롭", "My drops"),
            Msg::Sold => ("판매 수량", "Sold"),
            Msg::QueueLength => ("대기 인원", "Waiting in line"),
            Msg::AdmittedPerMinute => ("분당 입장", "Admitted per minute"),
            Msg::Bought => ("입장 후 구매", "Bought of admitted"),
            Msg::BuyerView => ("구매자 화면", "As buyers see it"),
            Msg::LogInFirst => ("먼저 로그인해 주세요.", "Please log in first."),
            Msg::Forbidden => (
                "이 양식은 만료되었습니다. 페이지를 새로 고친 뒤 다시 보내 주세요.",
                "This form has expired: reload the page and send it again.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn won_reads_as_people_write_it() {
        assert_eq!(Lang::Ko.won(Won::new(129_000)), "129,000원");
        assert_eq!(Lang::En.won(Won::new(129_000)), "₩129,000");
        assert_eq!(Lang::Ko.won(Won::new(0)), "0원");
        assert_eq!(Lang::Ko.won(Won::new(999)), "999원");
        assert_eq!(Lang::Ko.won(Won::new(1_000)), "1,000원");
        assert_eq!(Lang::En.won(Won::new(12_345_678)), "₩12,345,678");
        assert_eq!(Lang::Ko.won(Won::new(-5_000)), "-5,000원");
    }

    #[test]
    fn accept_language_picks_the_heaviest_language_a_page_has() {
        assert_eq!(Lang::from_accept("en-US,en;q=0.9,ko;q=0.8"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept("fr;q=1, ko-KR;q=0.7, en;q=0.3"),
            Some(Lang::Ko)
        );
        assert_eq!(Lang::from_accept("ko;q=0.2, en;q=0.5"), Some(Lang::En));
        assert_eq!(Lang::from_accept("en;q=0, ko;q=0.1"), Some(Lang::Ko));
        assert_eq!(Lang::from_accept("fr, de"), None);
        assert_eq!(Lang::from_accept("en;q=banana"), None);
    }
}
