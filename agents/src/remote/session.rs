//! One connection and one `StreamFindings` call: resend what is unacknowledged, then
//! send new batches while acknowledgements come back.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;

use proto::Finding;
use proto::v1::ingest_client::IngestClient;
use proto::v1::{BatchAck, FindingBatch};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};
use tracing::{debug, warn};

use super::batch::{BatchBuilder, Pushed};
use super::{MAX_REPORTED_REJECTIONS, Rejection, RemoteConfig, UploadReport, Uploader};

/// How a session ended.
pub(super) enum End {
    /// Every finding is acknowledged and the input is closed.
    Done,
    /// The coordinator rejected the stream itself; retrying cannot help.
    Fatal(Status),
    /// The connection or stream broke; reconnect and resend.
    Retry(String),
}

/// A batch waiting for its acknowledgement.
struct Pending {
    batch: FindingBatch,
    sent_at: Instant,
}

/// What survives reconnections: unacknowledged batches, the open batch and the counters.
pub(super) struct State {
    pending: VecDeque<Pending>,
    builder: BatchBuilder,
    next_sequence: u64,
    input_closed: bool,
    /// Opened when the first finding of the open batch arrives.
    linger_deadline: Option<Instant>,
    linger: Duration,
    max_unacked: usize,
    acked_since_retry: bool,
    pub(super) report: UploadReport,
}

impl State {
    pub(super) fn new(config: &RemoteConfig) -> Self {
        State {
            pending: VecDeque::with_capacity(config.max_unacked_batches),
            builder: BatchBuilder::new(config.batch_size),
            next_sequence: 1,
            input_closed: false,
            linger_deadline: None,
            linger: config.linger,
            max_unacked: config.max_unacked_batches,
            acked_since_retry: false,
            report: UploadReport::default(),
        }
    }

    pub(super) fn num_pending(&self) -> usize {
        self.pending.len()
    }

    /// Returns whether an acknowledgement arrived since the last call, and clears it.
    pub(super) fn take_acked_flag(&mut self) -> bool {
        std::mem::take(&mut self.acked_since_retry)
    }

    fn finished(&self) -> bool {
        self.input_closed && self.builder.is_empty() && self.pending.is_empty()
    }

    fn reject(&mut self, uploader: &Uploader, rejection: Rejection) {
        warn!(
            finding.key = %rejection.idempotency_key,
            finding.field = %rejection.field,
            "the coordinator rejected a finding: {}",
            rejection.message
        );
        self.report.findings_rejected += 1;
        uploader
            .progress
            .findings_rejected
            .fetch_add(1, Ordering::Relaxed);
        if self.report.rejections.len() < MAX_REPORTED_REJECTIONS {
            self.report.rejections.push(rejection);
        }
    }

    /// Adds a finding to the open batch; returns a batch when one is ready to send.
    fn push(&mut self, uploader: &Uploader, finding: Finding) -> Option<FindingBatch> {
        match self.builder.push(finding) {
            Pushed::Added => {
                self.linger_deadline
                    .get_or_insert_with(|| Instant::now() + self.linger);
                None
            }
            Pushed::Full => Some(self.close_batch(uploader)),
            Pushed::Duplicate => {
                self.report.duplicates_skipped += 1;
                None
            }
            Pushed::TooLarge(key, message) => {
                let rejection = Rejection {
                    idempotency_key: key,
                    field: String::new(),
                    message,
                };
                self.reject(uploader, rejection);
                None
            }
        }
    }

    fn close_batch(&mut self, uploader: &Uploader) -> FindingBatch {
        self.linger_deadline = None;
        let batch = self.builder.take(self.next_sequence);
        self.next_sequence += 1;
        let count = batch.findings.len() as u64;
        self.report.findings_sent += count;
        uploader
            .progress
            .findings_sent
            .fetch_add(count, Ordering::Relaxed);
        batch
    }

    /// Applies an acknowledgement, which must name the oldest pending batch.
    fn apply_ack(&mut self, uploader: &Uploader, ack: BatchAck) -> Result<(), String> {
        let Some(front) = self.pending.front() else {
            return Err(format!(
                "acknowledgement of batch {} that was not sent",
                ack.sequence
            ));
        };
        if front.batch.sequence != ack.sequence {
            return Err(format!(
                "acknowledgement of batch {} while batch {} was the oldest pending",
                ack.sequence, front.batch.sequence
            ));
        }
        let Pending { batch, sent_at } = self.pending.pop_front().expect("checked above");
        self.acked_since_retry = true;
        self.report.batches += 1;
        self.report.ack_latencies.push(sent_at.elapsed());
        if !ack.batch_error.is_empty() {
            for _ in &batch.findings {
                let rejection = Rejection {
                    idempotency_key: String::new(),
                    field: String::new(),
                    message: ack.batch_error.clone(),
                };
                self.reject(uploader, rejection);
            }
            return Ok(());
        }
        let accepted = u64::from(ack.num_accepted);
        self.report.findings_acknowledged += accepted;
        uploader
            .progress
            .findings_acknowledged
            .fetch_add(accepted, Ordering::Relaxed);
        for error in ack.errors {
            let rejection = Rejection {
                idempotency_key: error.idempotency_key,
                field: error.field,
                message: error.message,
            };
            self.reject(uploader, rejection);
        }
        Ok(())
    }
}

