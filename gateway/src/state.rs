//! Configuration and shared state of the gateway.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use coordinator::Coordinator;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rule_book::RuleBook;
use store::Store;

/// Default lifetime of a session token: 12 hours.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// Default sustained request rate per tenant, in requests per second.
pub const DEFAULT_RATE_PER_SECOND: u32 = 50;

/// Default burst of requests a tenant may send above the sustained rate.
pub const DEFAULT_RATE_BURST: u32 = 100;

/// Default maximum request body: 64 KiB, ample for every JSON body the API
/// accepts.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Operator settings of the gateway. Its `Debug` output hides the metrics
/// token and the secret key.
#[derive(Clone)]
pub struct GatewayConfig {
    /// Folder under which `POST /api/v1/scans` may scan server-side paths;
    /// `None` turns scanning through the API off.
    pub scan_root: Option<PathBuf>,
    /// Lifetime of a session token.
    pub session_ttl: Duration,
    /// Sustained requests per second per tenant.
    pub rate_per_second: NonZeroU32,
    /// Burst of requests per tenant above the sustained rate.
    pub rate_burst: NonZeroU32,
    /// Maximum request body in bytes.
    pub body_limit_bytes: usize,
    /// Handle of the installed Prometheus recorder; `GET /metrics` is 404
    /// without one.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Bearer token a scrape of `GET /metrics` must send; `None` leaves the
    /// route open to anyone who can reach the listener.
    pub metrics_token: Option<String>,
    /// Key that encrypts connector secrets; without it the API rejects
    /// requests that carry a secret.
    pub secret_key: Option<crate::secrets::SecretKey>,
    /// Private, loopback or link-local networks webhooks may reach anyway.
    pub webhook_allow: Vec<crate::webhooks::AllowedNetwork>,
    /// Wait before the second delivery attempt; later waits double.
    pub webhook_retry_base: Duration,
    /// Attempts per event before it is marked failed.
    pub webhook_max_attempts: u32,
    /// Interval between dispatcher rounds.
    pub webhook_poll_interval: Duration,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GatewayConfig")
            .field("scan_root", &self.scan_root)
            .field("session_ttl", &self.session_ttl)
            .field("rate_per_second", &self.rate_per_second)
            .field("rate_burst", &self.rate_burst)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("metrics", &self.metrics.is_some())
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| ".."))
            .field("secret_key", &self.secret_key)
            .field("webhook_allow", &self.webhook_allow)
            .field("webhook_retry_base", &self.webhook_retry_base)
            .field("webhook_max_attempts", &self.webhook_max_attempts)
            .field("webhook_poll_interval", &self.webhook_poll_interval)
            .finish()
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            scan_root: None,
            session_ttl: DEFAULT_SESSION_TTL,
            rate_per_second: NonZeroU32::new(DEFAULT_RATE_PER_SECOND).unwrap_or(NonZeroU32::MIN),
            rate_burst: NonZeroU32::new(DEFAULT_RATE_BURST).unwrap_or(NonZeroU32::MIN),
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
            metrics: None,
            metrics_token: None,
            secret_key: None,
            webhook_allow: Vec::new(),
            webhook_retry_base: Duration::from_secs(10),
            webhook_max_attempts: 8,
            webhook_poll_interval: Duration::from_secs(2),
        }
    }
}

/// State shared by every request handler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    coordinator: Arc<Coordinator>,
    rule_book: Arc<RuleBook>,
    config: GatewayConfig,
    /// Request budgets, keyed by tenant path, and sign-in budgets keyed by
    /// client address.
    limiter: DefaultKeyedRateLimiter<String>,
}

impl AppState {
    /// Creates the state; `config.scan_root` must already be canonical.
    pub fn new(
        store: Store,
        coordinator: Arc<Coordinator>,
        rule_book: Arc<RuleBook>,
        config: GatewayConfig,
    ) -> AppState {
        let quota = Quota::per_second(config.rate_per_second).allow_burst(config.rate_burst);
        AppState {
            inner: Arc::new(Inner {
                store,
                coordinator,
                rule_book,
                limiter: RateLimiter::keyed(quota),
                config,
            }),
        }
    }

    /// Returns the application's database pool.
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Returns the handle of the actor tree that runs scans.
    pub(crate) fn coordinator(&self) -> &Coordinator {
        &self.inner.coordinator
    }

    /// Returns the loaded rule book.
    pub(crate) fn rule_book(&self) -> &RuleBook {
        &self.inner.rule_book
    }

    /// Returns the operator settings.
    pub(crate) fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    /// Drops rate-limiter entries of keys idle long enough to be back at a
    /// full budget, so keys from sign-in attempts do not accumulate.
    pub(crate) fn forget_idle_rate_limits(&self) {
        self.inner.limiter.retain_recent();
        self.inner.limiter.shrink_to_fit();
    }

    /// Returns the per-tenant rate limiter.
    pub(crate) fn limiter(&self) -> &DefaultKeyedRateLimiter<String> {
        &self.inner.limiter
    }
}
