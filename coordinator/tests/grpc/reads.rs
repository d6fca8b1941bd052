//! Happy paths of `Inventory`, `Scans` and `Compliance`, and the evidence pack.

use std::time::Duration;

use coordinator::evidence;
use proto::v1;
use sha2::{Digest, Sha256};
use tonic::Code;

use crate::support::{
    Options, Server, batch, compliance_client, context, finding, ingest_client, inventory_client,
    scans_client, send_all,
};

/// Starts a server and ingests three systems for `acme`; returns the server and a write
/// token.
async fn server_with_systems(options: Options) -> (Server, String) {
    let server = Server::start_with(options).await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token).await;
    send_all(
        &mut client,
        vec![batch(
            1,
            vec![
                finding("repo-a", ".", "openai"),
                finding("repo-b", ".", "anthropic"),
                finding("repo-c", ".", "torch"),
            ],
        )],
    )
    .await;
    (server, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_systems_pages_through_every_system() {
    let (server, token) = server_with_systems(Options::default()).await;
    let mut client = inventory_client(&server, &token).await;

    let first = client
        .list_systems(v1::ListSystemsRequest {
            page_size: 2,
            ..v1::ListSystemsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let second = client
        .list_systems(v1::ListSystemsRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
            ..v1::ListSystemsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let filtered = client
        .list_systems(v1::ListSystemsRequest {
            source: "no-such-source".to_owned(),
            ..v1::ListSystemsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();

    assert_eq!(first.systems.len(), 2);
    assert!(!first.next_page_token.is_empty());
    assert_eq!(second.systems.len(), 1);
    assert!(second.next_page_token.is_empty());
    let mut roots: Vec<String> = first
        .systems
        .iter()
        .chain(&second.systems)
        .map(|system| system.root.clone())
        .collect();
    roots.sort();
    assert_eq!(roots, vec!["repo-a", "repo-b", "repo-c"]);
    assert_eq!(first.systems[0].tenant, "acme");
    assert!(filtered.systems.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invalid_list_arguments_name_the_field() {
    let (server, token) = server_with_systems(Options::default()).await;
    let mut client = inventory_client(&server, &token).await;

    let bad_token = client
        .list_systems(v1::ListSystemsRequest {
            page_token: "zz".to_owned(),
            ..v1::ListSystemsRequest::default()
        })
        .await
        .unwrap_err();
    let bad_size = client
        .list_systems(v1::ListSystemsRequest {
            page_size: 501,
            ..v1::ListSystemsRequest::default()
        })
        .await
        .unwrap_err();
    let bad_id = client
        .get_system(v1::GetSystemRequest {
            system_id: "not-a-uuid".to_owned(),
        })
        .await
        .unwrap_err();

    assert_eq!(bad_token.code(), Code::InvalidArgument);
    assert!(bad_token.message().contains("`page_token`"));
    assert_eq!(bad_size.code(), Code::InvalidArgument);
    assert!(bad_size.message().contains("`page_size`"));
    assert_eq!(bad_id.code(), Code::InvalidArgument);
    assert!(bad_id.message().contains("`system_id`"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn get_system_returns_findings_and_verdicts() {
    let (server, token) = server_with_systems(Options::default()).await;
    let mut client = inventory_client(&server, &token).await;
    let listed = client
        .list_systems(v1::ListSystemsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let repo_a = listed
        .systems
        .iter()
        .find(|system| system.root == "repo-a")
        .unwrap();

    let detail = client
        .get_system(v1::GetSystemRequest {
            system_id: repo_a.system_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();

    assert_eq!(detail.system.unwrap().system_id, repo_a.system_id);
    assert_eq!(detail.findings.len(), 1);
    let stored = detail.findings[0].finding.as_ref().unwrap();
    assert_eq!(stored.subject, "openai");
    assert_eq!(stored.external_id, "repo-a|.|openai");
    assert_eq!(detail.findings[0].status, "open");
    assert!(!detail.evaluations.is_empty());
    assert!(
        detail
            .evaluations
            .iter()
            .all(|verdict| verdict.framework == "eu-ai-act")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_evaluations_filters_by_subscription() {
    let (server, token) = server_with_systems(Options::default()).await;
    let mut client = compliance_client(&server, &token).await;

    let all = client
        .list_evaluations(v1::ListEvaluationsRequest {
            framework: "eu-ai-act".to_owned(),
            page_size: 500,
            ..v1::ListEvaluationsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let unsubscribed = client
        .list_evaluations(v1::ListEvaluationsRequest {
            framework: "uk-defence".to_owned(),
            ..v1::ListEvaluationsRequest::default()
        })
        .await
        .unwrap_err();

    let stored = server.count("SELECT count(*) FROM evaluations").await;
    assert!(stored > 0);
    assert_eq!(all.evaluations.len() as i64, stored);
    assert_eq!(unsubscribed.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exported_evidence_pack_verifies_and_detects_tampering() {
    let (server, token) = server_with_systems(Options::default()).await;
    let mut client = compliance_client(&server, &token).await;

    let mut chunks = client
        .export_evidence_pack(v1::ExportEvidencePackRequest {
            framework: "eu-ai-act".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut bytes = Vec::new();
    let mut file_name = String::new();
    let mut last = None;
    while let Some(chunk) = chunks.message().await.unwrap() {
        if file_name.is_empty() {
            file_name = chunk.file_name.clone();
        }
        bytes.extend_from_slice(&chunk.data);
        if chunk.last {
            last = Some(chunk);
        }
    }
    let last = last.expect("the stream ends with a last chunk");

    assert_eq!(last.sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(last.size_bytes, bytes.len() as u64);
    assert!(file_name.starts_with("acme-eu-ai-act-"), "{file_name}");
    let report = evidence::verify(&bytes).unwrap();
    assert_eq!(report.manifest.framework, "eu-ai-act");
    assert_eq!(report.manifest.tenant, "acme");
    assert_eq!(report.num_files_checked, 4);
    assert!(report.manifest.audit_chain_head.is_some());
    let rule_book = rule_book::RuleBook::embedded().unwrap();
    assert_eq!(
        report.manifest.rule_book_version_hash,
        rule_book.version_hash()
    );

    let tampered = tamper(&bytes);
    let error = evidence::verify(&tampered).unwrap_err();
    assert!(
        matches!(error, evidence::EvidenceError::HashMismatch { ref name, .. } if name == "inventory.json"),
        "{error}"
    );
    server.stop().await;
}

/// Rewrites `inventory.json` inside the ZIP and keeps the manifest as it was.
fn tamper(bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if name == "inventory.json" {
            content = b"[]\n".to_vec();
        }
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(&content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn started_scan_is_watched_to_its_end() {
    let scan_root = tempfile::tempdir().unwrap();
    let project = scan_root.path().join("app");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("requirements.txt"), "openai==1.30.0\n").unwrap();
    let mut options = Options::default();
    options.grpc.scan_root = Some(scan_root.path().to_path_buf());
    let server = Server::start_with(options).await;
    let token = server.token("acme", "write").await;
    let mut client = scans_client(&server, &token).await;

    let started = client
        .start_scan(v1::StartScanRequest {
            targets: vec!["app".to_owned()],
            frameworks: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut events = client
        .watch_scan(v1::WatchScanRequest {
            scan_id: started.scan_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut last = None;
    while let Some(event) = tokio::time::timeout(Duration::from_secs(30), events.message())
        .await
        .unwrap()
        .unwrap()
    {
        last = Some(event);
    }
    let last = last.unwrap();
    let scan = client
        .get_scan(v1::GetScanRequest {
            scan_id: started.scan_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let cancel_finished = client
        .cancel_scan(v1::CancelScanRequest {
            scan_id: started.scan_id.clone(),
        })
        .await
        .unwrap_err();
    let escape = client
        .start_scan(v1::StartScanRequest {
            targets: vec!["../..".to_owned()],
            frameworks: Vec::new(),
        })
        .await
        .unwrap_err();
    let empty = client
        .start_scan(v1::StartScanRequest {
            targets: vec![" ".to_owned()],
            frameworks: Vec::new(),
        })
        .await
        .unwrap_err();
    let target_error = |target: &str| {
        let mut client = client.clone();
        let target = target.to_owned();
        async move {
            client
                .start_scan(v1::StartScanRequest {
                    targets: vec![target],
                    frameworks: Vec::new(),
                })
                .await
                .unwrap_err()
        }
    };
    let file = target_error("app/requirements.txt").await;
    let missing_outside = target_error("../no-such-folder").await;
    let existing_outside = target_error("..").await;
    let missing_inside = target_error("no-such-folder").await;

    assert!(last.finished);
    assert_eq!(last.status, "completed");
    assert_eq!(last.scopes.len(), 1);
    assert_eq!(last.scopes[0].status, "covered");
    assert_eq!(last.scopes[0].num_findings, 1);
    assert_eq!(last.files_seen, 1);
    assert_eq!(last.files_scanned, 1);
    assert_eq!(scan.status, "completed");
    assert_eq!(scan.source, "code");
    assert!(!scan.finished_at.is_empty());
    assert_eq!(cancel_finished.code(), Code::FailedPrecondition);
    assert_eq!(escape.code(), Code::InvalidArgument);
    assert!(
        escape.message().contains("`targets[0]`"),
        "{}",
        escape.message()
    );
    assert_eq!(empty.code(), Code::InvalidArgument);
    for status in [&file, &missing_outside, &existing_outside, &missing_inside] {
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status
                .message()
                .contains("is not a folder inside the scan root"),
            "{}",
            status.message()
        );
    }
    assert!(
        empty.message().contains("`targets[0]` is empty"),
        "{}",
        empty.message()
    );
    server.stop().await;
}

/// A scan left `running` by a server that exited is closed by `CancelScan` on another
/// server. Its pending scopes close too, and an audit row is written. A second cancel
/// fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_closes_orphaned_scan() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut tx = server.db.store.begin(&context("acme")).await.unwrap();
    let scan = store::scans::create(
        &mut tx,
        store::scans::NewScan {
            source: "gcp".to_owned(),
            target: "connector:gone".to_owned(),
            requested_by: "test".to_owned(),
        },
    )
    .await
    .unwrap();
    let pending = store::scans::ScopeRecord::pending("gone", "gcp:proj-123", "gcp");
    store::scans::upsert_scopes(&mut tx, scan.id, &[pending])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut client = scans_client(&server, &token).await;

    let cancelled = client
        .cancel_scan(v1::CancelScanRequest {
            scan_id: scan.id.to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    let again = client
        .cancel_scan(v1::CancelScanRequest {
            scan_id: scan.id.to_string(),
        })
        .await
        .unwrap_err();

    assert_eq!(cancelled.status, "cancelled");
    assert!(!cancelled.finished_at.is_empty());
    let scopes = server
        .query_strings("SELECT status FROM scan_scopes ORDER BY scope")
        .await;
    assert_eq!(scopes, ["cancelled"]);
    let actions = server
        .query_strings("SELECT action FROM audit_log WHERE entity_type = 'scan' ORDER BY seq")
        .await;
    assert_eq!(actions, ["scan.cancel"]);
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(
        again.message().contains("already cancelled"),
        "{}",
        again.message()
    );
    server.stop().await;
}

/// The scan row of an open ingest stream is not closed by `CancelScan`: the stream goes on
/// and closes the row itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_of_ingest_stream_scan_fails() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut ingest = ingest_client(&server, &token).await;
    let (batch_tx, batch_rx) = tokio::sync::mpsc::channel(4);
    batch_tx
        .send(batch(1, vec![finding("repo-a", ".", "openai")]))
        .await
        .unwrap();
    let mut acks = ingest
        .stream_findings(tokio_stream::wrappers::ReceiverStream::new(batch_rx))
        .await
        .unwrap()
        .into_inner();
    acks.message().await.unwrap().unwrap();
    let scan_ids = server
        .query_strings("SELECT id::text FROM scans WHERE source = 'ingest'")
        .await;
    let mut scans = scans_client(&server, &token).await;

    let refused = scans
        .cancel_scan(v1::CancelScanRequest {
            scan_id: scan_ids[0].clone(),
        })
        .await
        .unwrap_err();
    batch_tx
        .send(batch(2, vec![finding("repo-b", ".", "anthropic")]))
        .await
        .unwrap();
    let second = acks.message().await.unwrap().unwrap();
    drop(batch_tx);
    while acks.message().await.unwrap().is_some() {}

    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("Ingest.StreamFindings"),
        "{}",
        refused.message()
    );
    assert_eq!(second.num_accepted, 1);
    let statuses = server
        .query_strings("SELECT status FROM scans WHERE source = 'ingest'")
        .await;
    assert_eq!(statuses, ["completed"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_scan_without_scan_root_is_failed_precondition() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut client = scans_client(&server, &token).await;

    let status = client
        .start_scan(v1::StartScanRequest {
            targets: vec!["app".to_owned()],
            frameworks: Vec::new(),
        })
        .await
        .unwrap_err();

    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("--scan-root"));
    server.stop().await;
}

/// For a system whose open findings exceed one message, GetSystem returns as many as fit
/// and sets `findings_truncated`, instead of a message the client cannot receive.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn get_system_truncates_findings_to_message_size() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut ingest = ingest_client(&server, &token).await;
    let batches = (0..3)
        .map(|sequence| {
            let findings = (0..50)
                .map(|index| {
                    let mut large = finding("big", ".", &format!("lib-{sequence}-{index}"));
                    large.evidence = "x".repeat(60_000);
                    large
                })
                .collect();
            batch(sequence + 1, findings)
        })
        .collect();
    let acks = send_all(&mut ingest, batches).await;
    assert!(acks.iter().all(|ack| ack.num_accepted == 50), "{acks:?}");
    let system_id = server
        .query_strings("SELECT id::text FROM ai_systems")
        .await;
    let mut inventory = inventory_client(&server, &token).await;

    let answer = inventory
        .get_system(v1::GetSystemRequest {
            system_id: system_id[0].clone(),
        })
        .await
        .unwrap()
        .into_inner();

    assert_eq!(answer.num_open_findings, 150);
    assert!(answer.findings_truncated);
    assert!(answer.findings.len() > 100, "{}", answer.findings.len());
    assert!(answer.findings.len() < 150, "{}", answer.findings.len());
    server.stop().await;
}
