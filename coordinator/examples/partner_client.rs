//! A partner's client of the Secruna gRPC API: calls every RPC once against a running
//! `secruna serve`.
//!
//! ```text
//! SECRUNA_TOKEN=$(secruna tokens create --tenant acme --scope write) \
//!   cargo run -p coordinator --example partner_client
//! ```
//!
//! Environment: `SECRUNA_TOKEN` (required, a `write` token), `SECRUNA_GRPC_URL` (default
//! `http://127.0.0.1:50051`), `SECRUNA_SCAN_TARGET` (a folder under the server's
//! `--scan-root`; without it the scan calls are skipped).

use std::collections::HashMap;

use anyhow::{Context, bail};
use proto::v1;
use sha2::{Digest, Sha256};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

type Authed = InterceptedService<Channel, Bearer>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url =
        std::env::var("SECRUNA_GRPC_URL").unwrap_or_else(|_| "http://127.0.0.1:50051".to_owned());
    let token = std::env::var("SECRUNA_TOKEN").context("set SECRUNA_TOKEN to a write token")?;
    let bearer = Bearer(
        format!("Bearer {token}")
            .parse()
            .context("SECRUNA_TOKEN is not ASCII")?,
    );
    let channel = Channel::from_shared(url.clone())?
        .connect()
        .await
        .with_context(|| format!("connecting to {url} failed; is `secruna serve` running?"))?;

    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "secruna.v1.Ingest".to_owned(),
        })
        .await?
        .into_inner();
    println!("health: secruna.v1.Ingest status {}", serving.status);

    let system_id = ingest(channel.clone(), bearer.clone()).await?;
    inventory(channel.clone(), bearer.clone(), &system_id).await?;
    compliance(channel.clone(), bearer.clone()).await?;
    match std::env::var("SECRUNA_SCAN_TARGET") {
        Ok(target) => scans(channel, bearer, target).await?,
        Err(_) => println!("scans: skipped; set SECRUNA_SCAN_TARGET to run them"),
    }
    Ok(())
}

/// Streams two batches and returns the id of a system they created.
async fn ingest(channel: Channel, bearer: Bearer) -> anyhow::Result<String> {
    let mut client =
        v1::ingest_client::IngestClient::with_interceptor(channel.clone(), bearer.clone())
            .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(proto::MAX_MESSAGE_BYTES);
    let batches = vec![batch(1, &["openai", "langchain"]), batch(2, &["torch"])];
    let mut acks = client
        .stream_findings(tokio_stream::iter(batches))
        .await?
        .into_inner();
    while let Some(ack) = acks.message().await? {
        println!(
            "ingest: batch {} stored {} findings, rejected {}",
            ack.sequence,
            ack.num_accepted,
            ack.errors.len()
        );
    }
    let mut inventory = inventory_client(channel, bearer);
    let listed = inventory
        .list_systems(v1::ListSystemsRequest {
            source: "partner-example".to_owned(),
            ..v1::ListSystemsRequest::default()
        })
        .await?
        .into_inner();
    match listed.systems.first() {
        Some(system) => Ok(system.system_id.clone()),
        None => bail!("the ingested system is not listed"),
    }
}

fn batch(sequence: u64, subjects: &[&str]) -> v1::FindingBatch {
    let findings = subjects
        .iter()
        .map(|subject| {
            let attributes: HashMap<String, String> =
                [("category".to_owned(), "ml_library".to_owned())].into();
            v1::IngestFinding {
                idempotency_key: format!("example-{subject}"),
                finding: Some(v1::Finding {
                    source: "partner-example".to_owned(),
                    scope: "example-repo".to_owned(),
                    external_id: format!("example-repo/requirements.txt/{subject}"),
                    kind: "dependency".to_owned(),
                    subject: (*subject).to_owned(),
                    path: "requirements.txt".to_owned(),
                    line: 1,
                    confidence: 0.9,
                    project_root: ".".to_owned(),
                    attributes,
                    evidence: format!("{subject}>=1"),
                }),
            }
        })
        .collect();
    v1::FindingBatch { sequence, findings }
}

