//! The gate's conformance suite: every case runs against the memory gate and the Redis gate,
//! plus the Redis-only tests (lost state, key layout).

mod cases;
mod redis_only;
mod support;

/// Instantiates each case once per backend. The Redis cases are skipped with a notice when
/// `RUSHLINE_TEST_REDIS_URL` is unset, and fail instead when `CI` is set.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::cases::$case(&crate::support::memory()).await;
                }
            )*
        }

        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(redis) = rushline_testkit::TestRedis::new() else {
                        return;
                    };
                    crate::cases::$case(&crate::support::redis_gate(&redis).await).await;
                }
            )*
        }
    };
}

conformance!(
    grant_sold_out_and_limit,
    qty_counts_in_units,
    replay_and_mismatch,
    release_is_idempotent_and_gives_back,
    abort_forgets_the_grant_so_a_retry_claims_afresh,
    grants_and_pools_show_the_gates_state,
    unknown_pool,
    snapshot_holds_and_seq,
    invalidate_reloads_from_source,
    a_reloaded_pool_never_gives_a_seq_again,
    seqs_stay_unique_while_the_pool_is_invalidated,
    concurrent_claims_limit_1,
    concurrent_claims_limit_3,
    concurrent_replays_grant_once,
    concurrent_claims_and_releases,
);
