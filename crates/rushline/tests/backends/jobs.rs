//! The job queue across several workers sharing one database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rushline_domain::Clock;
use rushline_jobs::{Job, Registry, Worker, WorkerOptions, new_job};
use rushline_store::JobStatus;
use rushline_testkit::{TestApp, backend_test};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Count {
    n: u32,
}

impl Job for Count {
    const KIND: &'static str = "test_count";
}

#[derive(Serialize, Deserialize)]
struct Flaky {
    fail_times: u32,
}

impl Job for Flaky {
    const KIND: &'static str = "test_flaky";
    const MAX_ATTEMPTS: i32 = 3;
}

type Runs<K> = Arc<Mutex<HashMap<K, u32>>>;

fn small_batches() -> WorkerOptions {
    WorkerOptions {
        concurrency: 3,
        ..WorkerOptions::default()
    }
}

fn counting_worker(app: &TestApp, runs: &Runs<u32>) -> Worker {
    let mut registry = Registry::new();
    let runs = runs.clone();
    registry.handle(move |job: Count| {
        let runs = runs.clone();
        async move {
            *runs.lock().unwrap().entry(job.n).or_default() += 1;
            tokio::task::yield_now().await;
            Ok(())
        }
    });
    let state = app.state();
    Worker::new(
        state.store.clone(),
        state.clock.clone(),
        Arc::new(registry),
        small_batches(),
    )
}

backend_test! {
    async fn two_workers_run_each_due_job_exactly_once(backend: Backend) {
        let a = TestApp::new(backend).await;
        let b = a.another_node().build().await;
        let now = a.clock.now();
        for n in 0..300 {
            a.state().store.enqueue(&new_job(&Count { n }, now), now).await.unwrap();
        }
        let runs = Runs::default();
        let (worker_a, worker_b) = (counting_worker(&a, &runs), counting_worker(&b, &runs));
        let (ran_a, ran_b) = tokio::join!(worker_a.run_due(), worker_b.run_due());
        assert_eq!(ran_a.unwrap() + ran_b.unwrap(), 300);
        let runs = runs.lock().unwrap();
        assert_eq!(runs.len(), 300);
        assert!(runs.values().all(|&count| count == 1), "a job ran twice");
    }
}

backend_test! {
    async fn periodic_jobs_run_once_per_due_time_across_nodes(backend: Backend) {
        let a = TestApp::new(backend).await;
        let b = a.another_node().build().await;
        let runs = Runs::default();
        let worker = |app: &TestApp| {
            let mut registry = Registry::new();
            let runs = runs.clone();
            registry.every("test_tick", Duration::from_secs(1), move |due| {
                let runs = runs.clone();
                async move {
                    *runs.lock().unwrap().entry(due).or_default() += 1;
                    Ok(())
                }
            });
            let state = app.state();
            Worker::new(state.store.clone(), state.clock.clone(), Arc::new(registry), small_batches())
        };
        let (worker_a, worker_b) = (worker(&a), worker(&b));
        for _ in 0..20 {
            a.clock.advance(chrono::Duration::milliseconds(1_000));
            let (ran_a, ran_b) = tokio::join!(worker_a.run_due(), worker_b.run_due());
            ran_a.unwrap();
            ran_b.unwrap();
        }
        let runs = runs.lock().unwrap();
        assert_eq!(runs.len(), 20, "one run per due time");
        assert!(runs.values().all(|&count| count == 1), "a due time ran twice");
        assert!(runs.keys().all(|due| due.timestamp_subsec_micros() == 0), "due times align to the second");
    }
}

