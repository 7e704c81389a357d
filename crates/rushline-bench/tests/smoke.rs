//! Every strategy in miniature, so that the benchmark cannot rot. Only the oversell checks are
//! asserted: the numbers are measurements, never expectations.

use std::time::Duration;

use rushline_bench::{Strategy, Workload, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_strategy_passes_its_oversell_check() {
    // Small enough that the fast strategies sell out, exercising the sold-out stop as well.
    let workload = Workload {
        units: 1_000,
        concurrency: 4,
        duration: Duration::from_millis(200),
    };
    for strategy in Strategy::ALL {
        if let Some(var) = strategy.unconfigured() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{var} is not set, and CI must run every strategy"
            );
            eprintln!("skipped {}: {var} is not set", strategy.name());
            continue;
        }
        let measurement = run(strategy, &workload)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:#}", strategy.name()));
        assert_eq!(measurement.check, Ok(()), "{}", strategy.name());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settling_a_small_day_passes_its_checks_on_both_backends() {
    use rushline_bench::settlement::{SettleBackend, run};
    let mut backends = vec![SettleBackend::Sqlite];
    if rushline_testkit::postgres_url().is_some() {
        backends.push(SettleBackend::Postgres);
    }
    for backend in backends {
        let measurement = run(backend, 2_000, 10).await.unwrap();
        assert_eq!(measurement.check, Ok(()), "{}", backend.name());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_year_of_statistics_answers_every_day_drop_and_trial_on_both_backends() {
    use rushline_bench::seller_stats::{Year, run};
    use rushline_testkit::Backend;
    let year = Year {
        drops: 5,
        trials: 3,
        others: 2,
        requests: 2,
    };
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if !backend.available() {
            continue;
        }
        let figures = run(backend, year).await.unwrap();
        assert_eq!(figures.answered, (366, 5, 3), "{backend:?}");
        assert_eq!(figures.day_rows, 3 * 366, "{backend:?}");
    }
}
