//! The actor tree reports its metrics to the installed recorder.

use std::sync::Arc;

use agents::{ScanProgress, SourceRegistry};
use coordinator::{Coordinator, CoordinatorConfig, ScanRequest};
use metrics_exporter_prometheus::PrometheusBuilder;
use store::testing::TestDb;

#[tokio::test]
async fn scan_reports_actor_scope_and_writer_metrics() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).unwrap();
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("requirements.txt"), "anthropic==0.30.0\n").unwrap();
    let rule_book = Arc::new(rule_book::RuleBook::embedded().unwrap());
    let sources = SourceRegistry::new();
    let coordinator =
        Coordinator::spawn(CoordinatorConfig::new(db.store.clone(), rule_book, sources))
            .await
            .unwrap();

    let request = ScanRequest {
        tenant: "metrics".to_owned(),
        targets: vec![tree.path().to_path_buf()],
        connectors: Vec::new(),
        frameworks: Vec::new(),
        requested_by: "test:runner".to_owned(),
        progress: Arc::new(ScanProgress::default()),
    };
    coordinator.scan(request).await.unwrap();
    coordinator.shutdown().await;
    let rendered = handle.render();

    for expected in [
        "secruna_actors_started_total{actor=\"crawler\"} 1",
        "secruna_actors_started_total{actor=\"connector\"} 1",
        "secruna_actors_started_total{actor=\"tenant\"} 1",
        "secruna_scopes_total{status=\"covered\"} 1",
        "secruna_scans_total{status=\"completed\"} 1",
        "secruna_findings_total 1",
        "secruna_writer_batch_systems_count 1",
    ] {
        assert!(
            rendered.contains(expected),
            "missing `{expected}` in:\n{rendered}"
        );
    }
}