backend_test! {
    async fn failed_jobs_retry_with_backoff_then_die(backend: Backend) {
        let app = TestApp::new(backend).await;
        let attempts: Runs<u32> = Runs::default();
        let mut registry = Registry::new();
        let seen = attempts.clone();
        registry.handle(move |job: Flaky| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                let tries = seen.entry(job.fail_times).or_default();
                *tries += 1;
                anyhow::ensure!(*tries > job.fail_times, "failure {} of {}", *tries, job.fail_times);
                Ok(())
            }
        });
        let state = app.state();
        let worker = Worker::new(state.store.clone(), state.clock.clone(), Arc::new(registry), WorkerOptions::default());
        let now = app.clock.now();
        let recovers = state.store.enqueue(&new_job(&Flaky { fail_times: 2 }, now), now).await.unwrap().unwrap();
        let dies = state.store.enqueue(&new_job(&Flaky { fail_times: 99 }, now), now).await.unwrap().unwrap();

        assert_eq!(worker.run_due().await.unwrap(), 2);
        let row = state.store.get_job(recovers).await.unwrap();
        assert_eq!((row.status, row.attempts), (JobStatus::Queued, 1));
        assert_eq!(row.last_error.as_deref(), Some("failure 1 of 2"));
        // The first retry waits about a second (with up to 10 % jitter), not less.
        assert!(row.run_at > now && row.run_at <= now + chrono::Duration::milliseconds(1_100), "{row:?}");
        assert_eq!(worker.run_due().await.unwrap(), 0, "retried before its backoff");

        app.clock.advance(chrono::Duration::milliseconds(1_100));
        assert_eq!(worker.run_due().await.unwrap(), 2);
        app.clock.advance(chrono::Duration::milliseconds(2_200));
        assert_eq!(worker.run_due().await.unwrap(), 2);

        let row = state.store.get_job(recovers).await.unwrap();
        assert_eq!((row.status, row.attempts), (JobStatus::Done, 3));
        let row = state.store.get_job(dies).await.unwrap();
        assert_eq!((row.status, row.attempts), (JobStatus::Dead, 3));
        assert_eq!(row.last_error.as_deref(), Some("failure 3 of 99"));
        app.clock.advance(chrono::Duration::days(1));
        assert_eq!(worker.run_due().await.unwrap(), 0, "a dead job ran again");
    }
}

#[derive(Serialize, Deserialize)]
struct Stall;

impl Job for Stall {
    const KIND: &'static str = "test_stall";
    const MAX_ATTEMPTS: i32 = 1;
}

backend_test! {
    async fn a_stuck_job_holds_one_slot_until_its_deadline_and_never_the_others(backend: Backend) {
        let app = TestApp::new(backend).await;
        let runs = Runs::default();
        let mut registry = Registry::new();
        let counted = runs.clone();
        registry.handle(move |job: Count| {
            let counted = counted.clone();
            async move {
                *counted.lock().unwrap().entry(job.n).or_default() += 1;
                Ok(())
            }
        });
        // An SMTP server that accepted the connection and went silent, say.
        registry.handle(|_: Stall| std::future::pending());
        let state = app.state();
        let options = WorkerOptions {
            poll_interval: Duration::from_millis(20),
            concurrency: 4,
            deadlines: HashMap::from([(Stall::KIND.to_owned(), Duration::from_millis(500))]),
            ..WorkerOptions::default()
        };
        let worker = Worker::new(state.store.clone(), state.clock.clone(), Arc::new(registry), options);
        let now = app.clock.now();
        let stuck = state.store.enqueue(&new_job(&Stall, now), now).await.unwrap().unwrap();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let running = tokio::spawn(worker.run(shutdown.clone()));

        let until_status = |id, status| {
            let store = state.store.clone();
            async move {
                while store.get_job(id).await.unwrap().status != status {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), until_status(stuck, JobStatus::Running))
            .await
            .expect("the stalling job was never taken up");
        // Enqueued while it stalls: a worker waiting for its whole batch would never get to them.
        for n in 0..20 {
            state.store.enqueue(&new_job(&Count { n }, now), now).await.unwrap();
        }
        let all_ran = async {
            while runs.lock().unwrap().len() < 20 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), all_ran)
            .await
            .expect("one stuck job held back the others");

        tokio::time::timeout(Duration::from_secs(20), until_status(stuck, JobStatus::Dead))
            .await
            .expect("the stuck job was never stopped");
        let row = state.store.get_job(stuck).await.unwrap();
        assert!(row.last_error.as_deref().unwrap().contains("deadline"), "{row:?}");
        shutdown.cancel();
        running.await.unwrap();
    }
}
