//! The storefront's pages without a browser: each answers valid HTML with its security headers,
//! in the viewer's language, with every input labelled; failures are pages too.

use axum::body::Body;
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{Method, Request, StatusCode};
use chrono::Duration;
use rushline_domain::{Clock, Role};
use rushline_testkit::{TestApp, TestResponse, backend_test};
use scraper::{Html, Selector};
use serde_json::json;

use crate::drops::create_drop;

async fn page(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (TestResponse, Html) {
    let mut request = Request::builder().method(Method::GET).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app.request(request.body(Body::empty()).unwrap()).await;
    let html = Html::parse_document(&response.text());
    (response, html)
}

/// A page's document is well-formed HTML5, declares its language and carries the headers every
/// page must.
fn check_page(path: &str, response: &TestResponse, html: &Html, lang: &str) {
    assert!(html.errors.is_empty(), "{path}: {:?}", html.errors);
    assert!(
        response.headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{path}"
    );
    let csp = response.headers["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline"),
        "{path}: {csp}"
    );
    assert_eq!(response.headers["x-frame-options"], "DENY", "{path}");
    assert!(response.headers.contains_key("referrer-policy"), "{path}");
    let root = html
        .select(&Selector::parse("html").unwrap())
        .next()
        .unwrap();
    assert_eq!(root.value().attr("lang"), Some(lang), "{path}");
    assert!(
        html.select(&Selector::parse("script:not([src]), [style]").unwrap())
            .next()
            .is_none(),
        "{path}: no inline script or style, which the policy would block"
    );
    // Every input has a label around it, or names one.
    for input in
        html.select(&Selector::parse("input:not([type=hidden]), select, textarea").unwrap())
    {
        let labelled = input.value().attr("aria-label").is_some()
            || input
                .ancestors()
                .any(|a| a.value().as_element().is_some_and(|e| e.name() == "label"));
        assert!(
            labelled,
            "{path}: an input without a label: {:?}",
            input.value()
        );
    }
}

