//! `Ingest.StreamFindings`: batches of findings in, one acknowledgement per batch out.
//!
//! One task per stream reads a batch, validates every finding on its own, hands the valid
//! ones to [`Coordinator::ingest`](crate::Coordinator::ingest) and sends the
//! acknowledgement once they are committed. It reads the next batch only after that, so a
//! stream holds one decoded batch at a time; what the client sends meanwhile waits in the
//! HTTP/2 flow-control window ([`super::STREAM_WINDOW_BYTES`]) and then stops the client.
//! Acknowledgements go through a channel of [`ACK_BUFFER`] entries, so a client that stops
//! reading them stops the stream too.

use std::collections::HashSet;
use std::time::Instant;

use prost::Message;
use proto::v1::ingest_server::Ingest;
use proto::v1::{BatchAck, FindingBatch, FindingError, IngestFinding};
use proto::{Finding, MAX_FINDING_BYTES, MAX_FINDINGS_PER_BATCH, WireFindingError};
use serde_json::json;
use store::scans::{INGEST_SOURCE, NewScan};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::{info, warn};
use uuid::Uuid;

use super::GrpcState;
use super::auth::{Access, Principal};
use super::convert::store_status;

/// Acknowledgements buffered for a client that reads them slowly.
const ACK_BUFFER: usize = 4;

/// Maximum length of an idempotency key, in bytes.
const MAX_KEY_BYTES: usize = 256;

/// Maximum lengths of the text fields of a finding, in bytes, each with its field name.
const FIELD_LIMITS: [(&str, usize); 6] = [
    ("source", 64),
    ("scope", 1024),
    ("external_id", 512),
    ("subject", 1024),
    ("path", 4096),
    ("project_root", 4096),
];

/// Framework a tenant without a subscription is subscribed to by its first ingest stream.
const DEFAULT_FRAMEWORK: &str = "eu-ai-act";

/// The `Ingest` service.
pub(crate) struct IngestService {
    state: GrpcState,
}

impl IngestService {
    /// Creates the service.
    pub(crate) fn new(state: GrpcState) -> Self {
        IngestService { state }
    }
}

#[tonic::async_trait]
impl Ingest for IngestService {
    type StreamFindingsStream = ReceiverStream<Result<BatchAck, Status>>;

    #[tracing::instrument(skip_all, name = "grpc.ingest.stream_findings")]
    async fn stream_findings(
        &self,
        request: Request<Streaming<FindingBatch>>,
    ) -> Result<Response<Self::StreamFindingsStream>, Status> {
        let principal = Principal::of(&request)?;
        principal.require(Access::Write)?;
        let headers = request.metadata().clone().into_headers();
        let bearer = super::auth::bearer_token(&headers)?.to_owned();
        let inbound = request.into_inner();
        let (ack_tx, ack_rx) = mpsc::channel(ACK_BUFFER);
        let stream = IngestStream {
            state: self.state.clone(),
            principal,
            bearer,
            token_checked: Instant::now(),
            scan_id: None,
            last_sequence: None,
            num_batches: 0,
            num_accepted: 0,
            num_rejected: 0,
        };
        tokio::spawn(stream.run(inbound, ack_tx));
        Ok(Response::new(ReceiverStream::new(ack_rx)))
    }
}

/// State of one open stream.
struct IngestStream {
    state: GrpcState,
    principal: Principal,
    /// The stream's bearer token, checked again every [`GrpcConfig::token_recheck`].
    ///
    /// [`GrpcConfig::token_recheck`]: super::GrpcConfig::token_recheck
    bearer: String,
    /// When the token was last found valid.
    token_checked: Instant,
    /// Scan row that records this stream, created with the first batch.
    scan_id: Option<Uuid>,
    /// Sequence of the last acknowledged batch.
    last_sequence: Option<u64>,
    num_batches: u64,
    num_accepted: u64,
    num_rejected: u64,
}

