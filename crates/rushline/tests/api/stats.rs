//! Seller statistics: days rolled up from the settlement fixture's orders, a drop's sale, product
//! ratings, who may see them (another seller: 404), and the SVG charts, which parse as XML and
//! carry the values.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use rushline_domain::settlement::business_day_bounds;
use rushline_domain::{Clock, Role};
use rushline_testkit::{Backend, TestApp, TestUser, backend_test};
use serde_json::{Value, json};

use crate::drops::{create_drop, open, purchase};
use crate::orders::pay_card;
use crate::settlements::{Fixture, at, fixture, get, settle_all};

async fn roll_up(app: &TestApp, day: &str) {
    let day = day.parse().unwrap();
    let (start, end) = business_day_bounds(day, chrono_tz::Asia::Seoul);
    app.state()
        .store
        .roll_up_seller_days(day, start, end, app.clock.now())
        .await
        .unwrap();
}

fn day<'a>(stats: &'a Value, day: &str) -> &'a Value {
    stats["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["day"] == day)
        .unwrap_or_else(|| panic!("no {day} in {stats}"))
}

/// Parses `svg` as XML to its end, and gives the text of its `<text>` elements.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut texts = Vec::new();
    let mut in_text = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) => in_text = e.name().as_ref() == b"text",
            quick_xml::events::Event::Text(t) if in_text => {
                texts.push(t.decode().unwrap().trim().to_owned());
            }
            quick_xml::events::Event::End(_) => in_text = false,
            quick_xml::events::Event::Eof => return texts,
            _ => {}
        }
    }
}

async fn svg(app: &TestApp, user: &TestUser, path: &str) -> Vec<String> {
    let response = get(app, user, path).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(response.headers["content-type"], "image/svg+xml");
    let text = response.text();
    assert!(text.starts_with("<svg"), "{text}");
    svg_texts(&text)
}

async fn settled(backend: Backend) -> Fixture {
    let f = fixture(backend).await;
    settle_all(&f).await;
    f
}

backend_test! {
    async fn days_come_from_the_roll_up_and_the_settlements(backend: Backend) {
        let f = settled(backend).await;
        let (app, s, t) = (&f.app, &f.s, &f.t);
        // A cancelled order, placed at 00:30 on 2026-03-09 in Seoul.
        let (b1, b2) = (&f.buyers[0], &f.buyers[1]);
        let product = app.product(s, 5_000, 10).await.id;
        app.send(Method::POST, "/api/v1/cart/items", Some(json!({"product_id": product, "quantity": 3})),
            &[("authorization", &b2.bearer())]).await.assert_status(StatusCode::CREATED);
        let order = app.send(Method::POST, "/api/v1/cart/checkout", Some(json!({})),
            &[("authorization", &b2.bearer()), ("idempotency-key", "to-cancel")]).await.json();
        app.send(Method::POST, &format!("/api/v1/orders/{}/cancel", order["id"].as_str().unwrap()), None,
            &[("authorization", &b2.bearer())]).await.assert_status(StatusCode::OK);
        for d in ["2026-03-01", "2026-03-04", "2026-03-05", "2026-03-09"] {
            roll_up(app, d).await;
        }
        // b1 reviews the product of o1.
        let o1 = get(app, b1, &format!("/api/v1/orders/{}", f.order("o1"))).await.json();
        let reviewed = o1["lines"][0]["product_id"].as_str().unwrap().to_owned();
        app.send(Method::POST, &format!("/api/v1/products/{reviewed}/reviews"),
            Some(json!({"rating": 4, "text": "Comfortable from day one."})),
            &[("authorization", &b1.bearer())]).await.assert_status(StatusCode::CREATED);

        let stats = get(app, s, "/api/v1/seller/stats?from=2026-03-01&to=2026-03-09").await;
        stats.assert_status(StatusCode::OK);
        let stats = stats.json();
        let days: Vec<&str> = stats["days"].as_array().unwrap().iter().map(|d| d["day"].as_str().unwrap()).collect();
        assert_eq!(days, ["2026-03-01", "2026-03-04", "2026-03-07", "2026-03-09"]);
        assert_eq!(day(&stats, "2026-03-01"), &json!({
            "day": "2026-03-01", "orders": 1, "units": 1, "gross": 12_345, "net": 0,
            "returns": 0, "cancellation_rate": 0.0,
        }));
        // o1–o4 were placed on the 4th; o0, placed on the 1st, settled (11,321) on the 4th.
        assert_eq!(day(&stats, "2026-03-04"), &json!({
            "day": "2026-03-04", "orders": 4, "units": 5, "gross": 84_700, "net": 11_321,
            "returns": 0, "cancellation_rate": 0.0,
        }));
        assert_eq!(day(&stats, "2026-03-07")["net"], 73_086);
        assert_eq!(day(&stats, "2026-03-07")["orders"], 0);
        assert_eq!(day(&stats, "2026-03-09")["cancellation_rate"], 1.0);
        assert_eq!(day(&stats, "2026-03-09")["units"], 3);
        assert_eq!(stats["products"], json!([{
            "product_id": reviewed, "name": "Aurora sneakers", "rating_average": 4.0, "rating_count": 1,
        }]));
        // T: its line of o3 and o5 on the 4th, o6 on the 5th (Seoul's midnight between them).
        let t_stats = get(app, t, "/api/v1/seller/stats?from=2026-03-01&to=2026-03-09").await.json();
        assert_eq!((day(&t_stats, "2026-03-04")["orders"].as_i64(), day(&t_stats, "2026-03-04")["gross"].as_i64()), (Some(2), Some(40_000)));
        assert_eq!(day(&t_stats, "2026-03-05")["orders"], 1);

        // Only their own: another seller's id is 404 to a seller, an admin names anyone.
        let theirs = get(app, s, &format!("/api/v1/seller/stats?seller_id={}", t.id)).await;
        theirs.assert_status(StatusCode::NOT_FOUND);
        let as_admin = get(app, &f.admin, &format!("/api/v1/seller/stats?from=2026-03-01&to=2026-03-09&seller_id={}", t.id)).await;
        as_admin.assert_status(StatusCode::OK);
        assert_eq!(as_admin.json(), t_stats);
        assert_eq!(get(app, &f.admin, "/api/v1/seller/stats").await.error_code(), "invalid_query");
        assert_eq!(get(app, b1, "/api/v1/seller/stats").await.error_code(), "forbidden");
        assert_eq!(get(app, s, "/api/v1/seller/stats?from=2026-03-09&to=2026-03-01").await.error_code(), "invalid_query");
        assert_eq!(get(app, s, "/api/v1/seller/stats?from=2025-01-01&to=2026-03-01").await.error_code(), "invalid_query");

        // The chart: every value of the series is written in it.
        let texts = svg(app, s, "/api/v1/seller/stats/sales.svg?from=2026-03-01&to=2026-03-09").await;
        for value in ["12345", "84700", "11321", "73086", "15000"] {
            assert!(texts.iter().any(|t| t == value), "{value} in {texts:?}");
        }
        assert!(texts.iter().any(|t| t.starts_with("Sales 2026-03-01 to 2026-03-09")), "{texts:?}");
        assert!(texts.iter().any(|t| t == "KRW") && texts.iter().any(|t| t == "business day"), "{texts:?}");
        get(app, s, &format!("/api/v1/seller/stats/sales.svg?seller_id={}", t.id)).await.assert_status(StatusCode::NOT_FOUND);
    }
}

