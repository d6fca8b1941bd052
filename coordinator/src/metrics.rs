//! Metrics of the actor tree, emitted through the `metrics` facade. The process that
//! installs a recorder (a Prometheus exporter, for one) decides where they go; without one
//! they cost next to nothing.

use std::time::Duration;

/// Actors running now, labelled by `actor` (coordinator, writer, tenant, connector, crawler).
pub const ACTORS_RUNNING: &str = "secruna_actors_running";
/// Actors started since the process began, labelled by `actor`.
pub const ACTORS_STARTED: &str = "secruna_actors_started_total";
/// Crawler attempts that failed and were scheduled again.
pub const CRAWLER_RESTARTS: &str = "secruna_crawler_restarts_total";
/// Settled scopes, labelled by `status` (covered, partial, skipped, failed, cancelled).
pub const SCOPES: &str = "secruna_scopes_total";
/// Finished scans, labelled by `status` (completed, partial, failed).
pub const SCANS: &str = "secruna_scans_total";
/// Findings produced by crawlers.
pub const FINDINGS: &str = "secruna_findings_total";
/// Systems the classifier pool could not classify or store.
pub const CLASSIFIER_FAILURES: &str = "secruna_classifier_failures_total";
/// Systems waiting in the writer for the next commit.
pub const WRITER_PENDING: &str = "secruna_writer_pending_systems";
/// Systems per writer transaction.
pub const WRITER_BATCH_SIZE: &str = "secruna_writer_batch_systems";
/// Time to commit one writer batch, in seconds.
pub const WRITER_BATCH_DURATION: &str = "secruna_writer_batch_duration_seconds";

/// Registers a description for every metric above.
pub fn describe() {
    metrics::describe_gauge!(ACTORS_RUNNING, "actors running now, by actor type");
    metrics::describe_counter!(ACTORS_STARTED, "actors started, by actor type");
    metrics::describe_counter!(CRAWLER_RESTARTS, "crawler attempts retried after a failure");
    metrics::describe_counter!(SCOPES, "settled scopes, by status");
    metrics::describe_counter!(SCANS, "finished scans, by status");
    metrics::describe_counter!(FINDINGS, "findings produced by crawlers");
    metrics::describe_counter!(
        CLASSIFIER_FAILURES,
        "systems that could not be classified or stored"
    );
    metrics::describe_gauge!(
        WRITER_PENDING,
        "systems waiting for the writer's next commit"
    );
    metrics::describe_histogram!(WRITER_BATCH_SIZE, "systems per writer transaction");
    metrics::describe_histogram!(
        WRITER_BATCH_DURATION,
        metrics::Unit::Seconds,
        "time to commit one writer batch"
    );
}

pub(crate) fn actor_started(actor: &'static str) {
    metrics::counter!(ACTORS_STARTED, "actor" => actor).increment(1);
    metrics::gauge!(ACTORS_RUNNING, "actor" => actor).increment(1.0);
}

pub(crate) fn actor_stopped(actor: &'static str) {
    metrics::gauge!(ACTORS_RUNNING, "actor" => actor).decrement(1.0);
}

pub(crate) fn crawler_restarted() {
    metrics::counter!(CRAWLER_RESTARTS).increment(1);
}

pub(crate) fn scope_settled(status: &'static str) {
    metrics::counter!(SCOPES, "status" => status).increment(1);
}

pub(crate) fn scan_finished(status: &'static str) {
    metrics::counter!(SCANS, "status" => status).increment(1);
}

pub(crate) fn findings_produced(num_findings: u64) {
    metrics::counter!(FINDINGS).increment(num_findings);
}

pub(crate) fn classifier_failed() {
    metrics::counter!(CLASSIFIER_FAILURES).increment(1);
}

pub(crate) fn writer_pending(num_pending: usize) {
    metrics::gauge!(WRITER_PENDING).set(num_pending as f64);
}

pub(crate) fn writer_batch(num_systems: usize, duration: Duration) {
    metrics::histogram!(WRITER_BATCH_SIZE).record(num_systems as f64);
    metrics::histogram!(WRITER_BATCH_DURATION).record(duration.as_secs_f64());
}
