//! Bearer-token authentication and per-tenant rate limiting of every gRPC call.
//!
//! A tower layer, not a tonic interceptor, because looking the token up in Postgres is
//! async. Health and reflection calls pass without a token, so load balancers and
//! `grpcurl list` work unauthenticated; they expose no tenant data.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use store::{Store, TenantContext, TenantPath};
use tonic::Status;
use tonic::codegen::http;
use tracing::warn;
use uuid::Uuid;

use super::GrpcState;

pub use store::sessions::Access;

/// Histogram of the time until a call's response starts, by method: the whole call for a
/// unary RPC, the setup for a streaming one.
const GRPC_DURATION: &str = "secruna_grpc_request_duration_seconds";

/// Counter of calls rejected before reaching a service, by status code.
const GRPC_REJECTED: &str = "secruna_grpc_requests_rejected_total";

/// Registers the descriptions of the layer's metrics.
pub(crate) fn describe_metrics() {
    metrics::describe_histogram!(
        GRPC_DURATION,
        metrics::Unit::Seconds,
        "time until a gRPC call's response starts, by method"
    );
    metrics::describe_counter!(
        GRPC_REJECTED,
        "gRPC calls rejected by authentication or rate limiting, by status code"
    );
}

/// Path prefixes of the services that need no token.
const PUBLIC_PREFIXES: [&str; 2] = ["/grpc.health.v1.", "/grpc.reflection."];

/// The authenticated caller of a gRPC call, stored in the request extensions.
#[derive(Debug, Clone)]
pub struct Principal {
    /// `user` or `token`.
    pub kind: String,
    /// User id or API token id.
    pub id: Uuid,
    /// Tenant the token was bound to when issued.
    pub tenant: TenantContext,
    /// Access level from the user's role or the token's scope.
    pub access: Access,
}

impl Principal {
    /// Rejects the call with `PERMISSION_DENIED` unless the principal has `needed` access.
    pub fn require(&self, needed: Access) -> Result<(), Status> {
        if self.access >= needed {
            return Ok(());
        }
        Err(Status::permission_denied(format!(
            "this call needs {} access, and the bearer token has {} access; use a token of a \
             user or scope that has it",
            needed.as_str(),
            self.access.as_str()
        )))
    }

    /// Returns the actor recorded in audit rows and on scans, e.g. `token:<id>`.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.kind, self.id)
    }

    /// Returns the principal that [`AuthLayer`] stored on the request.
    pub(crate) fn of<T>(request: &tonic::Request<T>) -> Result<Principal, Status> {
        request
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| Status::internal("the call reached a service without authentication"))
    }
}

/// Token lookup and rate limiter shared by every call through the layer.
struct Authenticator {
    store: Store,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Authenticator {
    /// Resolves the bearer token of a call and takes a rate-limit permit for its tenant.
    async fn check(&self, headers: &http::HeaderMap) -> Result<Principal, Status> {
        let token = bearer_token(headers)?;
        let found = self
            .store
            .authenticate_bearer(token)
            .await
            .map_err(|error| {
                warn!(%error, "authenticating a gRPC call failed");
                Status::unavailable("the database is unavailable; retry later")
            })?;
        let Some(row) = found else {
            return Err(Status::unauthenticated(
                "the bearer token is unknown, expired or revoked; request a new token",
            ));
        };
        let principal = principal(row)?;
        if self
            .limiter
            .check_key(&principal.tenant.path().as_str().to_owned())
            .is_err()
        {
            return Err(Status::resource_exhausted(
                "the tenant's rate limit is exceeded; retry after a short delay",
            ));
        }
        Ok(principal)
    }
}

/// Reads the token from `authorization: Bearer <token>`.
pub(crate) fn bearer_token(headers: &http::HeaderMap) -> Result<&str, Status> {
    let value = headers.get(http::header::AUTHORIZATION).ok_or_else(|| {
        Status::unauthenticated(
            "metadata `authorization` is missing: send `authorization: Bearer <token>`",
        )
    })?;
    let text = value.to_str().map_err(|_| {
        Status::unauthenticated("metadata `authorization` is not ASCII: send `Bearer <token>`")
    })?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty());
    token.ok_or_else(|| {
        Status::unauthenticated(
            "metadata `authorization` is not a bearer token: send `Bearer <token>`",
        )
    })
}

/// Builds the principal from the token's row.
fn principal(row: store::sessions::TokenPrincipal) -> Result<Principal, Status> {
    let path = TenantPath::from_ltree(&row.tenant_path).map_err(|error| {
        Status::internal(format!("the token's tenant path is invalid: {error}"))
    })?;
    let access = Access::from_role(&row.role).ok_or_else(|| {
        Status::permission_denied(format!("the token's role `{}` grants no access", row.role))
    })?;
    Ok(Principal {
        kind: row.principal_type,
        id: row.principal_id,
        tenant: TenantContext::new(path),
        access,
    })
}

/// Tower layer that authenticates and rate-limits every call except health and
/// reflection.
#[derive(Clone)]
pub(crate) struct AuthLayer {
    authenticator: Arc<Authenticator>,
}

impl AuthLayer {
    /// Creates the layer with a rate limiter from the server settings.
    pub(crate) fn new(state: &GrpcState) -> Self {
        let quota = Quota::per_second(state.config.rate_per_second)
            .allow_burst(state.config.rate_burst.max(NonZeroU32::MIN));
        AuthLayer {
            authenticator: Arc::new(Authenticator {
                store: state.store.clone(),
                limiter: RateLimiter::keyed(quota),
            }),
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

/// Service built by [`AuthLayer`].
#[derive(Clone)]
pub(crate) struct AuthService<S> {
    inner: S,
    authenticator: Arc<Authenticator>,
}

impl<S, B> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone is not ready; swap it in so the ready service serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let authenticator = self.authenticator.clone();
        Box::pin(async move {
            let started = std::time::Instant::now();
            let method = request.uri().path().to_owned();
            if PUBLIC_PREFIXES
                .iter()
                .any(|prefix| method.starts_with(prefix))
            {
                return inner.call(request).await;
            }
            let response = match authenticator.check(request.headers()).await {
                Ok(principal) => {
                    request.extensions_mut().insert(principal);
                    inner.call(request).await
                }
                Err(status) => {
                    let code = format!("{:?}", status.code());
                    metrics::counter!(GRPC_REJECTED, "code" => code).increment(1);
                    Ok(status.into_http())
                }
            };
            metrics::histogram!(GRPC_DURATION, "method" => method)
                .record(started.elapsed().as_secs_f64());
            response
        })
    }
}
