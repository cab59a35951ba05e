//! What an operator's Prometheus scrapes at `/metrics`: the process records with the `metrics`
//! crate's macros where things happen (ingest, plugin calls, actions, sockets, HTTP), and this
//! module owns the recorder and names every series once.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

pub const INGESTED: &str = "helpdesk_interactions_ingested_total";
pub const PLUGIN_CALLS: &str = "helpdesk_plugin_calls_total";
pub const PLUGIN_CALL_SECONDS: &str = "helpdesk_plugin_call_seconds";
pub const ACTIONS: &str = "helpdesk_actions_total";
pub const WEBSOCKETS: &str = "helpdesk_websockets_connected";
pub const HTTP_REQUESTS: &str = "helpdesk_http_requests_total";
pub const HTTP_SECONDS: &str = "helpdesk_http_request_seconds";
pub const INDEX_LAG: &str = "helpdesk_index_lag_changes";
pub const STORE_SEQ: &str = "helpdesk_store_change_number";
pub const STORE_RETRIES: &str = "helpdesk_store_write_retries_total";

/// Latency buckets from 1 ms to 30 s (plugin calls wait on platforms; requests are mostly fast).
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// How often histograms' samples are folded into their buckets, scraped or not: without it
/// every request's sample is kept until the next scrape, however long that takes.
const UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// Install the recorder (once per process; later calls reuse it) and, from within a runtime,
/// its upkeep.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // A recorder installed before (a test process serving twice) stays the global one.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let handle = handle.clone();
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(UPKEEP);
                loop {
                    tick.tick().await;
                    handle.run_upkeep();
                }
            });
        }
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(INGESTED, "Customer and brand messages stored, by channel (each once, however often delivered)");
    describe_counter!(PLUGIN_CALLS, "Calls into channel plugins, by channel, export and result (ok, failed: the plugin's error, trap, timeout)");
    describe_histogram!(PLUGIN_CALL_SECONDS, Unit::Seconds, "How long plugin calls took, by channel and export");
    describe_counter!(ACTIONS, "Agents' and rules' actions on platforms, by action and result");
    describe_gauge!(WEBSOCKETS, "Live WebSockets open (agents' tabs)");
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route, method and status");
    describe_histogram!(HTTP_SECONDS, Unit::Seconds, "HTTP request latency by route and method");
    describe_gauge!(INDEX_LAG, "Store changes the search index has not taken in yet");
    describe_gauge!(STORE_SEQ, "The store's newest change number");
    describe_counter!(STORE_RETRIES, "Writes planned again after losing to another writer on a shared store");
}

/// The text a scrape gets.
pub fn render() -> String {
    install().render()
}
