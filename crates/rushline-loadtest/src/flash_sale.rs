//! The flash-sale scenario: setup through the public API, the rush, the checks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{TimeDelta, Utc};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::api::{Api, NewDrop};
use crate::buyer::{Buyer, Sale};
use crate::stats::Recorder;
use crate::summary::{RunResult, SetupTimes, Summary, summarize};
use crate::{Error, baseline};

/// Accounts per import request (the endpoint takes up to 10,000).
const IMPORT_CHUNK: usize = 2_000;
/// Logins in flight at once. The server counts a login against its per-address failure limit
/// (20 by default) while the password is checked, so more at once from one address would be
/// refused with 429.
const LOGIN_CONCURRENCY: usize = 16;
/// The drop's price, in KRW.
const PRICE: i64 = 99_000;

/// A flash sale: `buyers` buyers after `stock` units, at most `per_user_limit` each.
#[derive(Debug, Clone)]
pub struct FlashSale {
    /// Base URLs of the nodes (`http://127.0.0.1:8080`); requests go round-robin.
    pub urls: Vec<String>,
    pub buyers: usize,
    pub stock: u64,
    pub per_user_limit: u32,
    /// HTTP/1.1 keep-alive connections the purchases are sent over (requests in flight at once).
    pub connections: usize,
    /// Keep buying for this long after the opening, past the sell-out; without it, the run ends
    /// when every buyer is done.
    pub duration: Option<Duration>,
    /// Puts a waiting room admitting this many buyers per minute in front of the drop.
    pub admit_per_minute: Option<u32>,
    /// How long after the setup the drop opens.
    pub open_in: Duration,
    pub admin_email: String,
    pub admin_password: String,
    /// Before the sale, drive `GET /healthz` over the same connections for this long: the
    /// HTTP ceiling the purchase rate is then given as a share of.
    pub baseline: Option<Duration>,
    /// Draw progress bars on the terminal.
    pub progress: bool,
}

impl FlashSale {
    pub async fn run(&self) -> Result<Summary, Error> {
        self.check()?;
        let api = Api::new(&self.urls, self.connections)?;
        let run = hex::encode(rand::random::<[u8; 4]>());
        let password = format!("Lt!{run}-pw9");
        let seller_email = format!("lt-{run}-seller@loadtest.example");
        let buyer_email = |i: usize| format!("lt-{run}-{i}@loadtest.example");

        let admin = api
            .login(&self.admin_email, &self.admin_password)
            .await
            .map_err(|e| match e {
                Error::Refused {
                    status: 401 | 403, ..
                } => Error::Options(format!(
                    "{e}\n(the load test imports its accounts as an admin: create one with \
                     `rushline admin create-user --role admin` and pass its e-mail and password \
                     in --admin-email and RUSHLINE_ADMIN_PASSWORD)"
                )),
                e => e,
            })?;

        let started = Instant::now();
        let mut accounts = vec![(
            seller_email.clone(),
            "Load test seller".to_owned(),
            "seller",
        )];
        accounts.extend(
            (0..self.buyers).map(|i| (buyer_email(i), format!("Load test buyer {i}"), "buyer")),
        );
        let bar = self.bar(accounts.len() as u64, "import");
        let lines = {
            let password = password.clone();
            tokio::task::spawn_blocking(move || account_lines(&accounts, &password))
                .await
                .map_err(|e| Error::Task(e.to_string()))?
        };
        let total_accounts = lines.len();
        for chunk in lines.chunks(IMPORT_CHUNK) {
            let imported = api.import_users(&admin, chunk.join("\n")).await?;
            if imported.imported != chunk.len() as u64 {
                let refusal = imported
                    .results
                    .iter()
                    .find(|r| r["status"] != "imported")
                    .map(ToString::to_string)
                    .unwrap_or_default();
                return Err(Error::Unexpected {
                    step: "importing accounts".to_owned(),
                    detail: format!(
                        "{} of {} imported ({} existing, {} refused), e.g. {refusal}",
                        imported.imported,
                        chunk.len(),
                        imported.existing,
                        imported.refused
                    ),
                });
            }
            bar.inc(chunk.len() as u64);
        }
        bar.finish();
        let import_seconds = started.elapsed().as_secs_f64();

        let seller = api.login(&seller_email, &password).await?;
        let product = api.create_product(&seller, PRICE).await?;

        let started = Instant::now();
        let bar = self.bar(self.buyers as u64, "log in");
        let tokens: Vec<String> = futures::stream::iter(0..self.buyers)
            .map(|i| {
                let (api, bar, email, password) = (&api, &bar, buyer_email(i), &password);
                async move {
                    let token = api.login(&email, password).await;
                    bar.inc(1);
                    token
                }
            })
            .buffered(LOGIN_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        bar.finish();
        let login_seconds = started.elapsed().as_secs_f64();

        let baseline = match self.baseline {
            Some(duration) => {
                let spinner = self.bar(0, "ceiling");
                spinner.set_message("GET /healthz");
                let baseline = baseline::measure(&api, self.connections, duration).await?;
                spinner
                    .finish_with_message(format!("{:.0} requests/s", baseline.requests_per_second));
                Some(baseline)
            }
            None => None,
        };

        let open_in = TimeDelta::from_std(self.open_in)
            .map_err(|_| Error::Options("--open-in is too long".to_owned()))?;
        let opens_at = Utc::now() + open_in;
        let stays_open = TimeDelta::from_std(self.duration.unwrap_or_default())
            .map_err(|_| Error::Options("--duration is too long".to_owned()))?
            + TimeDelta::hours(1);
        let drop = api
            .create_drop(
                &seller,
                &NewDrop {
                    product_id: product,
                    quantity: self.stock,
                    price: PRICE,
                    per_user_limit: self.per_user_limit,
                    opens_at,
                    closes_at: opens_at + stays_open,
                    admit_per_minute: self.admit_per_minute,
                },
            )
            .await?;
        let opening = Instant::now() + (opens_at - Utc::now()).to_std().unwrap_or_default();

        let sale = Arc::new(Sale {
            api,
            drop,
            per_user_limit: self.per_user_limit,
            waiting_room: self.admit_per_minute.is_some(),
            deadline: self.duration.map(|d| opening + d),
            permits: Semaphore::new(self.connections),
            recorder: Recorder::new(opening),
            run,
        });
        let bar = self.bar(self.buyers as u64, "buy");
        let ticker = tokio::spawn({
            let (sale, bar) = (sale.clone(), bar.clone());
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let (requests, created) = sale.recorder.progress();
                    bar.set_message(format!("{created} sold, {requests} requests"));
                }
            }
        });
        let tasks: Vec<_> = tokens
            .into_iter()
            .enumerate()
            .map(|(index, token)| {
                let (sale, bar) = (sale.clone(), bar.clone());
                tokio::spawn(async move {
                    let mut buyer = Buyer::new(index, token);
                    let end = match sale.prepare(&mut buyer).await {
                        Err(end) => end,
                        Ok(()) => {
                            tokio::time::sleep_until(opening.into()).await;
                            let end = sale.buy(&mut buyer).await;
                            bar.inc(1);
                            sale.keep_buying(&mut buyer).await;
                            end
                        }
                    };
                    (buyer.orders, end)
                })
            })
            .collect();
        let mut buyer_results = Vec::with_capacity(tasks.len());
        for task in tasks {
            buyer_results.push(task.await.map_err(|e| Error::Task(e.to_string()))?);
        }
        ticker.abort();
        // Returns once the ticker, and its handle on the sale, is gone.
        let _ = ticker.await;
        bar.finish();
        let sale = Arc::into_inner(sale)
            .ok_or_else(|| Error::Task("the sale is still shared".to_owned()))?;

