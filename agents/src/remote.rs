//! Streams findings to a remote coordinator over `secruna.v1.Ingest/StreamFindings`.
//!
//! [`Uploader::run`] groups findings into numbered batches, sends them on one stream and
//! keeps every batch until its acknowledgement arrives; the server acknowledges a batch
//! only once it is committed. When the connection breaks or the stream ends early, the
//! uploader reconnects after a jittered exponential backoff and resends every batch not
//! yet acknowledged. The server upserts findings on `(tenant, source, external_id)`, so a
//! batch that was stored but whose acknowledgement was lost is stored once, not twice.
//!
//! Memory stays bounded: at most [`RemoteConfig::max_unacked_batches`] batches wait for an
//! acknowledgement, and the channel from [`finding_channel`] blocks producers when full.

mod batch;
mod crawl;
mod session;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proto::Finding;
use tokio::sync::mpsc;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;
use tracing::warn;

use crate::FindingSink;

pub use crawl::{CrawlOutcome, crawl_sources};

/// Default findings per batch.
pub const DEFAULT_BATCH_SIZE: usize = 500;

/// Default number of batches that may wait for an acknowledgement.
pub const DEFAULT_MAX_UNACKED_BATCHES: usize = 16;

/// Maximum rejections kept in an [`UploadReport`]; later ones are only counted.
pub const MAX_REPORTED_REJECTIONS: usize = 1000;

