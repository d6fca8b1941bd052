//! Webhook endpoints, the outbox of events waiting for delivery, and the
//! record of every delivery attempt.
//!
//! Code that changes data calls [`raise`] in its own transaction, so the
//! event commits or rolls back with the change.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tracing::instrument;
use uuid::Uuid;

use crate::connectors::SealedSecret;
use crate::{Error, Store, TenantPath, TenantTx};

/// An endpoint to create in the transaction's tenant.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Endpoint id, chosen by the caller because it is the associated data
    /// of the secret's encryption.
    pub id: Uuid,
    /// Destination URL.
    pub url: String,
    /// `json`, `slack` or `teams`.
    pub format: String,
    /// Event types to deliver.
    pub events: Vec<String>,
    /// Encrypted signing secret.
    pub secret: SealedSecret,
    /// User or token that created it.
    pub created_by: String,
}

/// An endpoint as stored, without its secret.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EndpointRow {
    /// Endpoint id.
    pub id: Uuid,
    /// Owning tenant path.
    pub tenant_path: String,
    /// Destination URL.
    pub url: String,
    /// Body format.
    pub format: String,
    /// Event types delivered.
    pub events: Vec<String>,
    /// Whether new events are queued for the endpoint.
    pub enabled: bool,
    /// Creator.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change through the API.
    pub updated_at: DateTime<Utc>,
}

macro_rules! endpoint_columns {
    () => {
        "id, tenant_path::text AS tenant_path, url, format, events, enabled, created_by, \
         created_at, updated_at"
    };
}

/// Changes to an endpoint; fields left `None` keep their value.
#[derive(Debug, Clone, Default)]
pub struct EndpointUpdate {
    /// New destination URL.
    pub url: Option<String>,
    /// New body format.
    pub format: Option<String>,
    /// New event types.
    pub events: Option<Vec<String>>,
    /// Pause (`false`) or resume (`true`) deliveries.
    pub enabled: Option<bool>,
    /// New encrypted signing secret.
    pub secret: Option<SealedSecret>,
}

