//! The storage conformance suite against every backend: one test per case and backend, named
//! `sqlite::<case>` and `postgres::<case>`, generated from the suite's table of cases, so that no
//! case can be left out here.

use std::future::Future;
use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};
use rushline_store::Store;
use rushline_store::conformance::{CASES, Case};
use rushline_testkit::TestDb;

fn main() {
    let args = Arguments::from_args();
    let trials = CASES
        .iter()
        .flat_map(|case| {
            [
                trial("sqlite", case, TestDb::sqlite_pair),
                trial("postgres", case, TestDb::postgres_pair),
            ]
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Runs `case` on a fresh store from `open`, which gives none when the backend is not
/// configured (outside CI), in a runtime of its own as `#[tokio::test]` would.
fn trial<F>(backend: &str, case: &'static Case, open: fn() -> F) -> Trial
where
    F: Future<Output = Option<(Arc<dyn Store>, TestDb)>> + 'static,
{
    Trial::test(format!("{backend}::{}", case.name), move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        runtime.block_on(async {
            if let Some((store, _db)) = open().await {
                (case.run)(store).await;
            }
        });
        Ok(())
    })
}