/// Settings of an [`Uploader`].
#[derive(Clone)]
pub struct RemoteConfig {
    /// Coordinator gRPC address, e.g. `http://coordinator.internal:50051`.
    pub endpoint: String,
    /// API token with write access; sent as `authorization: Bearer <token>`.
    pub token: String,
    /// Findings per batch, from 1 to [`proto::MAX_FINDINGS_PER_BATCH`]. A batch is also
    /// closed early when it would exceed [`proto::MAX_MESSAGE_BYTES`].
    pub batch_size: usize,
    /// Batches sent but not yet acknowledged before the uploader stops reading findings.
    pub max_unacked_batches: usize,
    /// Time a partly filled batch waits for more findings before it is sent.
    pub linger: Duration,
    /// Delays between reconnection attempts.
    pub backoff: Backoff,
    /// Timeout of one TCP and HTTP/2 connection attempt.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("endpoint", &self.endpoint)
            .field("token", &"<redacted>")
            .field("batch_size", &self.batch_size)
            .field("max_unacked_batches", &self.max_unacked_batches)
            .field("linger", &self.linger)
            .field("backoff", &self.backoff)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl RemoteConfig {
    /// Creates a config with the default batching and backoff.
    pub fn new(endpoint: impl Into<String>, token: impl Into<String>) -> Self {
        RemoteConfig {
            endpoint: endpoint.into(),
            token: token.into(),
            batch_size: DEFAULT_BATCH_SIZE,
            max_unacked_batches: DEFAULT_MAX_UNACKED_BATCHES,
            linger: Duration::from_millis(200),
            backoff: Backoff::default(),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Jittered exponential backoff between reconnection attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay before the first retry.
    pub initial: Duration,
    /// Upper bound of any delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// Returns the delay before retry number `attempt` (from 1): a random value between
    /// half and all of `initial * 2^(attempt - 1)`, capped at `max`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = self.initial.saturating_mul(1 << exponent).min(self.max);
        let half = ceiling / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Counters of a running upload, for a progress display.
#[derive(Debug, Default)]
pub struct UploadProgress {
    /// Batches sent, resends included.
    pub batches_sent: AtomicU64,
    /// Distinct findings put into a batch.
    pub findings_sent: AtomicU64,
    /// Findings the coordinator stored.
    pub findings_acknowledged: AtomicU64,
    /// Findings rejected by the coordinator or before sending.
    pub findings_rejected: AtomicU64,
    /// Reconnections after a broken connection or stream.
    pub reconnects: AtomicU64,
}

/// A finding that was not stored, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Idempotency key of the finding; empty when the whole batch was rejected.
    pub idempotency_key: String,
    /// Field at fault, e.g. `finding.kind`; empty when the finding as a whole failed.
    pub field: String,
    /// The coordinator's message.
    pub message: String,
}

/// Result of a finished upload.
#[derive(Debug, Clone, Default)]
pub struct UploadReport {
    /// Distinct batches acknowledged (a resent batch counts once).
    pub batches: u64,
    /// Batch sends, resends included.
    pub batch_sends: u64,
    /// Distinct findings put into a batch.
    pub findings_sent: u64,
    /// Findings the coordinator stored.
    pub findings_acknowledged: u64,
    /// Findings rejected by the coordinator or before sending; never resent.
    pub findings_rejected: u64,
    /// Findings dropped because one with the same source and external id was sent before.
    pub duplicates_skipped: u64,
    /// Reconnections after a broken connection or stream.
    pub reconnects: u64,
    /// The first [`MAX_REPORTED_REJECTIONS`] rejections.
    pub rejections: Vec<Rejection>,
    /// Time from the last send of each batch to its acknowledgement, in ack order.
    pub ack_latencies: Vec<Duration>,
}

/// Error that ends an upload.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The endpoint is not a valid URI.
    #[error("coordinator address `{endpoint}` is invalid: {message}; use e.g. http://host:50051")]
    InvalidEndpoint {
        /// The address as given.
        endpoint: String,
        /// Parser message.
        message: String,
    },
    /// The token cannot be sent as gRPC metadata.
    #[error("the token contains characters not allowed in a header; copy it again")]
    InvalidToken,
    /// A setting is out of range.
    #[error("{0}")]
    InvalidConfig(String),
    /// The coordinator rejected the whole stream with a status no retry can fix.
    #[error("the coordinator rejected the stream with {code:?}: {message}")]
    Rejected {
        /// gRPC status code: `Unauthenticated`, `PermissionDenied`, `InvalidArgument` or
        /// `Unimplemented`.
        code: Code,
        /// The coordinator's message.
        message: String,
    },
}

/// Creates a bounded channel of findings and a [`FindingSink`] that feeds it.
///
/// The sink blocks its caller while the channel is full, so crawls slow down to the
/// upload rate. From a tokio worker thread it blocks through
/// [`tokio::task::block_in_place`], so it must run on a multi-threaded runtime.
pub fn finding_channel(capacity: usize) -> (FindingSink, mpsc::Receiver<Finding>) {
    let (sender, receiver) = mpsc::channel(capacity.max(1));
    let warned = std::sync::atomic::AtomicBool::new(false);
    let sink: FindingSink = Arc::new(move |finding| {
        let sent = match sender.try_send(finding) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(finding)) => {
                tokio::task::block_in_place(|| sender.blocking_send(finding).map_err(|_| ()))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(()),
        };
        if sent.is_err() && !warned.swap(true, Ordering::Relaxed) {
            warn!("findings arrive after the upload stopped; they are not sent");
        }
    });
    (sink, receiver)
}

/// Sends findings to a coordinator; see the module documentation.
#[derive(Debug)]
pub struct Uploader {
    config: RemoteConfig,
    endpoint: Endpoint,
    authorization: MetadataValue<tonic::metadata::Ascii>,
    progress: Arc<UploadProgress>,
}

impl Uploader {
    /// Checks the config and creates an uploader; it connects on [`Uploader::run`].
    pub fn new(config: RemoteConfig) -> Result<Uploader, RemoteError> {
        if config.batch_size == 0 || config.batch_size > proto::MAX_FINDINGS_PER_BATCH {
            return Err(RemoteError::InvalidConfig(format!(
                "batch size {} is out of range: use 1 to {}",
                config.batch_size,
                proto::MAX_FINDINGS_PER_BATCH
            )));
        }
        if config.max_unacked_batches == 0 {
            return Err(RemoteError::InvalidConfig(
                "max unacknowledged batches is 0: use at least 1".to_owned(),
            ));
        }
        // The client is built without TLS. Given an https:// address it would still speak
        // plain HTTP/2 and send the token in clear text, so only http:// is accepted.
        if let Some((scheme, _)) = config.endpoint.split_once("://")
            && !scheme.eq_ignore_ascii_case("http")
        {
            return Err(RemoteError::InvalidEndpoint {
                endpoint: config.endpoint.clone(),
                message: format!(
                    "scheme `{scheme}` is not supported: the agent speaks plain HTTP/2 only, so \
                     use http:// on a private network, or a local TLS tunnel (such as stunnel) \
                     whose http:// address forwards to the coordinator"
                ),
            });
        }
        let endpoint = Endpoint::from_shared(config.endpoint.clone())
            .map_err(|error| RemoteError::InvalidEndpoint {
                endpoint: config.endpoint.clone(),
                message: error.to_string(),
            })?
            .connect_timeout(config.connect_timeout)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true);
        let authorization = format!("Bearer {}", config.token)
            .parse()
            .map_err(|_| RemoteError::InvalidToken)?;
        Ok(Uploader {
            config,
            endpoint,
            authorization,
            progress: Arc::new(UploadProgress::default()),
        })
    }

