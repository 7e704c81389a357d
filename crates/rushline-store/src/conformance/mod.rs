//! The storage conformance suite: every backend runs every case in [`CASES`].
//!
//! A case is an async function taking a freshly migrated, empty store. Backends differ in SQL, not
//! in behaviour; a case that passes on one backend and fails on another is a bug in the second.
//! Each domain keeps its cases in a module of its own, private to the suite, and lists them in
//! [`CASES`]; nothing else reaches a case, so one left out of the table is dead code, which this
//! module denies.

#![deny(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failed unwrap is a failed case"
)]

mod cart;
mod catalog;
mod coupons;
mod drops;
mod health;
mod identity;
mod jobs;
mod payments;
mod raffles;
mod reviews;
mod settlements;
mod trials;
mod users;
mod waiting_rooms;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::Store;

/// One case of the suite, for a test harness to run once per backend.
pub struct Case {
    /// The case's function name; names start with their domain, so they are unique.
    pub name: &'static str,
    pub run: fn(Arc<dyn Store>) -> CaseRun,
}

pub type CaseRun = Pin<Box<dyn Future<Output = ()>>>;

macro_rules! cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        &[$(Case {
            name: stringify!($case),
            run: |store| Box::pin($module::$case(store)),
        }),*]
    };
}

/// Every case of the suite.
pub const CASES: &[Case] = cases![
    health::health_ping,
    cart::cart_lines_merge_change_and_leave,
    cart::cart_regular_stock_is_a_pool_that_follows_the_product,
    jobs::jobs_are_claimed_once_then_completed,
    jobs::jobs_not_due_are_not_claimed,
    jobs::jobs_with_a_dedupe_key_enqueue_once,
    jobs::jobs_failing_retry_then_die,
    jobs::jobs_lease_expiry_makes_them_claimable_again,
    jobs::jobs_concurrent_claimers_never_share_one,
    jobs::jobs_list_and_purge,
    users::users_round_trip_and_emails_are_unique,
    users::users_bulk_insert_of_new_users_skips_taken_emails,
    catalog::products_round_trip,
    drops::drops_change_only_while_scheduled,
    drops::drops_list_by_window_and_seller,
    drops::drops_advance_records_openings_and_closings_once,
    drops::claims_commit_in_one_batch_and_rebuild_the_pool,
    drops::claims_the_database_refuses_what_would_oversell,
    drops::claims_the_database_refuses_what_breaks_the_user_limit,
    drops::claims_the_database_caps_a_buyers_unpaid_orders,
    drops::claims_a_committed_order_is_not_written_twice,
    drops::claims_one_writes_error_fails_that_write_alone,
    drops::orders_move_once_and_release_their_stock_when_they_leave_it,
    drops::orders_cannot_be_paid_once_the_hold_has_run_out,
    drops::orders_due_and_listed_by_buyer_seller_drop_and_status,
    payments::payments_change_only_from_the_status_they_expect,
    identity::identity_sign_up_writes_account_code_and_mail_together,
    identity::identity_verify_accepts_the_code_once,
    identity::identity_verify_counts_wrong_codes_until_the_code_dies,
    identity::identity_verify_refuses_an_expired_code,
    identity::identity_concurrent_wrong_codes_are_all_counted,
    identity::identity_resend_waits_then_replaces_the_code,
    identity::identity_sessions_rotate_and_a_replayed_token_revokes_its_session,
    identity::identity_refresh_tokens_expire,
    identity::identity_concurrent_rotations_of_one_token_rotate_once,
    identity::identity_ending_a_session_revokes_only_it,
    identity::identity_a_session_is_held_until_it_ends_or_runs_out,
    identity::identity_password_change_revokes_the_other_sessions,
    identity::identity_revocation_wins_over_a_concurrent_refresh,
    identity::identity_profile_updates,
    identity::identity_purge_removes_only_expired_credentials,
    identity::identity_purge_removes_accounts_left_unverified,
    waiting_rooms::waiting_rooms_round_trip_with_their_drop,
    waiting_rooms::waiting_rooms_record_the_first_seed_only,
    waiting_rooms::waiting_rooms_admit_while_their_drop_is_open,
    catalog::catalog_listing_filters_scopes_and_sorts,
    catalog::catalog_listing_search_follows_name_and_description,
    catalog::catalog_listing_pages_stay_stable_under_concurrent_inserts,
    catalog::catalog_updates_and_soft_deletes,
    catalog::catalog_time_sales_refuse_overlaps,
    catalog::catalog_images_are_limited_per_product,
    catalog::catalog_details_carry_images_and_pending_time_sales,
    coupons::coupons_campaigns_round_trip_with_their_pool,
    coupons::coupons_campaigns_list_by_window_and_owner,
    coupons::coupons_claims_commit_beside_orders_in_one_batch,
    coupons::coupons_the_database_refuses_claims_past_the_total_or_the_limit,
    coupons::coupons_a_claimed_coupon_is_not_issued_twice,
    coupons::coupons_wallets_list_by_the_status_shown_now_newest_first,
    coupons::points_a_buyer_without_entries_has_none,
    coupons::coupons_are_reserved_with_the_order_used_when_paid_and_back_when_cancelled,
    coupons::coupons_the_database_refuses_another_buyers_or_one_outside_its_validity,
    coupons::coupons_come_back_expired_once_their_validity_has_ended,
    coupons::points_are_spent_with_the_order_and_never_below_zero,
    coupons::points_are_refunded_and_earned_once_per_order,
    coupons::points_entries_page_newest_first,
    trials::trials_round_trip_change_only_while_scheduled_and_list,
    trials::trials_applications_commit_once_per_buyer_with_their_mail,
    trials::trials_cancelling_gives_the_slot_back_once,
    trials::trials_paused_trials_and_barred_buyers_are_refused,
    trials::trials_a_raffles_entrants_left_over_are_not_selected_once_it_is_exhausted,
    reviews::reviews_rights_follow_orders_and_trial_slots,
    reviews::reviews_statistics_follow_every_write_in_its_transaction,
    reviews::reviews_list_in_every_sort_by_a_keyset,
    settlements::settlements_settle_each_order_once_with_corrections_and_payouts,
    raffles::raffles_a_hundred_thousand_entries_draw_alike_on_every_backend,
];