/// Updates an endpoint visible to the tenant and returns it, or `None` when
/// there is no such endpoint.
#[instrument(skip_all, name = "store.webhooks.update", fields(tenant.path = %tx.tenant(), webhook.id = %id))]
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    update: &EndpointUpdate,
) -> Result<Option<EndpointRow>, Error> {
    let (nonce, ciphertext) = match &update.secret {
        Some(secret) => (Some(&secret.nonce), Some(&secret.ciphertext)),
        None => (None, None),
    };
    let row = sqlx::query_as(concat!(
        "UPDATE webhook_endpoints SET url = COALESCE($2, url), format = COALESCE($3, format), \
             events = COALESCE($4, events), enabled = COALESCE($5, enabled), \
             secret_nonce = COALESCE($6, secret_nonce), \
             secret_ciphertext = COALESCE($7, secret_ciphertext), updated_at = now() \
         WHERE id = $1 RETURNING ",
        endpoint_columns!()
    ))
    .bind(id)
    .bind(&update.url)
    .bind(&update.format)
    .bind(&update.events)
    .bind(update.enabled)
    .bind(nonce)
    .bind(ciphertext)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// Creates an endpoint in the transaction's own tenant.
#[instrument(skip_all, name = "store.webhooks.create", fields(tenant.path = %tx.tenant(), webhook.id = %endpoint.id))]
pub async fn create(tx: &mut TenantTx, endpoint: &NewEndpoint) -> Result<EndpointRow, Error> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query_as(concat!(
        "INSERT INTO webhook_endpoints (id, tenant_path, url, format, events, secret_nonce, \
         secret_ciphertext, created_by) VALUES ($1, $2::ltree, $3, $4, $5, $6, $7, $8) RETURNING ",
        endpoint_columns!()
    ))
    .bind(endpoint.id)
    .bind(&tenant)
    .bind(&endpoint.url)
    .bind(&endpoint.format)
    .bind(&endpoint.events)
    .bind(&endpoint.secret.nonce)
    .bind(&endpoint.secret.ciphertext)
    .bind(&endpoint.created_by)
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

/// Lists the endpoints visible to the tenant, oldest first.
#[instrument(skip_all, name = "store.webhooks.list", fields(tenant.path = %tx.tenant()))]
pub async fn list(tx: &mut TenantTx) -> Result<Vec<EndpointRow>, Error> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        endpoint_columns!(),
        " FROM webhook_endpoints ORDER BY created_at, id"
    ))
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Returns an endpoint visible to the tenant with its encrypted secret.
#[instrument(skip_all, name = "store.webhooks.get", fields(tenant.path = %tx.tenant(), webhook.id = %id))]
pub async fn get(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<(EndpointRow, SealedSecret)>, Error> {
    let Some(row): Option<EndpointRow> = sqlx::query_as(concat!(
        "SELECT ",
        endpoint_columns!(),
        " FROM webhook_endpoints WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    else {
        return Ok(None);
    };
    let (nonce, ciphertext): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT secret_nonce, secret_ciphertext FROM webhook_endpoints WHERE id = $1",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    Ok(Some((row, SealedSecret { nonce, ciphertext })))
}

/// Deletes an endpoint visible to the tenant, with its pending events.
#[instrument(skip_all, name = "store.webhooks.delete", fields(tenant.path = %tx.tenant(), webhook.id = %id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<Option<EndpointRow>, Error> {
    let row = sqlx::query_as(concat!(
        "DELETE FROM webhook_endpoints WHERE id = $1 RETURNING ",
        endpoint_columns!()
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// Returns the enabled endpoints of the transaction's own tenant (not of
/// its subsidiaries) that subscribe to `event_type`, as `(id, format)`.
#[instrument(skip_all, name = "store.webhooks.subscribers", fields(tenant.path = %tx.tenant(), webhook.event = event_type))]
pub async fn subscribers(
    tx: &mut TenantTx,
    event_type: &str,
) -> Result<Vec<(Uuid, String)>, Error> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query_as(
        "SELECT id, format FROM webhook_endpoints \
         WHERE tenant_path = $1::ltree AND $2 = ANY (events) AND enabled ORDER BY id",
    )
    .bind(&tenant)
    .bind(event_type)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Adds an event for one endpoint to the outbox and returns its event id.
#[instrument(skip_all, name = "store.webhooks.enqueue", fields(tenant.path = %tx.tenant(), webhook.id = %endpoint_id, webhook.event = event_type))]
pub async fn enqueue(
    tx: &mut TenantTx,
    event_id: Uuid,
    endpoint_id: Uuid,
    event_type: &str,
    body: &[u8],
) -> Result<(), Error> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO webhook_outbox (id, tenant_path, endpoint_id, event_type, body) \
         VALUES ($1, $2::ltree, $3, $4, $5)",
    )
    .bind(event_id)
    .bind(&tenant)
    .bind(endpoint_id)
    .bind(event_type)
    .bind(body)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Returns the tenants that have events due for delivery.
#[instrument(skip_all, name = "store.webhooks.due_tenants")]
pub async fn due_tenants(store: &Store) -> Result<Vec<TenantPath>, Error> {
    let paths: Vec<String> =
        sqlx::query_scalar("SELECT tenant_path::text FROM secruna_webhook_due_tenants()")
            .fetch_all(store.pool())
            .await?;
    paths
        .iter()
        .map(|path| TenantPath::from_ltree(path).map_err(Error::from))
        .collect()
}

/// An event leased to a dispatcher.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueEvent {
    /// Event id.
    pub id: Uuid,
    /// Endpoint to deliver to.
    pub endpoint_id: Uuid,
    /// Event type.
    pub event_type: String,
    /// Body as serialised when the event was raised.
    pub body: Vec<u8>,
    /// Attempts made before this one.
    pub num_attempts: i32,
}

/// Leases up to `limit` due events of the transaction's own tenant for
/// `lease_secs` seconds, so no other dispatcher takes them meanwhile, and
/// returns them oldest first.
#[instrument(skip_all, name = "store.webhooks.lease_due", fields(tenant.path = %tx.tenant()))]
pub async fn lease_due(
    tx: &mut TenantTx,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<DueEvent>, Error> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query_as(
        "WITH leased AS (UPDATE webhook_outbox \
             SET next_attempt_at = now() + make_interval(secs => $3) \
             WHERE id IN (SELECT id FROM webhook_outbox WHERE tenant_path = $1::ltree \
                 AND status = 'pending' AND next_attempt_at <= now() \
                 ORDER BY next_attempt_at, created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING id, endpoint_id, event_type, body, num_attempts, created_at) \
         SELECT id, endpoint_id, event_type, body, num_attempts FROM leased \
         ORDER BY created_at, id",
    )
    .bind(&tenant)
    .bind(limit)
    .bind(lease_secs as f64)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Outcome of one delivery attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Event id.
    pub event_id: Uuid,
    /// 1-based attempt number.
    pub attempt: i32,
    /// HTTP status of the response, if one arrived.
    pub response_status: Option<i32>,
    /// Cause of the failure, when the attempt failed.
    pub error: Option<String>,
    /// Time the attempt took, in milliseconds.
    pub duration_ms: i32,
}

/// Next state of an event after an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NextStep {
    /// Delivered; no more attempts.
    Delivered,
    /// Attempts exhausted or the destination is refused; no more attempts.
    Failed,
    /// Try again after this many seconds.
    RetryAfter(f64),
}

/// Records an attempt and moves the event to its next state.
#[instrument(skip_all, name = "store.webhooks.record_attempt", fields(tenant.path = %tx.tenant(), webhook.event_id = %attempt.event_id))]
pub async fn record_attempt(
    tx: &mut TenantTx,
    attempt: &Attempt,
    next: NextStep,
) -> Result<(), Error> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO webhook_deliveries (tenant_path, event_id, attempt, response_status, error, \
         duration_ms) VALUES ($1::ltree, $2, $3, $4, $5, $6)",
    )
    .bind(&tenant)
    .bind(attempt.event_id)
    .bind(attempt.attempt)
    .bind(attempt.response_status)
    .bind(attempt.error.as_deref())
    .bind(attempt.duration_ms)
    .execute(tx.conn())
    .await?;
    let (status, retry_secs) = match next {
        NextStep::Delivered => ("delivered", 0.0),
        NextStep::Failed => ("failed", 0.0),
        NextStep::RetryAfter(secs) => ("pending", secs),
    };
    sqlx::query(
        "UPDATE webhook_outbox SET num_attempts = $2, status = $3, \
         next_attempt_at = now() + make_interval(secs => $4), \
         finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END WHERE id = $1",
    )
    .bind(attempt.event_id)
    .bind(attempt.attempt)
    .bind(status)
    .bind(retry_secs)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Serialises the body of an event for an endpoint's format: the JSON
