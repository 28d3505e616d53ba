//! The adapter scenario suite: one list of scenarios, run against every
//! framework adapter through a small harness ([`harness::Harness`]), each
//! against a real server on a loopback port, a real HTTP client and the
//! real `sentry` HTTP transport sending to an in-process envelope receiver.
//!
//! Adding an adapter: implement `Harness` for it (the routes are listed on
//! the trait) and add one `scenarios!` line below.

// Test-crate modules share items with `pub`; nothing here is a public API.
#![allow(unreachable_pub)]

#[cfg(feature = "actix")]
mod actix_app;
mod app;
#[cfg(feature = "axum")]
mod axum_app;
mod cases;
mod database;
mod fixture;
mod harness;
mod logs;
#[cfg(feature = "axum")]
mod parity;
mod scale;
#[cfg(feature = "warp")]
mod warp_app;

/// Generates one `#[tokio::test]` per scenario for a harness.
macro_rules! scenarios {
    ($module:ident: $harness:ty) => {
        mod $module {
            scenarios!(@cases $harness:
                continues_python_sdk_traces,
                continues_traceparent_only,
                malformed_headers_are_answered_with_a_new_trace,
                identified_user_and_role_reach_the_event,
                not_found_is_one_warn_log_and_no_event,
                a_continued_signed_in_requests_log_has_the_callers_trace_and_user,
                a_log_field_named_password_is_filtered,
                with_logs_disabled_no_log_item_is_sent,
                logs_are_batched_and_flushed_at_shutdown,
                a_429_for_log_items_stops_logs_but_not_errors,
                typed_server_errors_are_captured_with_their_error_type,
                a_logged_error_has_its_capture_sites_frames_and_the_runtime_contexts,
                tags_contexts_errors_and_messages_by_hand_go_through_the_request,
                every_event_in_a_request_carries_its_url_and_scrubbed_headers,
                a_panic_is_captured_and_the_server_keeps_serving,
                request_ids_are_accepted_or_regenerated_never_echoed,
                every_response_has_a_request_id,
                outgoing_calls_from_a_handler_carry_the_trace,
                concurrent_users_are_never_cross_attributed,
                the_body_streams_inside_the_request_and_the_transaction_ends_with_it,
                a_body_dropped_early_ends_the_transaction_as_cancelled,
                a_middleware_outside_routing_learns_the_route_from_inside,
                current_request_identifies_from_middleware_and_reads_in_the_handler,
                each_outgoing_call_is_its_own_span,
                a_transaction_carries_the_request_scope_and_no_secret,
                a_background_job_continues_the_request_trace_with_its_decision,
                a_failing_job_is_captured_with_its_type_and_tags_on_the_request_trace,
                concurrent_jobs_with_different_users_never_mix,
                a_requests_event_carries_only_its_own_breadcrumbs,
                an_order_lookup_is_two_db_spans_and_a_metric_on_the_requests_trace,
                an_unsampled_order_lookup_records_no_span_and_keeps_its_metric,
                a_429_for_trace_metrics_stops_metrics_but_not_errors,
                a_failing_json_post_carries_its_body_with_secrets_filtered,
                a_failing_multipart_post_carries_its_text_fields_and_leaves_its_file_out,
                a_large_body_is_left_out_with_relays_note,
                a_body_the_handler_never_reads_is_not_recorded,
                a_request_answered_with_an_ignored_status_sends_no_transaction,
            );
        }
    };
    (@cases $harness:ty: $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                crate::cases::$case::<$harness>().await;
            }
        )*
    };
}

/// The scenarios at scale (`scale.rs`), once per framework: warp's two ways
/// of serving share one server underneath, so `warp_serve` is left out.
macro_rules! at_scale {
    ($module:ident: $harness:ty) => {
        mod $module {
            scenarios!(@cases $harness:
                ten_thousand_concurrent_requests_are_each_attributed_to_their_own_request,
            );
        }
    };
}

#[cfg(feature = "axum")]
at_scale!(axum_at_scale: crate::axum_app::Axum);
#[cfg(feature = "actix")]
at_scale!(actix_at_scale: crate::actix_app::Actix);
#[cfg(feature = "warp")]
at_scale!(warp_at_scale: crate::warp_app::Warp);

#[cfg(feature = "axum")]
scenarios!(axum: crate::axum_app::Axum);
#[cfg(feature = "actix")]
scenarios!(actix: crate::actix_app::Actix);
#[cfg(feature = "warp")]
scenarios!(warp: crate::warp_app::Warp);
#[cfg(feature = "warp")]
scenarios!(warp_serve: crate::warp_app::WarpServe);

/// Two runs on the same framework have the same shape: the comparison
/// neutralises everything that differs per request by nature (a field it
/// missed would fail here, before it could hide a real difference between
/// frameworks).
#[cfg(feature = "axum")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parity_shapes_are_stable_across_runs() {
    parity::same_shape::<axum_app::Axum, axum_app::Axum>().await;
}

/// actix-web sends Sentry what axum sends for the same requests: tags, user,
/// transaction names and sources, exception types, trace contexts, DSC keys
/// and breadcrumbs (only the origin's framework word differs).
#[cfg(all(feature = "axum", feature = "actix"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_has_the_shape_of_axum() {
    parity::same_shape::<axum_app::Axum, actix_app::Actix>().await;
}

/// warp sends Sentry what axum sends for the same requests, under warp's own
/// server (`wrap`) and under `lookout_warp::serve`.
#[cfg(all(feature = "axum", feature = "warp"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_has_the_shape_of_axum() {
    parity::same_shape::<axum_app::Axum, warp_app::Warp>().await;
    parity::same_shape::<axum_app::Axum, warp_app::WarpServe>().await;
}