    /// Returns the live counters of this upload.
    pub fn progress(&self) -> Arc<UploadProgress> {
        self.progress.clone()
    }

    /// Sends every finding of `findings` until the channel closes and every batch is
    /// acknowledged, reconnecting as often as needed. Returns an error only when the
    /// coordinator rejects the stream itself (bad token, missing access).
    pub async fn run(
        self,
        mut findings: mpsc::Receiver<Finding>,
    ) -> Result<UploadReport, RemoteError> {
        let mut state = session::State::new(&self.config);
        let mut failures: u32 = 0;
        loop {
            let outcome = session::run(&self, &mut state, &mut findings).await;
            match outcome {
                session::End::Done => break,
                session::End::Fatal(status) => {
                    return Err(RemoteError::Rejected {
                        code: status.code(),
                        message: status.message().to_owned(),
                    });
                }
                session::End::Retry(reason) => {
                    failures = if state.take_acked_flag() {
                        1
                    } else {
                        failures + 1
                    };
                    state.report.reconnects += 1;
                    self.progress.reconnects.fetch_add(1, Ordering::Relaxed);
                    let delay = self.config.backoff.delay(failures);
                    warn!(
                        remote.endpoint = %self.config.endpoint,
                        remote.unacked_batches = state.num_pending(),
                        retry.attempt = failures,
                        retry.delay_ms = delay.as_millis() as u64,
                        "stream to the coordinator broke ({reason}); reconnecting"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
        Ok(state.report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let first = backoff.delay(1);
            assert!(first >= Duration::from_millis(50), "{first:?}");
            assert!(first <= Duration::from_millis(100), "{first:?}");
            let third = backoff.delay(3);
            assert!(third >= Duration::from_millis(200), "{third:?}");
            assert!(third <= Duration::from_millis(400), "{third:?}");
            let late = backoff.delay(40);
            assert!(late >= Duration::from_millis(500), "{late:?}");
            assert!(late <= Duration::from_secs(1), "{late:?}");
        }
    }

    #[test]
    fn oversized_batch_size_is_rejected() {
        let mut config = RemoteConfig::new("http://127.0.0.1:1", "t");
        config.batch_size = proto::MAX_FINDINGS_PER_BATCH + 1;

        let error = Uploader::new(config).unwrap_err().to_string();

        assert!(error.contains("batch size 1001 is out of range"), "{error}");
    }

    #[test]
    fn https_endpoint_is_rejected() {
        let error = Uploader::new(RemoteConfig::new("https://127.0.0.1:50051", "t"))
            .unwrap_err()
            .to_string();

        assert!(error.contains("scheme `https` is not supported"), "{error}");
    }

    #[test]
    fn relative_endpoint_is_rejected() {
        let error = Uploader::new(RemoteConfig::new("not a uri", "t"))
            .unwrap_err()
            .to_string();

        assert!(error.contains("`not a uri` is invalid"), "{error}");
    }
}
