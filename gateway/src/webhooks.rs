//! Webhook delivery: the signed sending of outbox events and the dispatcher
//! task that retries them. [`store::webhooks::raise`] writes the events.
//!
//! A body is serialised once, when the event is raised, and stored in the
//! outbox. Every attempt sends those exact bytes with the same event id, a
//! fresh timestamp and `HMAC-SHA256(secret, "<timestamp>.<body>")`.

mod destination;

use std::time::{Duration, Instant};

use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore;
use chrono::Utc;
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use store::TenantContext;
use store::webhooks::{Attempt, DueEvent, NextStep};
use uuid::Uuid;

pub(crate) use destination::resolve_allowed;
pub use destination::{AllowedNetwork, InvalidNetwork};

use crate::problem::ApiError;
use crate::state::AppState;

/// Event types an endpoint can subscribe to.
pub const EVENT_TYPES: [&str; 7] = [
    "scan.completed",
    "scan.failed",
    "system.discovered",
    "system.risk_changed",
    "verdict.changed",
    "review.requested",
    "audit.appended",
];

/// Event type of the deliveries sent by `POST /api/v1/webhooks/{id}/test`.
pub const TEST_EVENT: &str = "webhook.test";

/// Header with the event id, the same on every attempt.
pub const EVENT_ID_HEADER: &str = "x-secruna-event-id";
/// Header with the event type.
pub const EVENT_TYPE_HEADER: &str = "x-secruna-event";
/// Header with the attempt's Unix time in seconds, covered by the signature.
pub const TIMESTAMP_HEADER: &str = "x-secruna-timestamp";
/// Header with `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub const SIGNATURE_HEADER: &str = "x-secruna-signature";

/// Maximum time of one delivery attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Events a dispatcher leases per tenant and round.
const LEASE_BATCH: i64 = 32;

/// Seconds a leased event stays hidden from other dispatchers.
const LEASE_SECS: i64 = 120;

/// Maximum wait between two attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// Computes the signature header value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Result of one delivery attempt.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) response_status: Option<u16>,
    pub(crate) error: Option<String>,
    /// Whether a retry cannot help (the destination is refused).
    pub(crate) permanent: bool,
    pub(crate) duration: Duration,
}

impl Outcome {
    pub(crate) fn is_delivered(&self) -> bool {
        self.response_status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// Sends `body` to `url` once, signed with `secret`.
pub(crate) async fn send(
    state: &AppState,
    url: &str,
    secret: &[u8],
    event_id: Uuid,
    event_type: &str,
    body: &[u8],
) -> Outcome {
    let started = Instant::now();
    let finish = |response_status, error: Option<String>, permanent| Outcome {
        response_status,
        error,
        permanent,
        duration: started.elapsed(),
    };
    let parsed = match reqwest::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(error) => return finish(None, Some(format!("invalid URL: {error}")), true),
    };
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return finish(None, Some("the URL has no host".to_owned()), true);
    };
    let addresses = match resolve_allowed(host, port, &state.config().webhook_allow).await {
        Ok(addresses) => addresses,
        Err(error) => return finish(None, Some(error), true),
    };
    // Pinning the checked addresses keeps a second DNS answer from sending
    // the request elsewhere; redirects are not followed for the same reason.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(ATTEMPT_TIMEOUT)
        .resolve_to_addrs(host, &addresses)
        .build();
    let client = match client {
        Ok(client) => client,
        Err(error) => {
            return finish(
                None,
                Some(format!("building the HTTP client failed: {error}")),
                false,
            );
        }
    };
    let timestamp = Utc::now().timestamp();
    let request = client
        .post(parsed)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, "secruna-webhooks")
        .header(EVENT_ID_HEADER, event_id.to_string())
        .header(EVENT_TYPE_HEADER, event_type)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, sign(secret, timestamp, body))
        .body(body.to_vec());
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let error = (!response.status().is_success())
                .then(|| format!("the destination answered HTTP {status}"));
            finish(Some(status), error, false)
        }
        Err(error) => finish(None, Some(format!("sending failed: {error}")), false),
    }
}

