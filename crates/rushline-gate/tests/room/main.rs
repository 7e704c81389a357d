//! The waiting room's conformance suite: every case runs against the memory room and the
//! Redis room, plus the Redis-only tests (key layout, two nodes, Redis down) and the
//! memory-only measurement of bytes per waiting buyer.

mod cases;
mod memory_only;
mod redis_only;
mod support;

/// Instantiates each case once per backend. The Redis cases are skipped with a notice when
/// `RUSHLINE_TEST_REDIS_URL` is unset, and fail instead when `CI` is set.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::cases::$case(&crate::support::memory()).await;
                }
            )*
        }

        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(redis) = rushline_testkit::TestRedis::new() else {
                        return;
                    };
                    crate::cases::$case(&crate::support::redis_room(&redis).await).await;
                }
            )*
        }
    };
}

conformance!(
    join_is_idempotent,
    not_open_before_the_prequeue_window,
    prequeue_shuffle_is_a_reproducible_permutation,
    late_joiners_follow_the_prequeue_in_arrival_order,
    admission_rate_holds_with_one_second_steps,
    admission_rate_holds_with_irregular_steps,
    no_burst_after_a_quiet_spell,
    max_active_holds_and_consume_frees_a_slot,
    passes_expire_after_the_session,
    idle_places_expire_then_rejoin_at_the_back,
    admission_skips_idle_places,
    stats_count_the_room,
    estimated_wait_follows_the_observed_rate,
    concurrent_admits_take_each_slot_once,
);
