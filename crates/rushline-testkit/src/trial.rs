use std::future::Future;

use libtest_mimic::Trial;

/// A test of a `harness = false` target, whose tests come from tables of cases rather than
/// `#[test]` attributes: `body` runs in a multi-threaded runtime of its own, as under
/// `#[tokio::test(flavor = "multi_thread")]`.
pub fn trial<F>(
    name: String,
    worker_threads: usize,
    body: impl FnOnce() -> F + Send + 'static,
) -> Trial
where
    F: Future<Output = ()>,
{
    Trial::test(name, move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .enable_all()
            .build()?
            .block_on(body());
        Ok(())
    })
}
