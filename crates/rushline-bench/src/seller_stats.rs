//! A year of a busy seller's statistics: `GET /api/v1/seller/stats` over 366 business days, on a
//! database holding the year (a roll-up row per day for the seller and for every other seller, a
//! settlement each, the seller's drops rolled up with their waiting rooms, their trials), timed
//! through the real router in process beside a baseline of the same run: `GET /api/v1/drops` of
//! the seller, an ordinary list of 20.
//!
//! The day rows and settlements are seeded with SQL of the benchmark's own (writing them through
//! a year of orders and daily runs would take hours); drops, their roll-ups and trials go
//! through the store.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use hdrhistogram::Histogram;
use rushline_domain::{Allocation, Clock, Role};
use rushline_store::{DropSale, ProductDrop, RoomFigures, Trial, WaitingRoomSettings};
use rushline_testkit::{Backend, TestApp, TestUser};
use sqlx::Connection as _;
use uuid::Uuid;

/// The last day of the year asked for; the clock stands the next morning.
fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date")
}

/// What to seed and how often to ask.
#[derive(Debug, Clone, Copy)]
pub struct Year {
    /// The busy seller's drops over the year, each rolled up with its room.
    pub drops: usize,
    /// Their trials over the year.
    pub trials: usize,
    /// Other sellers with a row for every day of the year.
    pub others: usize,
    /// Timed requests of each kind.
    pub requests: usize,
}

/// Latency of one kind of request, in nanoseconds.
#[derive(Debug)]
pub struct Latency(pub Histogram<u64>);

impl Latency {
    pub fn p50(&self) -> Duration {
        Duration::from_nanos(self.0.value_at_quantile(0.5))
    }

    pub fn p99(&self) -> Duration {
        Duration::from_nanos(self.0.value_at_quantile(0.99))
    }
}

#[derive(Debug)]
pub struct StatsFigures {
    pub seeding: Duration,
    /// Day rows in the database, every seller's.
    pub day_rows: usize,
    pub stats: Latency,
    pub baseline: Latency,
    /// Days, drops and trials one statistics answer carried.
    pub answered: (usize, usize, usize),
}

pub async fn run(backend: Backend, year: Year) -> anyhow::Result<StatsFigures> {
    let first_day = last_day().checked_sub_days(Days::new(365)).expect("a date");
    let app = TestApp::builder(backend).build().await;
    app.clock.set(
        last_day()
            .succ_opt()
            .expect("a date")
            .and_hms_opt(3, 0, 0)
            .expect("a time")
            .and_utc(),
    );
    let started = Instant::now();
    let seller = app.user(Role::Seller).await;
    let others = app.users(Role::Seller, year.others).await;
    let mut sellers: Vec<Uuid> = others.iter().map(|s| s.id).collect();
    sellers.push(seller.id);
    let day_rows = seed_days(&app, &sellers, first_day).await?;
    seed_campaigns(&app, &seller, year, first_day).await?;
    let seeding = started.elapsed();

    let stats_path = format!("/api/v1/seller/stats?from={first_day}&to={}", last_day());
    let list_path = format!("/api/v1/drops?seller_id={}&limit=20", seller.id);
    let answer = get(&app, &seller, &stats_path).await?;
    let count = |key: &str| answer[key].as_array().map_or(0, Vec::len);
    let answered = (count("days"), count("drops"), count("trials"));
    let mut stats = Histogram::new(3)?;
    let mut baseline = Histogram::new(3)?;
    // Interleaved, so that both see the same moments of a noisy machine.
    for _ in 0..year.requests {
        stats.record(timed(&app, &seller, &stats_path).await?)?;
        baseline.record(timed(&app, &seller, &list_path).await?)?;
    }
    Ok(StatsFigures {
        seeding,
        day_rows,
        stats: Latency(stats),
        baseline: Latency(baseline),
        answered,
    })
}

async fn get(app: &TestApp, user: &TestUser, path: &str) -> anyhow::Result<serde_json::Value> {
    let response = app
        .send(
            Method::GET,
            path,
            None,
            &[("authorization", &user.bearer())],
        )
        .await;
    anyhow::ensure!(
        response.status == StatusCode::OK,
        "{path}: {}",
        response.text()
    );
    Ok(response.json())
}

async fn timed(app: &TestApp, user: &TestUser, path: &str) -> anyhow::Result<u64> {
    let started = Instant::now();
    get(app, user, path).await?;
    Ok(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX))
}