impl IngestStream {
    /// Reads, stores and acknowledges batches until the client closes the stream or an
    /// error ends it, then closes the stream's scan row.
    async fn run(
        mut self,
        mut inbound: Streaming<FindingBatch>,
        ack_tx: mpsc::Sender<Result<BatchAck, Status>>,
    ) {
        let tenant = self.principal.tenant.path().as_str().to_owned();
        let outcome = loop {
            let batch = match inbound.message().await {
                Ok(Some(batch)) => batch,
                Ok(None) => break Ok(()),
                Err(status) => {
                    // Without this the stream would close with OK, and a client whose
                    // batch could not be decoded (too large, malformed) would never learn
                    // that it was not stored.
                    let _ = ack_tx.send(Err(status.clone())).await;
                    break Err(status);
                }
            };
            let acked = match self.handle_batch(batch).await {
                Ok(ack) => ack_tx.send(Ok(ack)).await,
                Err(status) => {
                    let _ = ack_tx.send(Err(status.clone())).await;
                    break Err(status);
                }
            };
            if acked.is_err() {
                break Err(Status::cancelled(
                    "the client stopped reading acknowledgements",
                ));
            }
        };
        if let Err(status) = &outcome {
            info!(tenant.path = %tenant, code = ?status.code(), message = status.message(), "ingest stream ended early");
        }
        self.finish(outcome.is_ok()).await;
    }

    /// Validates, stores and acknowledges one batch. An error ends the stream; the client
    /// resends every batch after the last acknowledged one.
    async fn handle_batch(&mut self, batch: FindingBatch) -> Result<BatchAck, Status> {
        self.recheck_token().await?;
        let sequence = batch.sequence;
        if let Some(batch_error) = self.batch_error(&batch) {
            self.num_rejected += batch.findings.len() as u64;
            return Ok(BatchAck {
                sequence,
                errors: Vec::new(),
                num_accepted: 0,
                batch_error,
            });
        }
        let scan_id = self.scan_id().await?;

        let batch_size = batch.findings.len();
        let (valid, mut errors) = validate(batch.findings);
        let (positions, findings): (Vec<(u32, String)>, Vec<Finding>) = valid.into_iter().unzip();
        let results = self
            .state
            .coordinator
            .ingest(&self.state.store, &self.principal.tenant, scan_id, findings)
            .await
            .map_err(|error| Status::unavailable(format!("{error}; resend this batch")))?;
        if results.iter().any(Result::is_err) {
            // A failure because the database went away must not be acknowledged as a
            // rejected finding, or the client would never resend it.
            self.state.store.ping().await.map_err(store_status)?;
        }
        for ((index, key), result) in positions.into_iter().zip(results) {
            if let Err(message) = result {
                errors.push(finding_error(index, &key, "", message));
            }
        }
        errors.sort_by_key(|error| error.index);

        let num_accepted = u32::try_from(batch_size - errors.len()).unwrap_or(u32::MAX);
        self.last_sequence = Some(sequence);
        self.num_batches += 1;
        self.num_accepted += u64::from(num_accepted);
        self.num_rejected += errors.len() as u64;
        Ok(BatchAck {
            sequence,
            errors,
            num_accepted,
            batch_error: String::new(),
        })
    }

    /// Ends the stream with `UNAUTHENTICATED` once its token has been revoked or has
    /// expired. Looks the token up at most once per [`super::GrpcConfig::token_recheck`].
    async fn recheck_token(&mut self) -> Result<(), Status> {
        if self.token_checked.elapsed() < self.state.config.token_recheck {
            return Ok(());
        }
        let found = self
            .state
            .store
            .authenticate_bearer(&self.bearer)
            .await
            .map_err(|error| {
                warn!(%error, "checking the token of an ingest stream failed");
                Status::unavailable("the database is unavailable; resend this batch later")
            })?;
        if found.is_none() {
            return Err(Status::unauthenticated(
                "the bearer token was revoked or expired during the stream; open a new stream \
                 with a valid token and resend the unacknowledged batches",
            ));
        }
        self.token_checked = Instant::now();
        Ok(())
    }

