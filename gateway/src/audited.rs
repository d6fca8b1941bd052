//! Transactions handed to request handlers.
//!
//! A handler that only reads takes a [`ReadTx`]: a read-only transaction, so
//! Postgres rejects any write in it. A handler that changes data takes an
//! [`AuditedTx`], whose [`AuditedTx::commit`] fails unless an audit row was
//! appended in the same transaction, so a change and its audit row commit
//! together or not at all. Both open the transaction with the tenant of the
//! bearer token; no request parameter can name another tenant.

use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use store::audit::AuditEntry;
use store::{TenantContext, TenantTx};

use crate::auth::{Access, Principal};
use crate::problem::ApiError;
use crate::state::AppState;

/// Header carrying the request id; set by the gateway when the client sends none.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Maximum length of a client-supplied request id that is recorded.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Maximum length of a user agent that is recorded.
const MAX_USER_AGENT_LEN: usize = 512;

/// Flag set when a request commits an [`AuditedTx`], so the request log can
/// report a successful mutating request that wrote no audit row.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditFlag(Arc<AtomicBool>);

impl AuditFlag {
    /// Tells whether an audited transaction of the request has committed.
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Origin of a request, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// Client address of the TCP connection.
    pub ip: Option<IpAddr>,
    /// `User-Agent` header, cut to 512 bytes.
    pub user_agent: Option<String>,
    /// `x-request-id` header, when it is 1 to 128 characters of `[A-Za-z0-9._-]`.
    pub request_id: Option<String>,
    /// Flag of the request log middleware; a detached flag outside it.
    audit_flag: AuditFlag,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|value| truncate(value, MAX_USER_AGENT_LEN));
        let request_id = parts
            .headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|value| is_valid_request_id(value))
            .map(str::to_owned);
        let audit_flag = parts
            .extensions
            .get::<AuditFlag>()
            .cloned()
            .unwrap_or_default();
        Ok(RequestMeta {
            ip,
            user_agent,
            request_id,
            audit_flag,
        })
    }
}

fn is_valid_request_id(value: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

fn truncate(value: &str, max_len: usize) -> String {
    let mut end = value.len().min(max_len);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_owned()
}

/// A read-only transaction in the principal's tenant.
pub struct ReadTx {
    /// The transaction; dropped (rolled back) at the end of the request.
    pub tx: TenantTx,
    /// The authenticated caller.
    pub principal: Principal,
}

impl FromRequestParts<AppState> for ReadTx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let tx = state.store().begin_read_only(&principal.tenant).await?;
        Ok(ReadTx { tx, principal })
    }
}

/// Access level an [`AuditedTx`] extractor demands, as a type so each route
/// states it in its signature.
pub trait RequiredAccess: Send + Sync + 'static {
    /// Level the principal must have.
    const LEVEL: Access;
}

/// Any signed-in principal, auditors included (used to sign out).
#[derive(Debug)]
pub struct AnyAccess;

impl RequiredAccess for AnyAccess {
    const LEVEL: Access = Access::Read;
}

/// Members, admins, and `write` or `admin` tokens.
#[derive(Debug)]
pub struct WriteAccess;

impl RequiredAccess for WriteAccess {
    const LEVEL: Access = Access::Write;
}

/// Admins and `admin` tokens.
#[derive(Debug)]
pub struct AdminAccess;

impl RequiredAccess for AdminAccess {
    const LEVEL: Access = Access::Admin;
}

/// A write transaction in the principal's tenant that commits only with an
/// audit row.
pub struct AuditedTx<A: RequiredAccess = WriteAccess> {
    tx: TenantTx,
    actor_type: String,
    actor_id: String,
    principal: Option<Principal>,
    meta: RequestMeta,
    num_audit_rows: u32,
    access: PhantomData<A>,
}

impl<A: RequiredAccess> FromRequestParts<AppState> for AuditedTx<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require(A::LEVEL)?;
        let Ok(meta) = RequestMeta::from_request_parts(parts, state).await;
        let tx = state.store().begin(&principal.tenant).await?;
        Ok(AuditedTx {
            tx,
            actor_type: principal.kind.as_str().to_owned(),
            actor_id: principal.id.to_string(),
            principal: Some(principal),
            meta,
            num_audit_rows: 0,
            access: PhantomData,
        })
    }
}

impl AuditedTx<AnyAccess> {
    /// Opens a transaction for a request without a bearer token (signing
    /// in); the actor is set with [`AuditedTx::set_actor`] once known.
    pub(crate) async fn begin_unauthenticated(
        state: &AppState,
        tenant: &TenantContext,
        meta: RequestMeta,
    ) -> Result<AuditedTx<AnyAccess>, ApiError> {
        let tx = state.store().begin(tenant).await?;
        Ok(AuditedTx {
            tx,
            actor_type: "anonymous".to_owned(),
            actor_id: String::new(),
            principal: None,
            meta,
            num_audit_rows: 0,
            access: PhantomData,
        })
    }

    /// Sets the actor recorded by later audit rows.
    pub(crate) fn set_actor(&mut self, actor_type: &str, actor_id: String) {
        self.actor_type = actor_type.to_owned();
        self.actor_id = actor_id;
    }
}

impl<A: RequiredAccess> AuditedTx<A> {
    /// Returns the transaction, for store calls that make the change.
    pub fn tx(&mut self) -> &mut TenantTx {
        &mut self.tx
    }

    /// Returns the authenticated caller; `None` while signing in.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// Returns the request's origin.
    pub fn meta(&self) -> &RequestMeta {
        &self.meta
    }

    /// Appends an audit row for the change, with the actor and the request's
    /// address, user agent and id.
    pub async fn record(
        &mut self,
        entity_type: &str,
        entity_id: &str,
        action: &str,
        diff: serde_json::Value,
    ) -> Result<(), ApiError> {
        let entry = AuditEntry {
            actor_type: self.actor_type.clone(),
            actor_id: self.actor_id.clone(),
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.to_owned(),
            action: action.to_owned(),
            diff,
            ip: self.meta.ip,
            user_agent: self.meta.user_agent.clone(),
            request_id: self.meta.request_id.clone(),
        };
        let event = serde_json::json!({
            "entity_type": entry.entity_type,
            "entity_id": entry.entity_id,
            "action": entry.action,
            "actor_type": entry.actor_type,
            "actor_id": entry.actor_id,
            "request_id": entry.request_id,
        });
        store::audit::append(&mut self.tx, entry).await?;
        store::webhooks::raise(&mut self.tx, "audit.appended", &event).await?;
        self.num_audit_rows += 1;
        Ok(())
    }

    /// Commits the change and its audit rows; rolls back and fails when no
    /// audit row was appended.
    pub async fn commit(self) -> Result<(), ApiError> {
        if self.num_audit_rows == 0 {
            self.tx.rollback().await?;
            return Err(ApiError::Internal(
                "a mutation tried to commit without an audit row; the change was rolled back"
                    .to_owned(),
            ));
        }
        self.tx.commit().await?;
        self.meta.audit_flag.set();
        Ok(())
    }
}