backend_test! {
    async fn a_drops_sale_and_its_sellout_chart(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let other = app.user(Role::Seller).await;
        let buyers = app.users(Role::Buyer, 3).await;
        let drop = create_drop(&app, &seller, 3, 1).await;
        open(&app, &drop);
        let opens_at = at(drop["opens_at"].as_str().unwrap());
        for (i, buyer) in buyers.iter().enumerate() {
            // Two in the first second, the last 2.5 s after the opening.
            if i == 2 {
                app.clock.set(opens_at + Duration::milliseconds(2_500));
            }
            let order = purchase(&app.client(), buyer, &drop, 1, "k").await;
            order.assert_status(StatusCode::CREATED);
            pay_card(&app, buyer, &order.json(), "4111111111111111", "pay").await.assert_status(StatusCode::OK);
        }
        let today = rushline_domain::settlement::business_day_of(opens_at, chrono_tz::Asia::Seoul);
        let sale = json!([{
            "drop_id": drop["id"], "product_id": drop["product_id"], "opens_at": drop["opens_at"],
            "quantity": 3, "units_sold": 3, "sell_through": 1.0, "time_to_sell_out_seconds": 2.5,
            "peak_purchases_per_second": 2, "waiting_room": null,
        }]);
        let stats_path = format!("/api/v1/seller/stats?from={today}&to={today}");
        // While the drop is open, from its claims.
        let stats = get(&app, &seller, &stats_path).await;
        stats.assert_status(StatusCode::OK);
        assert_eq!(stats.json()["drops"], sale);

        // A minute after it closes, its sale is rolled up into a row, which answers from then on.
        let id: uuid::Uuid = drop["id"].as_str().unwrap().parse().unwrap();
        let closes_at = at(drop["closes_at"].as_str().unwrap());
        app.clock.set(closes_at + Duration::seconds(1));
        app.worker().run_due().await.unwrap();
        assert!(app.state().store.drop_sales(&[id]).await.unwrap().is_empty(), "not before a minute");
        app.advance(Duration::minutes(1)).await;
        let rolled = app.state().store.drop_sales(&[id]).await.unwrap();
        assert_eq!(rolled.len(), 1);
        assert_eq!((rolled[0].units_sold, rolled[0].peak_per_second), (3, 2));
        assert_eq!(rolled[0].last_grant_at, Some(opens_at + Duration::milliseconds(2_500)));
        let stats = get(&app, &seller, &stats_path).await;
        assert_eq!(stats.json()["drops"], sale);

        let path = format!("/api/v1/seller/stats/drops/{}/sellout.svg", drop["id"].as_str().unwrap());
        let texts = svg(&app, &seller, &path).await;
        for value in ["1", "2", "3"] {
            assert!(texts.iter().any(|t| t == value), "{value} in {texts:?}");
        }
        assert!(texts.iter().any(|t| t == "Drop sell-out: 3 of 3 units granted"), "{texts:?}");
        assert!(texts.iter().any(|t| t == "seconds since opening"), "{texts:?}");
        let theirs = get(&app, &other, &path).await;
        theirs.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(theirs.error_code(), "not_found");
        get(&app, &buyers[0], &path).await.assert_status(StatusCode::NOT_FOUND);
    }
}