        // The seller's token may have expired during a long run.
        let seller = sale.api.login(&seller_email, &password).await?;
        let remaining = sale.api.drop_view(drop).await?.remaining;
        let server_orders = sale.api.drop_orders(&seller, drop).await?;
        Ok(summarize(RunResult {
            urls: self.urls.clone(),
            buyers: self.buyers,
            stock: self.stock,
            per_user_limit: self.per_user_limit,
            connections: self.connections,
            duration: self.duration,
            admit_per_minute: self.admit_per_minute,
            drop_id: drop,
            opens_at,
            setup: SetupTimes {
                accounts: total_accounts,
                import_seconds,
                login_seconds,
            },
            baseline,
            stats: sale.recorder.into_stats(),
            buyer_results,
            remaining,
            server_orders,
        }))
    }

    fn check(&self) -> Result<(), Error> {
        let problems: Vec<&str> = [
            (self.urls.is_empty(), "give at least one --url"),
            (self.buyers == 0, "--buyers must be at least 1"),
            (self.stock == 0, "--stock must be at least 1"),
            (
                self.per_user_limit == 0,
                "--per-user-limit must be at least 1",
            ),
            (self.connections == 0, "--connections must be at least 1"),
            (
                self.admit_per_minute
                    .is_some_and(|r| !(1..=100_000).contains(&r)),
                "--admit-per-minute must be 1 to 100000",
            ),
        ]
        .into_iter()
        .filter_map(|(bad, message)| bad.then_some(message))
        .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Options(problems.join("; ")))
        }
    }

    fn bar(&self, len: u64, phase: &'static str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        ProgressBar::new(len)
            .with_style(
                ProgressStyle::with_template(
                    "{prefix:>6} {elapsed_precise} [{wide_bar}] {pos}/{len} {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            )
            .with_prefix(phase)
    }
}

/// The import lines of `accounts` (e-mail, name, role), all with `password`, each hashed with a
/// salt of its own at argon2id's lowest cost (8 KiB, one pass): the server checks a login with
/// the parameters in the hash, so thousands of logins cost it little.
fn account_lines(accounts: &[(String, String, &str)], password: &str) -> Vec<String> {
    let params = Params::new(8, 1, 1, None).expect("argon2's minimum parameters");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    accounts
        .iter()
        .map(|(email, name, role)| {
            let salt =
                SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes of salt");
            let hash = argon2
                .hash_password(password.as_bytes(), &salt)
                .expect("hashing with valid parameters")
                .to_string();
            json!({ "email": email, "name": name, "role": role, "password_hash": hash }).to_string()
        })
        .collect()
}
