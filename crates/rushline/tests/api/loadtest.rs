//! `rushline loadtest flash-sale` in miniature, against real nodes on port 0, so that it cannot
//! rot: the invariant checks pass and the summary's counts add up.

use std::time::Duration;

use rushline_app::identity::create_verified_user;
use rushline_domain::Role;
use rushline_loadtest::{CheckOutcome, FlashSale, Summary};
use rushline_testkit::{Backend, TestApp, backend_test};

use crate::identity::PASSWORD;

const ADMIN: &str = "ops@example.com";

/// A node with an admin whose clock follows real time, served on port 0; its URL.
async fn serve(app: &TestApp) -> String {
    create_verified_user(app.state(), ADMIN, "Ops", Role::Admin, PASSWORD)
        .await
        .unwrap();
    app.follow_real_time();
    app.spawn().await.0
}

fn sale(urls: Vec<String>, buyers: usize, stock: u64, per_user_limit: u32) -> FlashSale {
    FlashSale {
        urls,
        buyers,
        stock,
        per_user_limit,
        connections: 16,
        duration: None,
        admit_per_minute: None,
        open_in: Duration::from_millis(500),
        baseline: None,
        admin_email: ADMIN.to_owned(),
        admin_password: PASSWORD.to_owned(),
        progress: false,
    }
}

/// The checks pass, and every count agrees with the others.
fn assert_consistent(summary: &Summary) {
    let text = summary.text();
    assert!(summary.passed(), "{text}");
    for check in &summary.checks {
        assert_eq!(check.outcome, CheckOutcome::Passed, "{text}");
    }
    assert_eq!(summary.granted_units, summary.stock, "{text}");
    assert_eq!(
        summary.statuses.values().sum::<u64>(),
        summary.requests,
        "{text}"
    );
    assert_eq!(
        summary.statuses.get("201").copied().unwrap_or(0),
        summary.purchases,
        "{text}"
    );
    assert_eq!(
        summary.purchases, summary.granted_units,
        "no replays without failures: {text}"
    );
    assert_eq!(
        summary.per_second.iter().map(|s| s.requests).sum::<u64>(),
        summary.requests
    );
    assert_eq!(
        summary.per_second.iter().map(|s| s.purchases).sum::<u64>(),
        summary.purchases
    );
    assert_eq!(
        summary.latency_buckets.iter().map(|b| b.count).sum::<u64>(),
        summary.requests
    );
    let o = &summary.outcomes;
    assert_eq!(
        (o.won + o.sold_out + o.limit_reached + o.closed + o.gave_up + o.unfinished) as usize,
        summary.buyers,
        "{text}"
    );
    assert_eq!((o.gave_up, o.unfinished, o.closed), (0, 0, 0), "{text}");
    assert_eq!(summary.setup.accounts, summary.buyers + 1);

    let json = serde_json::to_value(summary).unwrap();
    assert_eq!(json["granted_units"], summary.stock);
    let html = summary.html();
    assert!(html.contains("Invariants: passed"), "{html}");
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(
        !html.contains("http-equiv") && !html.contains("<script src"),
        "self-contained"
    );
}

backend_test! {
    async fn a_flash_sale_sells_exactly_the_stock_across_nodes(backend: Backend) {
        let app = TestApp::new(backend).await;
        let first = serve(&app).await;
        // Two URLs, round-robin: two nodes of one deployment on PostgreSQL and Redis; on the
        // embedded default (whose gate lives in its one process) two listeners of one node.
        let (second, _node) = match backend {
            Backend::Postgres => {
                let node = app.another_node().build().await;
                (node.spawn().await.0, Some(node))
            }
            Backend::Sqlite => (app.spawn().await.0, None),
        };
        let mut flash = sale(vec![first, second], 300, 40, 1);
        flash.baseline = Some(Duration::from_millis(300));
        let summary = flash.run().await.unwrap();
        assert_consistent(&summary);
        let baseline = summary.baseline.as_ref().unwrap();
        assert!(baseline.requests > 0 && baseline.requests_per_second > 0.0, "{baseline:?}");
        let share = summary.purchases_share_of_baseline.unwrap();
        assert!((share - summary.purchases_per_second / baseline.requests_per_second).abs() < 1e-9);
        assert!(summary.text().contains("% of the baseline"), "{}", summary.text());
        assert!(summary.html().contains("baseline (GET /healthz)"));
        let o = &summary.outcomes;
        assert_eq!((o.won, o.sold_out, o.limit_reached), (40, 260, 0), "{}", summary.text());
        assert_eq!(summary.error_codes.get("sold_out"), Some(&260), "one refusal per loser");
        assert!(summary.queue.is_none());
    }
}

backend_test! {
    async fn a_flash_sale_behind_a_waiting_room_keeps_firing_for_its_duration(backend: Backend) {
        let app = TestApp::new(backend).await;
        let url = serve(&app).await;
        let mut flash = sale(vec![url], 120, 50, 2);
        flash.admit_per_minute = Some(60_000);
        flash.duration = Some(Duration::from_secs(2));
        let summary = flash.run().await.unwrap();
        assert_consistent(&summary);
        let o = &summary.outcomes;
        assert_eq!(o.won + o.sold_out, summary.buyers as u64, "{}", summary.text());
        assert!(summary.error_codes.contains_key("sold_out"), "{}", summary.text());
        let queue = summary.queue.as_ref().unwrap();
        assert!(queue.statuses.contains_key("201") && queue.statuses.contains_key("200"), "joins and polls: {queue:?}");
        assert_eq!(queue.statuses.values().sum::<u64>(), queue.requests);
    }
}