/// Sends a batch on the stream and records it as pending, or reports a closed stream.
fn send(
    uploader: &Uploader,
    state: &mut State,
    outbound: &mpsc::Sender<FindingBatch>,
    batch: FindingBatch,
) -> Result<(), String> {
    state.report.batch_sends += 1;
    uploader
        .progress
        .batches_sent
        .fetch_add(1, Ordering::Relaxed);
    let sent = outbound.try_send(batch.clone());
    state.pending.push_back(Pending {
        batch,
        sent_at: Instant::now(),
    });
    // The channel holds at most the pending batches and has room for all of them, so the
    // only possible failure is a closed stream.
    sent.map_err(|_| "the request stream closed".to_owned())
}

/// Classifies a status that ended the stream. A response that is not gRPC at all, before
/// the upload's first acknowledgement, is fatal too: the address names another HTTP server
/// (such as the REST port), and no retry can fix that.
fn status_end(status: Status, state: &State) -> End {
    match status.code() {
        Code::Unauthenticated
        | Code::PermissionDenied
        | Code::InvalidArgument
        | Code::Unimplemented => End::Fatal(status),
        Code::Internal if state.report.batches == 0 && not_grpc(&status) => {
            End::Fatal(Status::internal(format!(
                "the coordinator returned INTERNAL before acknowledging any batch ({}): check \
                 that --coordinator names the gRPC address (such as http://127.0.0.1:50051), \
                 not the REST one",
                status.message()
            )))
        }
        code => End::Retry(format!("{code:?}: {}", status.message())),
    }
}

/// Returns whether the client library reported the response as something other than gRPC:
/// a body that is not gRPC framing (a JSON page starts with `{`, an invalid compression
/// flag) or a content type other than `application/grpc`.
fn not_grpc(status: &Status) -> bool {
    let message = status.message();
    message.contains("compression flag") || message.contains("content-type")
}

/// Runs one connection until the upload is done or the stream breaks.
pub(super) async fn run(
    uploader: &Uploader,
    state: &mut State,
    findings: &mut mpsc::Receiver<Finding>,
) -> End {
    let channel = match uploader.endpoint.connect().await {
        Ok(channel) => channel,
        Err(error) => return End::Retry(format!("connecting failed: {error}")),
    };
    let mut client = IngestClient::new(channel)
        .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(proto::MAX_MESSAGE_BYTES);

    // One slot more than the pending limit, so a send never finds the channel full.
    let (outbound, requests) = mpsc::channel(state.max_unacked + 1);
    let resent = state.pending.len();
    for pending in &mut state.pending {
        if outbound.try_send(pending.batch.clone()).is_err() {
            return End::Retry("the request stream closed".to_owned());
        }
        pending.sent_at = Instant::now();
    }
    if resent > 0 {
        state.report.batch_sends += resent as u64;
        uploader
            .progress
            .batches_sent
            .fetch_add(resent as u64, Ordering::Relaxed);
        debug!(
            remote.resent_batches = resent,
            "resending unacknowledged batches"
        );
    }

    let mut request = tonic::Request::new(ReceiverStream::new(requests));
    request
        .metadata_mut()
        .insert("authorization", uploader.authorization.clone());
    let mut acks = match client.stream_findings(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return status_end(status, state),
    };

    let mut outbound = Some(outbound);
    loop {
        if state.finished() {
            // Closing the request stream lets the server end the call cleanly.
            outbound = None;
        }
        let can_read = !state.input_closed && state.pending.len() < state.max_unacked;
        let linger = state.linger_deadline;
        let ready = tokio::select! {
            ack = acks.message() => match ack {
                Ok(Some(ack)) => {
                    if let Err(reason) = state.apply_ack(uploader, ack) {
                        return End::Retry(reason);
                    }
                    None
                }
                Ok(None) if outbound.is_none() => return End::Done,
                Ok(None) => return End::Retry("the coordinator ended the stream".to_owned()),
                // Everything is acknowledged, so nothing is lost if the close fails.
                Err(_) if state.finished() => return End::Done,
                Err(status) => return status_end(status, state),
            },
            finding = findings.recv(), if can_read => match finding {
                Some(finding) => state.push(uploader, finding),
                None => {
                    state.input_closed = true;
                    (!state.builder.is_empty()).then(|| state.close_batch(uploader))
                }
            },
            () = sleep_until(linger), if can_read && linger.is_some() => {
                Some(state.close_batch(uploader))
            }
        };
        if let Some(batch) = ready {
            let Some(sender) = &outbound else {
                return End::Retry("the request stream closed".to_owned());
            };
            if let Err(reason) = send(uploader, state, sender, batch) {
                return End::Retry(reason);
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_state() -> State {
        State::new(&RemoteConfig::new("http://127.0.0.1:1", "token"))
    }

    #[test]
    fn non_grpc_answer_before_first_ack_is_fatal() {
        let mut state = new_state();
        let internal = || Status::internal("protocol error: invalid compression flag: 123");

        let first = status_end(internal(), &state);
        state.report.batches = 1;
        let later = status_end(internal(), &state);

        let End::Fatal(status) = first else {
            panic!("INTERNAL before any acknowledgement must end the upload");
        };
        assert!(
            status.message().contains("gRPC address"),
            "{}",
            status.message()
        );
        assert!(matches!(later, End::Retry(_)));
        let reset = status_end(
            Status::internal("h2 protocol error: stream reset"),
            &new_state(),
        );
        assert!(matches!(reset, End::Retry(_)));
    }
}
