//! The storage conformance suite against every backend: one test per case and backend, named
//! `sqlite::<case>` and `postgres::<case>`, generated from the suite's table of cases, so that no
//! case can be left out here.

use std::future::Future;
use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};
use rushline_store::Store;
use rushline_store::conformance::{CASES, Case};
use rushline_testkit::{TestDb, trial};

fn main() {
    let args = Arguments::from_args();
    let trials = CASES
        .iter()
        .flat_map(|case| {
            [
                store_trial("sqlite", case, TestDb::sqlite_pair),
                store_trial("postgres", case, TestDb::postgres_pair),
            ]
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Runs `case` on a fresh store from `open`, which gives none when the backend is not
/// configured (outside CI).
fn store_trial<F>(backend: &str, case: &'static Case, open: fn() -> F) -> Trial
where
    F: Future<Output = Option<(Arc<dyn Store>, TestDb)>> + 'static,
{
    trial(format!("{backend}::{}", case.name), 2, move || async move {
        if let Some((store, _db)) = open().await {
            (case.run)(store).await;
        }
    })
}