/// envelope (`id`, `type`, `tenant`, `occurred_at`, `data`), or a Slack or
/// Teams message that carries it under `secruna`.
pub fn render_body(
    format: &str,
    event_id: Uuid,
    event_type: &str,
    tenant: &str,
    data: &Value,
) -> Vec<u8> {
    let envelope = json!({
        "id": event_id,
        "type": event_type,
        "tenant": tenant,
        "occurred_at": Utc::now(),
        "data": data,
    });
    let summary = format!(
        "Secruna {event_type} in tenant {tenant}: {}",
        summarise(data)
    );
    let body = match format {
        "slack" => json!({"text": summary, "secruna": envelope}),
        "teams" => json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": format!("Secruna {event_type}"),
            "text": summary,
            "secruna": envelope,
        }),
        _ => envelope,
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Returns one line for chat formats: the audited action and entity, the
/// scan and its status, or the data's message.
fn summarise(data: &Value) -> String {
    let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default();
    if data.get("action").is_some() {
        format!("{} {}", text("action"), text("entity_id"))
    } else if data.get("scan_id").is_some() {
        format!("scan {} {}", text("scan_id"), text("status"))
    } else {
        text("message").to_owned()
    }
}

/// Writes an outbox row for every endpoint of the transaction's tenant that
/// subscribes to `event_type`, in the caller's transaction, so the event
/// commits or rolls back with the change that raised it. `data` becomes the
/// event's `data` member.
pub async fn raise(tx: &mut TenantTx, event_type: &str, data: &Value) -> Result<(), Error> {
    let subscribers = subscribers(tx, event_type).await?;
    let tenant = tx.context().path().slug_path();
    for (endpoint_id, format) in subscribers {
        let event_id = Uuid::now_v7();
        let body = render_body(&format, event_id, event_type, &tenant, data);
        enqueue(tx, event_id, endpoint_id, event_type, &body).await?;
    }
    Ok(())
}