/// A roll-up row and a settlement for every seller and every day of the year; returns the rows.
async fn seed_days(app: &TestApp, sellers: &[Uuid], first_day: NaiveDate) -> anyhow::Result<usize> {
    let postgres = app.backend() == Backend::Postgres;
    let id = |id: &Uuid| {
        if postgres {
            format!("'{id}'")
        } else {
            format!("X'{}'", id.simple())
        }
    };
    let days: Vec<NaiveDate> = first_day.iter_days().take(366).collect();
    let mut statements = Vec::new();
    for chunk in sellers.chunks(20) {
        let mut stats = Vec::new();
        let mut settlements = Vec::new();
        for (n, seller) in chunk.iter().enumerate() {
            for (d, day) in days.iter().enumerate() {
                let orders = 100 + (n + d) % 50;
                let gross = orders * 89_000;
                stats.push(format!(
                    "({}, '{day}', {orders}, {orders}, {gross}, {}, {}, '{day}T15:00:00Z')",
                    id(seller),
                    d % 7,
                    d % 3
                ));
                let (platform_fee, payment_fee) = (gross / 20, gross * 33 / 1000);
                settlements.push(format!(
                    "({}, '{day}', 1, {orders}, {gross}, 0, 0, 0, {platform_fee}, {payment_fee}, \
                     {}, 50000, 33000, '{day}T15:30:00Z')",
                    id(seller),
                    gross - platform_fee - payment_fee
                ));
            }
        }
        statements.push(format!(
            "INSERT INTO seller_daily_stats (seller_id, business_day, orders, units, gross, \
             cancelled, returned, rolled_up_at) VALUES {}",
            stats.join(", ")
        ));
        statements.push(format!(
            "INSERT INTO settlements (seller_id, business_day, revision, orders, gross, \
             seller_discount, platform_discount, points, platform_fee, payment_fee, net, \
             platform_fee_ppm, payment_fee_ppm, created_at) VALUES {}",
            settlements.join(", ")
        ));
    }
    statements.push("ANALYZE".to_owned());
    let url = app.database_url();
    if postgres {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        for statement in &statements {
            sqlx::raw_sql(statement).execute(&mut conn).await?;
        }
    } else {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        for statement in &statements {
            sqlx::raw_sql(statement).execute(&mut conn).await?;
        }
    }
    Ok(sellers.len() * days.len())
}

/// The seller's drops (each rolled up, with its room's figures) and trials, spread evenly over
/// the year.
async fn seed_campaigns(
    app: &TestApp,
    seller: &TestUser,
    year: Year,
    first_day: NaiveDate,
) -> anyhow::Result<()> {
    let store = &app.state().store;
    let product = app.product(seller, 89_000, 0).await;
    let start: DateTime<Utc> = first_day.and_hms_opt(0, 0, 0).expect("a time").and_utc();
    let year_long = TimeDelta::days(365);
    let now = app.clock.now();
    for i in 0..year.drops {
        let opens_at = start + year_long * i32::try_from(i)? / i32::try_from(year.drops)?;
        let drop = ProductDrop {
            id: Uuid::now_v7(),
            product_id: product.id,
            seller_id: seller.id,
            quantity: 1_000,
            price: product.price,
            opens_at,
            closes_at: opens_at + TimeDelta::hours(1),
            per_user_limit: 1,
            created_at: opens_at - TimeDelta::days(1),
            updated_at: opens_at - TimeDelta::days(1),
            opened_at: Some(opens_at),
            closed_at: Some(opens_at + TimeDelta::hours(1)),
            waiting_room: Some(WaitingRoomSettings {
                admit_per_minute: 600,
                max_active: None,
                session_minutes: 5,
                prequeue_minutes: 30,
            }),
            queue_seed: None,
            allocation: Allocation::Fcfs,
            raffle: None,
        };
        store
            .create_drop(&drop, None, &[])
            .await
            .map_err(|e| anyhow::anyhow!("create drop: {e}"))?;
        let sold = 900 + i64::try_from(i % 100)?;
        let sale = DropSale {
            drop_id: drop.id,
            units_sold: sold,
            last_grant_at: Some(opens_at + TimeDelta::seconds(40)),
            peak_per_second: 250,
            room: Some(RoomFigures {
                peak_waiting: 20_000,
                admitted: 1_400,
                used: sold,
                median_wait_seconds: Some(95),
            }),
        };
        store
            .record_drop_sale(&sale, opens_at + TimeDelta::hours(1))
            .await
            .map_err(|e| anyhow::anyhow!("record drop sale: {e}"))?;
    }
    for i in 0..year.trials {
        let opens_at = start + year_long * i32::try_from(i)? / i32::try_from(year.trials)?;
        let trial = Trial {
            id: Uuid::now_v7(),
            product_id: product.id,
            seller_id: seller.id,
            title: "Try the Aurora".to_owned(),
            description: "A week of wear".to_owned(),
            slots: 100,
            opens_at,
            closes_at: opens_at + TimeDelta::days(3),
            review_due_days: 14,
            allocation: Allocation::Fcfs,
            raffle: None,
            paused_at: None,
            created_at: now,
            updated_at: now,
        };
        store
            .create_trial(&trial, None)
            .await
            .map_err(|e| anyhow::anyhow!("create trial: {e}"))?;
    }
    Ok(())
}