    /// Returns why a batch is rejected as a whole, if it is.
    fn batch_error(&self, batch: &FindingBatch) -> Option<String> {
        if let Some(last) = self.last_sequence
            && batch.sequence <= last
        {
            return Some(format!(
                "field `sequence` is {}, not above the last acknowledged {last}: number \
                 batches in increasing order",
                batch.sequence
            ));
        }
        if batch.findings.len() > MAX_FINDINGS_PER_BATCH {
            return Some(format!(
                "field `findings` has {} entries: send at most {MAX_FINDINGS_PER_BATCH} per \
                 batch",
                batch.findings.len()
            ));
        }
        None
    }

    /// Returns the stream's scan row id, recording the row with an audit entry first.
    async fn scan_id(&mut self) -> Result<Uuid, Status> {
        if let Some(scan_id) = self.scan_id {
            return Ok(scan_id);
        }
        let store = &self.state.store;
        let mut tx = store
            .begin(&self.principal.tenant)
            .await
            .map_err(store_status)?;
        let scan = store::scans::create(
            &mut tx,
            NewScan {
                source: INGEST_SOURCE.to_owned(),
                target: "Ingest.StreamFindings".to_owned(),
                requested_by: self.principal.actor(),
            },
        )
        .await
        .map_err(store_status)?;
        let entry = crate::actors::audit_entry(
            &self.principal.actor(),
            "scan",
            &scan.id.to_string(),
            "scan.start",
            json!({ "source": INGEST_SOURCE }),
        );
        store::audit::append(&mut tx, entry)
            .await
            .map_err(store_status)?;
        subscribe_default(&mut tx, &self.principal.actor())
            .await
            .map_err(store_status)?;
        tx.commit().await.map_err(store_status)?;
        self.scan_id = Some(scan.id);
        Ok(scan.id)
    }

    /// Closes the stream's scan row: `completed` when the client closed the stream,
    /// `partial` when it broke off.
    async fn finish(self, closed_by_client: bool) {
        let Some(scan_id) = self.scan_id else {
            return;
        };
        let status = if closed_by_client {
            "completed"
        } else {
            "partial"
        };
        let summary = json!({
            "num_batches": self.num_batches,
            "num_accepted": self.num_accepted,
            "num_rejected": self.num_rejected,
        });
        let error = (!closed_by_client).then_some("the stream ended before the client closed it");
        let result = async {
            let mut tx = self.state.store.begin(&self.principal.tenant).await?;
            store::scans::finish(&mut tx, scan_id, status, summary.clone(), error).await?;
            let entry = crate::actors::audit_entry(
                "system:coordinator",
                "scan",
                &scan_id.to_string(),
                "scan.finished",
                json!({ "status": status, "summary": summary }),
            );
            store::audit::append(&mut tx, entry).await?;
            tx.commit().await
        }
        .await;
        if let Err(error) = result {
            warn!(scan.id = %scan_id, %error, "closing the scan row of an ingest stream failed");
        }
    }
}

/// Subscribes a tenant without a subscription to [`DEFAULT_FRAMEWORK`], as a scan does,
/// so that ingested systems are evaluated, and audits the change.
async fn subscribe_default(tx: &mut store::TenantTx, actor: &str) -> Result<(), store::Error> {
    if !store::subscriptions::list(tx).await?.is_empty() {
        return Ok(());
    }
    store::subscriptions::set(tx, &[DEFAULT_FRAMEWORK]).await?;
    let diff = json!({ "before": [], "after": [DEFAULT_FRAMEWORK] });
    let entry = crate::actors::audit_entry(
        actor,
        "subscription",
        "frameworks",
        "subscription.updated",
        diff,
    );
    store::audit::append(tx, entry).await?;
    Ok(())
}