/// Returns the wait before attempt `attempt + 1`: the base delay doubled per
/// attempt, capped at an hour, times a random factor from 0.5 to 1.
pub(crate) fn retry_delay(base: Duration, attempt: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let capped = doubled.min(MAX_RETRY_DELAY);
    let jitter = 0.5 + f64::from(OsRng.next_u32()) / f64::from(u32::MAX) / 2.0;
    capped.mul_f64(jitter)
}

/// Decides the next step after attempt number `attempt`.
pub(crate) fn next_step(state: &AppState, attempt: u32, outcome: &Outcome) -> NextStep {
    if outcome.is_delivered() {
        NextStep::Delivered
    } else if outcome.permanent || attempt >= state.config().webhook_max_attempts {
        NextStep::Failed
    } else {
        NextStep::RetryAfter(retry_delay(state.config().webhook_retry_base, attempt).as_secs_f64())
    }
}

/// Stores the attempt and the event's next state in one transaction.
pub(crate) async fn record(
    state: &AppState,
    context: &TenantContext,
    event_id: Uuid,
    attempt: u32,
    outcome: &Outcome,
) -> Result<NextStep, store::Error> {
    let next = next_step(state, attempt, outcome);
    let row = Attempt {
        event_id,
        attempt: i32::try_from(attempt).unwrap_or(i32::MAX),
        response_status: outcome.response_status.map(i32::from),
        error: outcome.error.clone(),
        duration_ms: i32::try_from(outcome.duration.as_millis()).unwrap_or(i32::MAX),
    };
    let mut tx = state.store().begin(context).await?;
    store::webhooks::record_attempt(&mut tx, &row, next).await?;
    tx.commit().await?;
    crate::metrics::webhook_attempt(next);
    Ok(next)
}

/// Delivers every due event once and returns how many attempts were made.
pub async fn dispatch_due(state: &AppState) -> Result<usize, ApiError> {
    let mut num_attempts = 0;
    for tenant in store::webhooks::due_tenants(state.store()).await? {
        let context = TenantContext::new(tenant);
        let mut tx = state.store().begin(&context).await?;
        let events = store::webhooks::lease_due(&mut tx, LEASE_BATCH, LEASE_SECS).await?;
        tx.commit().await?;
        for event in events {
            deliver(state, &context, event).await?;
            num_attempts += 1;
        }
    }
    Ok(num_attempts)
}

async fn deliver(
    state: &AppState,
    context: &TenantContext,
    event: DueEvent,
) -> Result<(), ApiError> {
    let attempt = u32::try_from(event.num_attempts).unwrap_or(0) + 1;
    let mut tx = state.store().begin(context).await?;
    let endpoint = store::webhooks::get(&mut tx, event.endpoint_id).await?;
    tx.commit().await?;
    let Some((endpoint, sealed)) = endpoint else {
        return Ok(());
    };
    let outcome = match state
        .config()
        .secret_key
        .as_ref()
        .map(|key| key.open(endpoint.id, &sealed))
    {
        Some(Ok(secret)) => {
            send(
                state,
                &endpoint.url,
                &secret,
                event.id,
                &event.event_type,
                &event.body,
            )
            .await
        }
        Some(Err(error)) => Outcome {
            response_status: None,
            error: Some(error.to_string()),
            permanent: false,
            duration: Duration::ZERO,
        },
        None => Outcome {
            response_status: None,
            error: Some(
                "SECRUNA_SECRET_KEY is not set, so the signing secret cannot be read".to_owned(),
            ),
            permanent: false,
            duration: Duration::ZERO,
        },
    };
    let next = record(state, context, event.id, attempt, &outcome).await?;
    if let Some(error) = &outcome.error {
        tracing::warn!(
            tenant.path = %context.path(),
            webhook.id = %endpoint.id,
            webhook.event_id = %event.id,
            webhook.attempt = attempt,
            next = ?next,
            %error,
            "webhook delivery failed"
        );
    }
    Ok(())
}

/// Runs [`dispatch_due`] every `interval` until the task is aborted.
pub(crate) async fn run_dispatcher(state: AppState, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = dispatch_due(&state).await {
            tracing::warn!(error = ?error, "webhook dispatch round failed; retrying next round");
        }
    }
}
