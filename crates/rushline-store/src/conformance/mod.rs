//! The storage conformance suite: every backend runs every case through [`conformance_tests!`].
//!
//! A case is an async function taking a freshly migrated, empty store. Backends differ in SQL, not
//! in behaviour; a case that passes on one backend and fails on another is a bug in the second.
//! Each domain keeps its cases in a module of its own and lists them in the macro below.

pub mod catalog;
pub mod health;
pub mod jobs;
pub mod users;

/// Expands to one `#[tokio::test]` per conformance case. `$factory` is an async function returning
/// `Option<(Arc<dyn Store>, G)>`: `None` skips the backend, `G` cleans up when dropped. Case names
/// start with their domain, so they stay unique across modules.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::conformance_tests!(@cases $factory;
            health::health_ping,
            jobs::jobs_are_claimed_once_then_completed,
            jobs::jobs_not_due_are_not_claimed,
            jobs::jobs_with_a_dedupe_key_enqueue_once,
            jobs::jobs_failing_retry_then_die,
            jobs::jobs_lease_expiry_makes_them_claimable_again,
            jobs::jobs_concurrent_claimers_never_share_one,
            jobs::jobs_list_and_purge,
            users::users_round_trip_and_emails_are_unique,
            catalog::products_round_trip,
            catalog::catalog_listing_filters_scopes_and_sorts,
            catalog::catalog_listing_search_follows_name_and_description,
            catalog::catalog_listing_pages_stay_stable_under_concurrent_inserts,
            catalog::catalog_updates_and_soft_deletes,
            catalog::catalog_time_sales_refuse_overlaps,
            catalog::catalog_images_are_limited_per_product,
            catalog::catalog_details_carry_images_and_pending_time_sales,
        );
    };
    (@cases $factory:path; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, _guard)) = $factory().await else { return };
                $crate::conformance::$module::$case(store).await;
            }
        )*
    };
}