/// Splits a batch into valid findings (with their position and key) and per-finding errors.
#[allow(clippy::type_complexity)]
fn validate(items: Vec<IngestFinding>) -> (Vec<((u32, String), Finding)>, Vec<FindingError>) {
    let mut valid = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    let mut keys = HashSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        match validate_one(item, &mut keys) {
            Ok((key, finding)) => valid.push(((index, key), finding)),
            Err((key, field, message)) => errors.push(finding_error(index, &key, field, message)),
        }
    }
    (valid, errors)
}

/// Checks one finding: its key, its encoded size, its field lengths and the domain
/// conversion. An error carries the key, the field and the message.
fn validate_one(
    item: IngestFinding,
    keys: &mut HashSet<String>,
) -> Result<(String, Finding), (String, &'static str, String)> {
    let Some(wire) = item.finding else {
        return Err((
            item.idempotency_key,
            "finding",
            "field `finding` is missing: set it".to_owned(),
        ));
    };
    let key = if item.idempotency_key.is_empty() {
        wire.external_id.clone()
    } else {
        item.idempotency_key
    };
    if key.len() > MAX_KEY_BYTES {
        let message = format!(
            "field `idempotency_key` is {} bytes: use at most {MAX_KEY_BYTES}",
            key.len()
        );
        return Err((truncate(&key), "idempotency_key", message));
    }
    if !keys.insert(key.clone()) {
        let message = format!(
            "idempotency key `{key}` appears twice in the batch: give each finding its own key"
        );
        return Err((key, "idempotency_key", message));
    }
    let size = wire.encoded_len();
    if size > MAX_FINDING_BYTES {
        let message = format!(
            "the finding is {size} bytes encoded: keep it under {MAX_FINDING_BYTES} by \
             shortening its evidence or attributes"
        );
        return Err((key, "", message));
    }
    for (field, limit) in FIELD_LIMITS {
        let length = field_len(&wire, field);
        if length > limit {
            let message = format!("field `finding.{field}` is {length} bytes: use at most {limit}");
            return Err((key, field_path(field), message));
        }
    }
    match Finding::try_from(wire) {
        Ok(finding) => Ok((key, finding)),
        Err(error) => {
            let field = wire_error_field(&error);
            Err((key, field, error.to_string()))
        }
    }
}

/// Returns the length of a text field of a wire finding.
fn field_len(wire: &proto::v1::Finding, field: &str) -> usize {
    match field {
        "source" => wire.source.len(),
        "scope" => wire.scope.len(),
        "external_id" => wire.external_id.len(),
        "subject" => wire.subject.len(),
        "path" => wire.path.len(),
        "project_root" => wire.project_root.len(),
        _ => 0,
    }
}

/// Returns the error's field path for a field of the finding.
fn field_path(field: &str) -> &'static str {
    match field {
        "source" => "finding.source",
        "scope" => "finding.scope",
        "external_id" => "finding.external_id",
        "subject" => "finding.subject",
        "path" => "finding.path",
        "project_root" => "finding.project_root",
        "kind" => "finding.kind",
        "confidence" => "finding.confidence",
        _ => "finding",
    }
}

/// Returns the field a domain conversion error names.
fn wire_error_field(error: &WireFindingError) -> &'static str {
    match error {
        WireFindingError::Empty(field) => field_path(field),
        WireFindingError::Kind(_) => "finding.kind",
        WireFindingError::Confidence(_) => "finding.confidence",
    }
}

/// Shortens an over-long key for the error that reports it.
fn truncate(key: &str) -> String {
    let mut end = MAX_KEY_BYTES.min(key.len());
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    key[..end].to_owned()
}

fn finding_error(index: u32, key: &str, field: &str, message: String) -> FindingError {
    FindingError {
        index,
        idempotency_key: key.to_owned(),
        field: field.to_owned(),
        message,
    }
}