fn inventory_client(
    channel: Channel,
    bearer: Bearer,
) -> v1::inventory_client::InventoryClient<Authed> {
    v1::inventory_client::InventoryClient::with_interceptor(channel, bearer)
        .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(proto::MAX_MESSAGE_BYTES)
}

async fn inventory(channel: Channel, bearer: Bearer, system_id: &str) -> anyhow::Result<()> {
    let mut client = inventory_client(channel, bearer);
    let page = client
        .list_systems(v1::ListSystemsRequest {
            page_size: 10,
            ..v1::ListSystemsRequest::default()
        })
        .await?
        .into_inner();
    println!(
        "inventory: {} systems on the first page",
        page.systems.len()
    );
    let detail = client
        .get_system(v1::GetSystemRequest {
            system_id: system_id.to_owned(),
        })
        .await?
        .into_inner();
    println!(
        "inventory: system {system_id} has {} open findings and {} verdicts",
        detail.findings.len(),
        detail.evaluations.len()
    );
    Ok(())
}

async fn compliance(channel: Channel, bearer: Bearer) -> anyhow::Result<()> {
    let mut client = v1::compliance_client::ComplianceClient::with_interceptor(channel, bearer)
        .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(proto::MAX_MESSAGE_BYTES);
    let verdicts = client
        .list_evaluations(v1::ListEvaluationsRequest::default())
        .await?
        .into_inner();
    println!(
        "compliance: {} verdicts on the first page",
        verdicts.evaluations.len()
    );

    let mut chunks = client
        .export_evidence_pack(v1::ExportEvidencePackRequest {
            framework: "eu-ai-act".to_owned(),
        })
        .await?
        .into_inner();
    let mut pack = Vec::new();
    let mut file_name = String::new();
    while let Some(chunk) = chunks.message().await? {
        if !chunk.file_name.is_empty() {
            file_name = chunk.file_name.clone();
        }
        pack.extend_from_slice(&chunk.data);
        if chunk.last {
            let digest = hex::encode(Sha256::digest(&pack));
            if digest != chunk.sha256 {
                bail!(
                    "evidence pack hash mismatch: received {digest}, server sent {}",
                    chunk.sha256
                );
            }
        }
    }
    let path = std::env::temp_dir().join(&file_name);
    std::fs::write(&path, &pack)?;
    println!(
        "compliance: evidence pack of {} bytes written to {}",
        pack.len(),
        path.display()
    );
    Ok(())
}

async fn scans(channel: Channel, bearer: Bearer, target: String) -> anyhow::Result<()> {
    let mut client = v1::scans_client::ScansClient::with_interceptor(channel, bearer)
        .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(proto::MAX_MESSAGE_BYTES);
    let started = client
        .start_scan(v1::StartScanRequest {
            targets: vec![target],
            frameworks: Vec::new(),
        })
        .await?
        .into_inner();
    let mut events = client
        .watch_scan(v1::WatchScanRequest {
            scan_id: started.scan_id.clone(),
        })
        .await?
        .into_inner();
    while let Some(event) = events.message().await? {
        println!(
            "scans: {} {} files seen {}, findings {}",
            event.scan_id, event.status, event.files_seen, event.num_findings
        );
    }
    let scan = client
        .get_scan(v1::GetScanRequest {
            scan_id: started.scan_id.clone(),
        })
        .await?
        .into_inner();
    println!(
        "scans: {} finished {} at {}",
        scan.scan_id, scan.status, scan.finished_at
    );
    // The scan has finished, so the server rejects the cancel with FAILED_PRECONDITION.
    let cancelled = client
        .cancel_scan(v1::CancelScanRequest {
            scan_id: started.scan_id,
        })
        .await;
    match cancelled {
        Ok(scan) => println!("scans: cancelled, now {}", scan.into_inner().status),
        Err(status) => println!(
            "scans: cancel answered {:?}: {}",
            status.code(),
            status.message()
        ),
    }
    Ok(())
}