fn texts(html: &Html, selector: &str) -> Vec<String> {
    html.select(&Selector::parse(selector).unwrap())
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

backend_test! {
    async fn storefront_pages_are_valid_html_in_the_viewers_language(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        // A drop opening in a minute, and one of another product opened already.
        let upcoming = create_drop(&app, &seller, 10, 1).await;
        let live = create_drop(&app, &seller, 30, 1).await;
        let product = live["product_id"].as_str().unwrap().to_owned();
        let now = app.clock.now();
        let sale = json!({"price": 80_000, "starts_at": now + Duration::minutes(1), "ends_at": now + Duration::hours(2)});
        app.send(Method::POST, &format!("/api/v1/products/{product}/time-sales"), Some(sale), &[("authorization", &seller.bearer())])
            .await
            .assert_status(StatusCode::CREATED);
        app.clock.advance(Duration::minutes(1) + Duration::seconds(30));
        let upcoming_later = create_drop(&app, &seller, 5, 1).await;

        let (home, html) = page(&app, "/", &[]).await;
        home.assert_status(StatusCode::OK);
        check_page("/", &home, &html, "ko");
        let cards = texts(&html, "#live ~ ul li");
        assert_eq!(cards.len(), 2, "{cards:?}");
        assert!(cards.iter().all(|c| c.contains("99,000원")), "{cards:?}");
        assert!(cards.iter().any(|c| c.contains("30 / 30")), "units left from the gate: {cards:?}");
        let soon = texts(&html, "#upcoming ~ ul li");
        assert_eq!(soon.len(), 1, "{soon:?}");
        assert!(soon[0].contains("(1m)") || soon[0].contains("(0m)"), "{soon:?}");
        let soon_link = html
            .select(&Selector::parse("#upcoming ~ ul li h3 a").unwrap())
            .next()
            .and_then(|a| a.value().attr("href"))
            .unwrap()
            .to_owned();
        assert_eq!(soon_link, format!("/drops/{}", upcoming_later["id"].as_str().unwrap()), "the one still to open");
        let live_links: Vec<String> = html
            .select(&Selector::parse("#live ~ ul li h3 a").unwrap())
            .map(|a| a.value().attr("href").unwrap().to_owned())
            .collect();
        assert!(live_links.contains(&format!("/drops/{}", upcoming["id"].as_str().unwrap())), "{live_links:?}");

        // The catalog, with the time sale in force on the drop's product.
        let (listing, html) = page(&app, "/products", &[]).await;
        listing.assert_status(StatusCode::OK);
        check_page("/products", &listing, &html, "ko");
        let prices = texts(&html, ".price");
        assert!(prices.iter().any(|p| p.contains("129,000원") && p.contains("80,000원")), "{prices:?}");
        let (detail, html) = page(&app, &format!("/products/{product}"), &[]).await;
        detail.assert_status(StatusCode::OK);
        check_page("/products/{id}", &detail, &html, "ko");
        assert_eq!(texts(&html, "h1"), ["Aurora sneakers"]);

        // English: by Accept-Language, by the switch (kept in a cookie), by the cookie.
        let (english, html) = page(&app, "/products", &[(ACCEPT_LANGUAGE.as_str(), "en-GB,en;q=0.9,ko;q=0.5")]).await;
        check_page("/products", &english, &html, "en");
        assert!(texts(&html, ".price").iter().any(|p| p.contains("₩80,000")));
        let (switched, html) = page(&app, "/?lang=en", &[]).await;
        check_page("/?lang=en", &switched, &html, "en");
        let cookie = set_cookie(&switched, "lang").unwrap();
        assert!(cookie.starts_with("lang=en;") && cookie.contains("SameSite=Lax"), "{cookie}");
        let (kept, html) = page(&app, "/", &[(COOKIE.as_str(), "lang=en")]).await;
        check_page("/", &kept, &html, "en");
        assert!(set_cookie(&kept, "lang").is_none(), "nothing switched");
        assert_eq!(texts(&html, "h1"), ["Live drops"]);

        // Times in the viewer's zone: Seoul, or the zone the page's script stored in `tz`.
        let closes = texts(&html, "#live ~ ul li time");
        assert!(closes.len() == 2 && closes.iter().all(|t| t.ends_with("KST")), "{closes:?}");
        let (abroad, html) = page(&app, "/", &[(COOKIE.as_str(), "lang=en; tz=America%2FNew_York")]).await;
        check_page("/ in New York", &abroad, &html, "en");
        let closes = texts(&html, "#live ~ ul li time");
        assert!(closes.len() == 2 && closes.iter().all(|t| t.ends_with("EST")), "{closes:?}");
        let counting = html.select(&Selector::parse("#upcoming ~ ul li [data-countdown]").unwrap()).count();
        assert_eq!(counting, 1, "the upcoming drop's countdown, which the script updates");

        // Search and category narrow the list; none found says so.
        let (none, html) = page(&app, "/products?q=nothing-like-this&category=shoes", &[]).await;
        none.assert_status(StatusCode::OK);
        check_page("/products?q", &none, &html, "ko");
        assert!(texts(&html, ".card").is_empty());
        assert_eq!(texts(&html, "p.muted"), ["조건에 맞는 상품이 없습니다."]);

        // Failures are pages: a missing product, a bad id, a bad cursor, a draft.
        for (path, status) in [
            (format!("/products/{}", uuid::Uuid::now_v7()), StatusCode::NOT_FOUND),
            ("/products/not-an-id".to_owned(), StatusCode::NOT_FOUND),
            ("/products?cursor=%%%".to_owned(), StatusCode::BAD_REQUEST),
        ] {
            let (failed, html) = page(&app, &path, &[]).await;
            failed.assert_status(status);
            check_page(&path, &failed, &html, "ko");
        }
        let draft = app.product(&seller, 10_000, 1).await;
        app.send(Method::PATCH, &format!("/api/v1/products/{}", draft.id), Some(json!({"status": "draft"})), &[("authorization", &seller.bearer())])
            .await
            .assert_status(StatusCode::OK);
        let (hidden, _) = page(&app, &format!("/products/{}", draft.id), &[]).await;
        hidden.assert_status(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_stylesheet_and_script_are_named_by_their_content_and_cached_for_a_year() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    let (_, html) = page(&app, "/", &[]).await;
    for (selector, attribute, extension, content_type, content) in [
        (
            "link[rel=stylesheet]",
            "href",
            "css",
            "text/css",
            "--accent",
        ),
        (
            "script[src]",
            "src",
            "js",
            "text/javascript",
            "data-countdown",
        ),
    ] {
        let url = html
            .select(&Selector::parse(selector).unwrap())
            .next()
            .and_then(|e| e.value().attr(attribute))
            .unwrap()
            .to_owned();
        assert!(
            url.starts_with("/assets/app.") && url.ends_with(&format!(".{extension}")),
            "{url}"
        );
        let file = app.get(&url).await;
        file.assert_status(StatusCode::OK);
        assert_eq!(
            file.headers[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(
            file.headers[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{url}"
        );
        assert!(file.text().contains(content), "{url}");
        // The hash is the content's: any other name is unknown.
        app.get(&format!("/assets/app.0000000000000000.{extension}"))
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}

/// The cookie `name` as the response sets it: its value and attributes.
fn set_cookie(response: &TestResponse, name: &str) -> Option<String> {
    response
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn cookie_value(set: &str) -> String {
    set.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

fn form_token(html: &Html, action: &str) -> String {
    let selector = Selector::parse(&format!("form[action=\"{action}\"] input[name=csrf]")).unwrap();
    html.select(&selector)
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned()
}

async fn post_form(
    app: &TestApp,
    path: &str,
    cookies: &str,
    fields: &[(&str, &str)],
) -> TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(COOKIE, cookies)
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap();
    app.request(request).await
}

backend_test! {
    async fn a_browser_logs_in_and_out_with_forms_that_carry_their_own_csrf_token(backend: Backend) {
        use crate::identity::{PASSWORD, verified_account};
        let app = TestApp::new(backend).await;
        let email = "minji@example.com";
        verified_account(&app, email).await;

        // A first visit gets a browser id; the login form's token is bound to it.
        let (form_page, html) = page(&app, "/login", &[]).await;
        form_page.assert_status(StatusCode::OK);
        check_page("/login", &form_page, &html, "ko");
        let browser = set_cookie(&form_page, "rl_browser").unwrap();
        assert!(browser.contains("HttpOnly") && browser.contains("SameSite=Lax"), "{browser}");
        let browser = format!("rl_browser={}", cookie_value(&browser));
        let token = form_token(&html, "/login");

        // Refused: no token, another browser's token, a wrong password.
        let without = post_form(&app, "/login", &browser, &[("email", email), ("password", PASSWORD)]).await;
        without.assert_status(StatusCode::FORBIDDEN);
        let (_, elsewhere) = page(&app, "/login", &[(COOKIE.as_str(), "rl_browser=0123456789abcdef0123456789abcdef")]).await;
        let foreign = form_token(&elsewhere, "/login");
        post_form(&app, "/login", &browser, &[("csrf", &foreign), ("email", email), ("password", PASSWORD)])
            .await
            .assert_status(StatusCode::FORBIDDEN);
        let wrong = post_form(&app, "/login", &browser, &[("csrf", &token), ("email", email), ("password", "not it!1")]).await;
        wrong.assert_status(StatusCode::UNAUTHORIZED);
        let html = Html::parse_document(&wrong.text());
        check_page("/login (wrong)", &wrong, &html, "ko");
        assert_eq!(texts(&html, "[role=alert]"), ["이메일 또는 비밀번호가 올바르지 않습니다."]);
        assert!(set_cookie(&wrong, "rl_session").is_none());

        // Logged in: a session cookie, HttpOnly and SameSite=Lax, that no API takes as a token.
        let logged_in = post_form(&app, "/login", &browser, &[("csrf", &token), ("email", email), ("password", PASSWORD)]).await;
        logged_in.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(logged_in.headers["location"], "/");
        let session = set_cookie(&logged_in, "rl_session").unwrap();
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Max-Age=1209600"), "{session}");
        let refresh = set_cookie(&logged_in, "rl_refresh").unwrap();
        let cookies = format!("{browser}; rl_session={}; rl_refresh={}", cookie_value(&session), cookie_value(&refresh));
        let as_bearer = app
            .send(Method::GET, "/api/v1/me", None, &[("authorization", &format!("Bearer {}", cookie_value(&session)))])
            .await;
        as_bearer.assert_status(StatusCode::UNAUTHORIZED);

        let (home, html) = page(&app, "/", &[(COOKIE.as_str(), &cookies)]).await;
        check_page("/ signed in", &home, &html, "ko");
        assert_eq!(texts(&html, ".who"), ["Kim Minji"]);
        let logout = form_token(&html, "/logout");
        assert_ne!(logout, token, "a session's forms are bound to the session");
        // The login page of a signed-in browser sends it home.
        page(&app, "/login", &[(COOKIE.as_str(), &cookies)]).await.0.assert_status(StatusCode::SEE_OTHER);
        // The browser id's token does not post for the session.
        post_form(&app, "/logout", &cookies, &[("csrf", &token)]).await.assert_status(StatusCode::FORBIDDEN);

        // Logged out: the cookies go, and the session with them, so an old cookie is no one.
        let out = post_form(&app, "/logout", &cookies, &[("csrf", &logout)]).await;
        out.assert_status(StatusCode::SEE_OTHER);
        assert!(set_cookie(&out, "rl_session").unwrap().contains("Max-Age=0"));
        let (after, html) = page(&app, "/", &[(COOKIE.as_str(), &cookies)]).await;
        check_page("/ after logout", &after, &html, "ko");
        assert!(texts(&html, ".who").is_empty());
        assert!(set_cookie(&after, "rl_session").unwrap().contains("Max-Age=0"), "the ended session's cookie is dropped");
        assert!(html.select(&Selector::parse("a[href=\"/login\"]").unwrap()).next().is_some());
    }
}

backend_test! {
    async fn a_browser_signs_up_verifies_with_the_mailed_code_and_logs_in(backend: Backend) {
        use crate::identity::{PASSWORD, code_in};
        let app = TestApp::new(backend).await;
        let email = "seoyeon@example.com";
        let (form_page, html) = page(&app, "/signup?lang=en", &[]).await;
        form_page.assert_status(StatusCode::OK);
        check_page("/signup", &form_page, &html, "en");
        let browser = format!("rl_browser={}", cookie_value(&set_cookie(&form_page, "rl_browser").unwrap()));
        let token = form_token(&html, "/signup");
        let cookies = format!("{browser}; lang=en");

        // Refused as a page that keeps what was typed: a weak password, without a token.
        let weak = post_form(&app, "/signup", &cookies, &[("csrf", &token), ("name", "Park Seoyeon"), ("email", email), ("password", "short"), ("role", "seller")]).await;
        weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let html = Html::parse_document(&weak.text());
        check_page("/signup (weak)", &weak, &html, "en");
        let said = texts(&html, "[role=alert] li");
        assert_eq!(said[0], "Please check what you entered.");
        assert!(said[1..].iter().any(|s| s.starts_with("password: ")), "{said:?}");
        let kept = html.select(&Selector::parse("input[name=name]").unwrap()).next().unwrap();
        assert_eq!(kept.value().attr("value"), Some("Park Seoyeon"));
        let seller = html.select(&Selector::parse("input[value=seller]").unwrap()).next().unwrap();
        assert!(seller.value().attr("checked").is_some(), "the choice is kept");
        post_form(&app, "/signup", &cookies, &[("name", "Park Seoyeon"), ("email", email), ("password", PASSWORD)])
            .await
            .assert_status(StatusCode::FORBIDDEN);

        let signed_up = post_form(&app, "/signup", &cookies, &[("csrf", &token), ("name", "Park Seoyeon"), ("email", email), ("password", PASSWORD), ("role", "seller")]).await;
        signed_up.assert_status(StatusCode::SEE_OTHER);
        let verify_at = signed_up.headers["location"].to_str().unwrap().to_owned();
        assert_eq!(verify_at, "/verify?email=seoyeon%40example.com");
        let again = post_form(&app, "/signup", &cookies, &[("csrf", &token), ("name", "Other"), ("email", email), ("password", PASSWORD)]).await;
        again.assert_status(StatusCode::CONFLICT);
        let html = Html::parse_document(&again.text());
        assert_eq!(texts(&html, "[role=alert] li"), ["An account with this address exists already."]);

        // The verify page, with the address filled in; a wrong code, then the mailed one.
        let (verify_page, html) = page(&app, &verify_at, &[(COOKIE.as_str(), &cookies)]).await;
        check_page("/verify", &verify_page, &html, "en");
        let filled = html.select(&Selector::parse("form[action=\"/verify\"] input[name=email]").unwrap()).next().unwrap();
        assert_eq!(filled.value().attr("value"), Some(email));
        let token = form_token(&html, "/verify");
        let wrong = post_form(&app, "/verify", &cookies, &[("csrf", &token), ("email", email), ("code", "000000")]).await;
        wrong.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(texts(&Html::parse_document(&wrong.text()), "[role=alert] li"), ["The code is not right."]);
        let mails = app.deliver_mail_to(email).await;
        assert_eq!(mails.len(), 1, "{mails:?}");
        let code = code_in(&mails[0]);
        let verified = post_form(&app, "/verify", &cookies, &[("csrf", &token), ("email", email), ("code", &code)]).await;
        verified.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(verified.headers["location"], "/login?verified=1");
        let (login_page, html) = page(&app, "/login?verified=1", &[(COOKIE.as_str(), &cookies)]).await;
        check_page("/login?verified=1", &login_page, &html, "en");
        assert_eq!(texts(&html, "[role=status]"), ["Your address is verified: log in."]);

        // A verified seller logs in through the page.
        let token = form_token(&html, "/login");
        post_form(&app, "/login", &cookies, &[("csrf", &token), ("email", email), ("password", PASSWORD)])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        let me = app.state().store.user_by_email(email).await.unwrap();
        assert_eq!((me.role, me.verified_at.is_some()), (Role::Seller, true));

        // A new code on request, at most once a minute.
        let (resend_page, html) = page(&app, &verify_at, &[(COOKIE.as_str(), &cookies)]).await;
        resend_page.assert_status(StatusCode::OK);
        let token = form_token(&html, "/verify/resend");
        let other = "hana@example.com";
        crate::identity::sign_up(&app, other).await.assert_status(StatusCode::CREATED);
        app.clock.advance(Duration::seconds(61));
        let resent = post_form(&app, "/verify/resend", &cookies, &[("csrf", &token), ("email", other)]).await;
        resent.assert_status(StatusCode::OK);
        assert_eq!(texts(&Html::parse_document(&resent.text()), "[role=status]"), ["A new code is on its way."]);
        let soon = post_form(&app, "/verify/resend", &cookies, &[("csrf", &token), ("email", other)]).await;
        soon.assert_status(StatusCode::TOO_MANY_REQUESTS);
    }
}

/// Logs `email` in through the login form; returns the cookies a browser would then send.
async fn browser_login(app: &TestApp, email: &str) -> String {
    let (form_page, html) = page(app, "/login", &[]).await;
    let browser = format!(
        "rl_browser={}",
        cookie_value(&set_cookie(&form_page, "rl_browser").unwrap())
    );
    let token = form_token(&html, "/login");
    let fields = [
        ("csrf", token.as_str()),
        ("email", email),
        ("password", crate::identity::PASSWORD),
    ];
    let logged_in = post_form(app, "/login", &browser, &fields).await;
    logged_in.assert_status(StatusCode::SEE_OTHER);
    let session = cookie_value(&set_cookie(&logged_in, "rl_session").unwrap());
    format!("{browser}; rl_session={session}")
}

backend_test! {
    async fn a_buyer_sees_their_own_orders_and_nobody_elses(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let drop = create_drop(&app, &seller, 10, 1).await;
        crate::drops::open(&app, &drop);
        let mut buyers = Vec::new();
        for email in ["jiwoo@example.com", "minho@example.com"] {
            crate::identity::verified_account(&app, email).await;
            let (token, _) = crate::identity::session(&app, email).await;
            let id = app.state().store.user_by_email(email).await.unwrap().id;
            buyers.push(rushline_testkit::TestUser { id, email: email.to_owned(), role: Role::Buyer, token });
        }
        crate::drops::purchase(&app.client(), &buyers[0], &drop, 1, "k1").await.assert_status(StatusCode::CREATED);

        let (anonymous, _) = page(&app, "/orders", &[]).await;
        anonymous.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(anonymous.headers["location"], "/login");

        let cookies = browser_login(&app, "jiwoo@example.com").await;
        let (mine, html) = page(&app, "/orders", &[(COOKIE.as_str(), &cookies)]).await;
        mine.assert_status(StatusCode::OK);
        check_page("/orders", &mine, &html, "ko");
        let rows = texts(&html, "tbody tr");
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(rows[0].contains("결제 대기") && rows[0].contains("99,000원"), "{rows:?}");

        let cookies = browser_login(&app, "minho@example.com").await;
        let (theirs, html) = page(&app, "/orders", &[(COOKIE.as_str(), &cookies)]).await;
        check_page("/orders (another buyer)", &theirs, &html, "ko");
        assert!(texts(&html, "tbody tr").is_empty());
        assert_eq!(texts(&html, "p.muted"), ["주문이 없습니다."]);
        let (bad, _) = page(&app, "/orders?cursor=%%%", &[(COOKIE.as_str(), &cookies)]).await;
        bad.assert_status(StatusCode::BAD_REQUEST);
    }
}

/// A drop of `seller`'s of 100 units, one per buyer, behind a waiting room admitting 60 a
/// minute, opening in a minute.
async fn room_drop(app: &TestApp, seller: &rushline_testkit::TestUser) -> serde_json::Value {
    let product = app.product(seller, 129_000, 0).await;
    let now = app.clock.now();
    let created = app
        .send(
            Method::POST,
            "/api/v1/drops",
            Some(json!({
                "product_id": product.id, "quantity": 100, "price": 99_000,
                "opens_at": now + Duration::minutes(1), "closes_at": now + Duration::hours(1),
                "per_user_limit": 1, "waiting_room": { "admit_per_minute": 60 },
            })),
            &[("authorization", &seller.bearer())],
        )
        .await;
    created.assert_status(StatusCode::CREATED);
    created.json()
}

/// A buyer with a verified account, signed in through the login form: their browser's cookies.
async fn signed_in_buyer(app: &TestApp, email: &str) -> String {
    crate::identity::verified_account(app, email).await;
    browser_login(app, email).await
}

backend_test! {
    async fn a_buyer_buys_from_the_drop_page_once_per_form(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let drop = create_drop(&app, &seller, 10, 1).await;
        let path = format!("/drops/{}", drop["id"].as_str().unwrap());
        let (anonymous, html) = page(&app, &path, &[]).await;
        anonymous.assert_status(StatusCode::OK);
        check_page(&path, &anonymous, &html, "ko");
        assert_eq!(texts(&html, "p strong"), ["오픈 예정"]);
        assert!(html.select(&Selector::parse("a[href=\"/login\"]").unwrap()).count() >= 2);

        let cookies = signed_in_buyer(&app, "dahye@example.com").await;
        let (before, html) = page(&app, &path, &[(COOKIE.as_str(), &cookies)]).await;
        check_page(&path, &before, &html, "ko");
        assert!(html.select(&Selector::parse("form[action$=\"/buy\"]").unwrap()).next().is_none(), "not before the opening");

        crate::drops::open(&app, &drop);
        let (open, html) = page(&app, &path, &[(COOKIE.as_str(), &cookies)]).await;
        check_page(&path, &open, &html, "ko");
        let buy = format!("{path}/buy");
        let token = form_token(&html, &buy);
        let key = html
            .select(&Selector::parse("form[action$=\"/buy\"] input[name=key]").unwrap())
            .next()
            .unwrap()
            .value()
            .attr("value")
            .unwrap()
            .to_owned();
        let fields = [("csrf", token.as_str()), ("key", key.as_str()), ("quantity", "1")];
        let bought = post_form(&app, &buy, &cookies, &fields).await;
        bought.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(bought.headers["location"], "/orders");
        // The same form sent again buys nothing more.
        post_form(&app, &buy, &cookies, &fields).await.assert_status(StatusCode::SEE_OTHER);
        let (orders, html) = page(&app, "/orders", &[(COOKIE.as_str(), &cookies)]).await;
        orders.assert_status(StatusCode::OK);
        assert_eq!(texts(&html, "tbody tr").len(), 1);
        let (_, html) = page(&app, &path, &[(COOKIE.as_str(), &cookies)]).await;
        assert!(texts(&html, "p").iter().any(|p| p.contains("9 / 10")), "{:?}", texts(&html, "p"));

        // A second form is a second purchase: refused by the limit of one, as a page.
        let key = uuid::Uuid::new_v4().to_string();
        let over = post_form(&app, &buy, &cookies, &[("csrf", token.as_str()), ("key", key.as_str()), ("quantity", "1")]).await;
        over.assert_status(StatusCode::CONFLICT);
        let html = Html::parse_document(&over.text());
        check_page("refused purchase", &over, &html, "ko");
        assert_eq!(texts(&html, "[role=alert] li"), ["1인당 구매 한도를 넘습니다."]);
        // Without the form's token, nothing.
        post_form(&app, &buy, &cookies, &[("key", key.as_str()), ("quantity", "1")]).await.assert_status(StatusCode::FORBIDDEN);
    }
}

backend_test! {
    async fn a_buyer_waits_in_the_drop_pages_room_then_buys_on_their_turn(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let drop = room_drop(&app, &seller).await;
        let path = format!("/drops/{}", drop["id"].as_str().unwrap());
        let cookies = signed_in_buyer(&app, "yuna@example.com").await;

        let (outside, html) = page(&app, &path, &[(COOKIE.as_str(), &cookies)]).await;
        check_page(&path, &outside, &html, "ko");
        let join = format!("{path}/queue");
        let token = form_token(&html, &join);
        let joined = post_form(&app, &join, &cookies, &[("csrf", &token)]).await;
        joined.assert_status(StatusCode::SEE_OTHER);
        let (waiting, html) = page(&app, &path, &[(COOKIE.as_str(), &cookies)]).await;
        check_page(&path, &waiting, &html, "ko");
        let status = texts(&html, "[role=status]");
        assert!(status[0].contains("오픈 전 대기열"), "{status:?}");
        // The page's script follows the place over server-sent events, with the page's cookie.
        let events = format!("{path}/events");
        let follows = html.select(&Selector::parse("[data-events]").unwrap()).next().unwrap();
        assert_eq!(follows.value().attr("data-events"), Some(events.as_str()));
        let mut stream = app.client().stream(&events, &[(COOKIE.as_str(), &cookies)]).await;
        assert_eq!(stream.status, StatusCode::OK);
        let (name, ticket) = stream.next_event().await.unwrap();
        assert_eq!((name.as_str(), &ticket["state"]), ("status", &json!("waiting")), "{ticket}");
        std::mem::drop(stream);
        let anonymous = app.client().stream(&events, &[]).await;
        assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
        assert!(html.select(&Selector::parse("form[action$=\"/buy\"]").unwrap()).next().is_none());

        crate::drops::open(&app, &drop);
        for _ in 0..3 {
            app.advance(Duration::seconds(1)).await;
        }
        let (turn, html) = page(&app, &path, &[(COOKIE.as_str(), &cookies)]).await;
        check_page(&path, &turn, &html, "ko");
        assert!(texts(&html, "[role=status]").iter().any(|s| s.contains("구매 가능 시간")), "{:?}", texts(&html, "[role=status]"));
        let buy = format!("{path}/buy");
        let token = form_token(&html, &buy);
        let key = uuid::Uuid::new_v4().to_string();
        post_form(&app, &buy, &cookies, &[("csrf", token.as_str()), ("key", key.as_str()), ("quantity", "1")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        let (_, html) = page(&app, "/orders", &[(COOKIE.as_str(), &cookies)]).await;
        assert_eq!(texts(&html, "tbody tr").len(), 1);
    }
}

backend_test! {
    async fn a_buyer_pays_with_the_sandbox_card_and_cancels_from_the_orders_page(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let drop = create_drop(&app, &seller, 10, 2).await;
        crate::drops::open(&app, &drop);
        let cookies = signed_in_buyer(&app, "sumin@example.com").await;
        let (token, _) = crate::identity::session(&app, "sumin@example.com").await;
        let id = app.state().store.user_by_email("sumin@example.com").await.unwrap().id;
        let buyer = rushline_testkit::TestUser { id, email: "sumin@example.com".to_owned(), role: Role::Buyer, token };
        for key in ["first", "second"] {
            crate::drops::purchase(&app.client(), &buyer, &drop, 1, key).await.assert_status(StatusCode::CREATED);
        }
        let (listed, html) = page(&app, "/orders", &[(COOKIE.as_str(), &cookies)]).await;
        check_page("/orders", &listed, &html, "ko");
        let pay_forms: Vec<String> = html
            .select(&Selector::parse("form[action$=\"/pay\"]").unwrap())
            .map(|f| f.value().attr("action").unwrap().to_owned())
            .collect();
        assert_eq!(pay_forms.len(), 2);
        let token = form_token(&html, &pay_forms[0]);

        // A declined card is a page saying so; the order still awaits payment.
        let key = uuid::Uuid::new_v4().to_string();
        let declined = post_form(&app, &pay_forms[0], &cookies, &[("csrf", token.as_str()), ("key", key.as_str()), ("card_number", "4000 0000 0000 0002")]).await;
        declined.assert_status(StatusCode::PAYMENT_REQUIRED);
        let html = Html::parse_document(&declined.text());
        check_page("declined", &declined, &html, "ko");
        assert_eq!(texts(&html, "[role=alert] li").len(), 1);

        let key = uuid::Uuid::new_v4().to_string();
        let paid = post_form(&app, &pay_forms[0], &cookies, &[("csrf", token.as_str()), ("key", key.as_str()), ("card_number", "4111 1111 1111 1111")]).await;
        paid.assert_status(StatusCode::SEE_OTHER);
        let (_, html) = page(&app, "/orders", &[(COOKIE.as_str(), &cookies)]).await;
        let rows = texts(&html, "tbody tr");
        assert_eq!(rows.iter().filter(|r| r.contains("결제 완료")).count(), 1, "{rows:?}");
        assert_eq!(html.select(&Selector::parse("form[action$=\"/pay\"]").unwrap()).count(), 1);

        // Cancelling the paid one: refunded through the outbox, its unit back on sale.
        let paid_id = pay_forms[0].trim_start_matches("/orders/").trim_end_matches("/pay").to_owned();
        let cancel = format!("/orders/{paid_id}/cancel");
        let token = form_token(&html, &cancel);
        post_form(&app, &cancel, &cookies, &[("csrf", token.as_str())]).await.assert_status(StatusCode::SEE_OTHER);
        let order = app.state().store.order(paid_id.parse().unwrap()).await.unwrap();
        assert_eq!(order.status.as_str(), "cancelled");
        let again = post_form(&app, &cancel, &cookies, &[("csrf", token.as_str())]).await;
        again.assert_status(StatusCode::CONFLICT);

        // Another buyer's order is no order of theirs.
        let other = signed_in_buyer(&app, "taeyang@example.com").await;
        let (_, html) = page(&app, "/orders", &[(COOKIE.as_str(), &other)]).await;
        let other_token = form_token(&html, "/logout");
        let theirs = post_form(&app, &pay_forms[1], &other, &[("csrf", other_token.as_str()), ("key", "k"), ("card_number", "4111111111111111")]).await;
        theirs.assert_status(StatusCode::NOT_FOUND);
        let (mine, _) = page(&app, "/orders", &[(COOKIE.as_str(), &cookies)]).await;
        assert!(mine.text().contains("결제 대기"), "the second order still awaits its payment");
    }
}

/// A verified seller, signed in through the login form: their API token and browser cookies.
async fn signed_in_seller(app: &TestApp, email: &str) -> (rushline_testkit::TestUser, String) {
    use crate::identity::{PASSWORD, mailed_code, verify};
    app.post(
        "/api/v1/auth/signup",
        json!({ "email": email, "password": PASSWORD, "name": "Seller Han", "role": "seller" }),
    )
    .await
    .assert_status(StatusCode::CREATED);
    let code = mailed_code(app, email).await;
    verify(app, email, &code)
        .await
        .assert_status(StatusCode::OK);
    let (token, _) = crate::identity::session(app, email).await;
    let id = app.state().store.user_by_email(email).await.unwrap().id;
    let user = rushline_testkit::TestUser {
        id,
        email: email.to_owned(),
        role: Role::Seller,
        token,
    };
    (user, browser_login(app, email).await)
}

backend_test! {
    async fn a_seller_watches_their_drop_sell_in_the_console_and_nobody_else_can(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (seller, console_cookies) = signed_in_seller(&app, "han@seller.example").await;
        let drop = room_drop(&app, &seller).await;
        let watch = format!("/seller/drops/{}", drop["id"].as_str().unwrap());

        let (console, html) = page(&app, "/seller", &[(COOKIE.as_str(), &console_cookies)]).await;
        console.assert_status(StatusCode::OK);
        check_page("/seller", &console, &html, "ko");
        assert!(html.select(&Selector::parse(&format!("a[href=\"{watch}\"]")).unwrap()).next().is_some());
        assert!(texts(&html, "#my-products ~ ul li").iter().any(|p| p.contains("Aurora sneakers") && p.contains("129,000원")));

        // A buyer queues and buys through the pages while the seller watches.
        let buyer = signed_in_buyer(&app, "nari@example.com").await;
        let path = format!("/drops/{}", drop["id"].as_str().unwrap());
        let (_, html) = page(&app, &path, &[(COOKIE.as_str(), &buyer)]).await;
        let join = format!("{path}/queue");
        post_form(&app, &join, &buyer, &[("csrf", &form_token(&html, &join))]).await.assert_status(StatusCode::SEE_OTHER);
        let (watched, html) = page(&app, &watch, &[(COOKIE.as_str(), &console_cookies)]).await;
        check_page(&watch, &watched, &html, "ko");
        assert_eq!((texts(&html, "#left"), texts(&html, "#waiting")), (vec!["100 / 100".to_owned()], vec!["1".to_owned()]));
        crate::drops::open(&app, &drop);
        for _ in 0..3 {
            app.advance(Duration::seconds(1)).await;
        }
        let (_, html) = page(&app, &path, &[(COOKIE.as_str(), &buyer)]).await;
        let buy = format!("{path}/buy");
        let key = uuid::Uuid::new_v4().to_string();
        post_form(&app, &buy, &buyer, &[("csrf", form_token(&html, &buy).as_str()), ("key", key.as_str()), ("quantity", "1")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        let (_, html) = page(&app, &watch, &[(COOKIE.as_str(), &console_cookies)]).await;
        assert_eq!(
            (texts(&html, "#left"), texts(&html, "#sold"), texts(&html, "#bought")),
            (vec!["99 / 100".to_owned()], vec!["1".to_owned()], vec!["1 / 1".to_owned()])
        );

        // Another seller: 404; a buyer: 403; nobody signed in: asked to log in.
        let (_, other) = signed_in_seller(&app, "kang@seller.example").await;
        let (theirs, html) = page(&app, &watch, &[(COOKIE.as_str(), &other)]).await;
        theirs.assert_status(StatusCode::NOT_FOUND);
        check_page("another seller's drop", &theirs, &html, "ko");
        page(&app, "/seller", &[(COOKIE.as_str(), &buyer)]).await.0.assert_status(StatusCode::FORBIDDEN);
        page(&app, "/seller", &[]).await.0.assert_status(StatusCode::UNAUTHORIZED);
    }
}
